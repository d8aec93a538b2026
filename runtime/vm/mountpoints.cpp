#include "runtime/vm/mountpoints.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <vector>

namespace runvm::runtime::vm {

namespace {

int open_in_root(int root, const std::string& rel) {
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, root, rel.c_str(), &how, sizeof how));
}

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream in(path);
  std::string c;
  while (std::getline(in, c, '/'))
    if (!c.empty() && c != ".") out.push_back(c);
  return out;
}

bool below(const std::string& path, const std::string& dir) {
  auto p = components(path), d = components(dir);
  if (d.size() >= p.size()) return false;
  for (size_t i = 0; i < d.size(); ++i)
    if (p[i] != d[i]) return false;
  return true;
}

void make_one(int root, const std::string& destination, bool is_file) {
  std::string prefix = ".";
  const auto parts = components(destination);
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& c = parts[i];
    if (c == "..") return;  // the guest resolves such paths; nothing to pre-create
    const std::string next = prefix + "/" + c;
    int fd = open_in_root(root, next);
    if (fd < 0 && errno == ENOENT) {
      int parent = open_in_root(root, prefix);
      if (parent < 0) return;
      // Neither mkdirat nor O_CREAT|O_EXCL follows a final symlink: a dangling one
      // gives EEXIST and the re-open below (resolved in the root) decides.
      if (is_file && i + 1 == parts.size()) {
        int f =
            ::openat(parent, c.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (f >= 0) ::close(f);
      } else {
        (void)::mkdirat(parent, c.c_str(), 0755);
      }
      ::close(parent);
      fd = open_in_root(root, next);
    }
    if (fd < 0) return;
    ::close(fd);
    prefix = next;
  }
}

}  // namespace

void make_mountpoints(const std::string& rootfs, const nlohmann::json& config,
                      const std::set<std::string>& file_destinations) {
  if (!config.contains("mounts") || !config["mounts"].is_array()) return;
  int root = ::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return;
  std::vector<std::string> done;
  for (const auto& m : config["mounts"]) {
    if (!m.is_object() || !m.contains("destination") || !m["destination"].is_string()) continue;
    const std::string dest = m["destination"];
    bool nested = false;
    for (const auto& d : done) nested = nested || below(dest, d);
    if (!nested) make_one(root, dest, file_destinations.count(dest) != 0);
    done.push_back(dest);
  }
  ::close(root);
}

}  // namespace runvm::runtime::vm
