#include "runtime/vm/host_cgroup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "base/file_io.h"
#include "base/path_components.h"
#include "oci/cgroup2.h"
#include "oci/parse.h"

namespace runvm::runtime::vm {

namespace {

// "a-b-c.slice" -> "a.slice/a-b.slice/a-b-c.slice"; "-.slice" -> "" (the root).
Result<std::string> expand_slice(const std::string& slice, const std::string& where) {
  if (slice == "-.slice") return std::string();
  const std::string suffix = ".slice";
  if (slice.size() <= suffix.size() ||
      slice.compare(slice.size() - suffix.size(), suffix.size(), suffix) != 0 ||
      slice.find('/') != std::string::npos)
    return Error(where + ": \"" + slice + "\" is not a systemd slice name", EINVAL);
  const std::string stem = slice.substr(0, slice.size() - suffix.size());
  std::string path, prefix;
  size_t start = 0;
  while (true) {
    size_t dash = stem.find('-', start);
    std::string part = stem.substr(0, dash);
    if (part.empty() || part.back() == '-' ||
        (dash != std::string::npos && dash + 1 == stem.size()))
      return Error(where + ": \"" + slice + "\" is not a valid slice name", EINVAL);
    path += (path.empty() ? "" : "/") + part + suffix;
    if (dash == std::string::npos) break;
    start = dash + 1;
  }
  return path;
}

std::set<std::string> controllers_of(const std::vector<std::pair<std::string, std::string>>& f) {
  std::set<std::string> out;
  for (const auto& [name, _] : f) {
    std::string c = name.substr(0, name.find('.'));
    if (c != "cgroup") out.insert(c);
  }
  return out;
}

}  // namespace

nlohmann::json HostCgroup::to_json() const {
  return {{"dir", dir}, {"resources", oci::to_json(resources)}, {"fs_devices", fs_devices}};
}

Result<HostCgroup> HostCgroup::from_json(const nlohmann::json& j) {
  HostCgroup cg;
  if (!j.is_object() || !j.contains("dir") || !j["dir"].is_string())
    return Error("host cgroup: no dir", EINVAL);
  cg.dir = j["dir"].get<std::string>();
  if (j.contains("fs_devices") && j["fs_devices"].is_number_unsigned())
    cg.fs_devices = j["fs_devices"].get<unsigned>();
  if (j.contains("resources")) {
    auto r = oci::resources_from_json(j["resources"]);
    if (!r) return r.error().wrap("host cgroup");
    cg.resources = std::move(*r);
  }
  return cg;
}

Result<std::string> host_cgroup_dir(const std::string& cgroups_path, bool systemd,
                                    const std::string& root) {
  const std::string where = "linux.cgroupsPath \"" + cgroups_path + "\"";
  std::string rel;
  if (systemd) {
    // slice:prefix:name (runc's systemd driver); an empty slice is system.slice.
    size_t a = cgroups_path.find(':');
    size_t b = a == std::string::npos ? a : cgroups_path.find(':', a + 1);
    if (b == std::string::npos || cgroups_path.find(':', b + 1) != std::string::npos)
      return Error(where + ": expected slice:prefix:name with --systemd-cgroup", EINVAL);
    std::string slice = cgroups_path.substr(0, a);
    std::string prefix = cgroups_path.substr(a + 1, b - a - 1);
    std::string name = cgroups_path.substr(b + 1);
    if (name.empty() || name.find('/') != std::string::npos ||
        prefix.find('/') != std::string::npos)
      return Error(where + ": bad unit name", EINVAL);
    auto sp = expand_slice(slice.empty() ? "system.slice" : slice, where);
    if (!sp) return sp.error();
    rel = *sp + "/" + (prefix.empty() ? "" : prefix + "-") + name + ".scope";
  } else {
    if (cgroups_path.find(':') != std::string::npos && cgroups_path[0] != '/')
      return Error(where + ": a slice:prefix:name path needs --systemd-cgroup", EINVAL);
    rel = cgroups_path;
  }
  std::string dir = root;
  auto parts = path_components(rel);
  if (parts.empty()) return Error(where + ": names the cgroup root", EINVAL);
  for (const auto& c : parts) {
    if (c == "..") return Error(where + ": must not contain \"..\"", EINVAL);
    if (c == ".") continue;
    dir += "/" + c;
  }
  if (dir == root) return Error(where + ": names the cgroup root", EINVAL);
  return dir;
}

oci::Resources host_cgroup_resources(const oci::Resources* config, uint64_t vm_memory_mib,
                                     unsigned vcpus, unsigned fs_devices) {
  oci::Resources r;
  if (!config) return r;
  if (config->cpu) {
    oci::CPU c;
    c.shares = config->cpu->shares;
    c.quota = config->cpu->quota;
    c.period = config->cpu->period;
    c.cpus = config->cpu->cpus;
    c.mems = config->cpu->mems;
    if (c.shares || c.quota || c.period || c.cpus || c.mems) r.cpu = c;
  }
  if (config->memory && config->memory->limit && *config->memory->limit > 0) {
    oci::Memory m;
    m.limit = static_cast<int64_t>((vm_memory_mib + kVmmOverheadMib) << 20);
    r.memory = m;
  }
  if (config->pids && config->pids->limit > 0)
    r.pids = oci::Pids{kVmmPidsBase + static_cast<int64_t>(vcpus) +
                       4 * static_cast<int64_t>(fs_devices)};
  return r;
}

Status enter_host_cgroup(const HostCgroup& cg, const std::string& root) {
  auto files = oci::cgroup_files(cg.resources);
  if (!files) return files.error().wrap("host cgroup " + cg.dir);
  const auto controllers = controllers_of(*files);
  if (cg.dir.compare(0, root.size() + 1, root + "/") != 0)
    return Error("host cgroup " + cg.dir + ": not below " + root, EINVAL);
  // Every level below the root: the directory, and the controllers for the next level.
  std::string cur = root;
  for (const auto& c : path_components(cg.dir.substr(root.size()))) {
    for (const auto& ctl : controllers)
      if (auto ok = write_control_file(cur + "/cgroup.subtree_control", "+" + ctl); !ok)
        return ok.error().wrap("host cgroup: enable the " + ctl + " controller in " + cur);
    cur += "/" + c;
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
      return Error::from_errno("host cgroup: mkdir " + cur);
  }
  if (auto ok = oci::setup_cgroup(cg.resources, cg.dir); !ok) return ok.error().wrap("host cgroup");
  if (auto ok = oci::join_cgroup(cg.dir); !ok)
    return ok.error().wrap("host cgroup: join " + cg.dir);
  return {};
}

Status update_host_cgroup(const HostCgroup& cg) {
  if (cg.dir.empty()) return {};
  auto files = oci::cgroup_files(cg.resources);
  if (!files) return files.error().wrap("host cgroup " + cg.dir);
  for (const auto& [name, value] : *files)
    if (auto ok = write_control_file(cg.dir + "/" + name, value); !ok)
      return ok.error().wrap("host cgroup");
  return {};
}

Status remove_host_cgroup(const std::string& dir, int wait_ms) {
  if (dir.empty()) return {};
  for (int waited = 0;; waited += 20) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY || waited >= wait_ms) return Error::from_errno("remove host cgroup " + dir);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace runvm::runtime::vm
