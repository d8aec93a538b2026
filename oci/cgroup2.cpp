#include "oci/cgroup2.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <set>
#include <sstream>

#include "base/file_io.h"

namespace runvm::oci {
namespace {

std::optional<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[512];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

std::string limit(int64_t v) {
  return v < 0 ? "max" : std::to_string(v);
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> cgroup_files(const Resources& r) {
  std::vector<std::pair<std::string, std::string>> f;
  if (const auto& m = r.memory) {
    if (m->limit) f.emplace_back("memory.max", limit(*m->limit));
    if (m->reservation) f.emplace_back("memory.low", limit(*m->reservation));
    if (m->swap) {
      // v1's swap is memory+swap; v2 limits swap alone.
      if (*m->swap < 0)
        f.emplace_back("memory.swap.max", "max");
      else if (m->limit && *m->limit >= 0) {
        if (*m->swap < *m->limit)
          return Error("memory.swap: must not be smaller than memory.limit", EINVAL);
        f.emplace_back("memory.swap.max", std::to_string(*m->swap - *m->limit));
      }
    }
  }
  if (const auto& c = r.cpu) {
    if (c->shares && *c->shares > 0) {
      uint64_t s = std::min<uint64_t>(std::max<uint64_t>(*c->shares, 2), 262144);
      f.emplace_back("cpu.weight", std::to_string(1 + ((s - 2) * 9999) / 262142));
    }
    if (c->quota || c->period) {
      std::string q = c->quota && *c->quota > 0 ? std::to_string(*c->quota) : "max";
      f.emplace_back("cpu.max", q + " " + std::to_string(c->period.value_or(100000)));
    }
    if (c->idle) f.emplace_back("cpu.idle", std::to_string(*c->idle));
    if (c->cpus && !c->cpus->empty()) f.emplace_back("cpuset.cpus", *c->cpus);
    if (c->mems && !c->mems->empty()) f.emplace_back("cpuset.mems", *c->mems);
  }
  if (r.pids) f.emplace_back("pids.max", r.pids->limit > 0 ? std::to_string(r.pids->limit) : "max");
  if (r.blockIO && r.blockIO->weight && *r.blockIO->weight > 0) {
    uint64_t w = std::min<uint64_t>(std::max<uint64_t>(*r.blockIO->weight, 10), 1000);
    f.emplace_back("io.weight", "default " + std::to_string(1 + (w - 10) * 9999 / 990));
  }
  if (r.hugepageLimits)
    for (const auto& h : *r.hugepageLimits)
      f.emplace_back("hugetlb." + h.pageSize + ".max", std::to_string(h.limit));
  if (r.unified) {
    for (const auto& [k, v] : *r.unified) {
      if (k.empty() || k.find('/') != std::string::npos || k == "." || k == ".." ||
          k.find('.') == std::string::npos)
        return Error("unified[\"" + k + "\"]: invalid file name", EINVAL);
      f.emplace_back(k, v);
    }
  }
  return f;
}

Status setup_cgroup(const Resources& r, const std::string& dir) {
  auto files = cgroup_files(r);
  if (!files) return files.error().wrap("linux.resources");
  std::string parent = dir.substr(0, dir.rfind('/'));
  if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) return Error::from_errno("mkdir " + dir);
  std::set<std::string> controllers;
  for (const auto& [name, _] : *files) controllers.insert(name.substr(0, name.find('.')));
  // The controllers `runvm events` reads from, where the kernel has them (best effort:
  // a missing one only leaves its statistics at zero).
  if (auto avail = read_file(parent + "/cgroup.controllers")) {
    std::istringstream in(*avail);
    for (std::string c; in >> c;)
      if ((c == "cpu" || c == "memory" || c == "pids") && !controllers.count(c))
        (void)write_control_file(parent + "/cgroup.subtree_control", "+" + c);
  }
  for (const auto& c : controllers) {
    if (c == "cgroup") continue;  // core files need no controller
    if (auto s = write_control_file(parent + "/cgroup.subtree_control", "+" + c); !s)
      return s.error().wrap("enable the " + c + " controller");
  }
  for (const auto& [name, value] : *files)
    if (auto s = write_control_file(dir + "/" + name, value); !s)
      return s.error().wrap("linux.resources");
  return {};
}

bool is_cgroup2(const std::string& path) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

Status join_cgroup(const std::string& dir) {
  return write_control_file(dir + "/cgroup.procs", "0");
}

}  // namespace runvm::oci
