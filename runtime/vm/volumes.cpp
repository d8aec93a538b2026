#include "runtime/vm/volumes.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "agent/guest_contract.h"

namespace runvm::runtime::vm {

bool is_bind_mount(const nlohmann::json& m) {
  if (!m.is_object()) return false;
  if (m.value("type", "") == "bind") return true;
  if (m.contains("options") && m["options"].is_array()) {
    for (const auto& o : m["options"])
      if (o.is_string() && (o == "bind" || o == "rbind")) return true;
  }
  return false;
}

Result<BindSource> resolve_bind_source(const nlohmann::json& m, size_t index,
                                       const std::string& bundle_dir) {
  const std::string where = "mounts[" + std::to_string(index) + "].source";
  if (!m.contains("source") || !m["source"].is_string() || m["source"].get<std::string>().empty())
    return Error(where + ": a bind mount needs a source", EINVAL);
  std::string source = m["source"];
  if (source[0] != '/') source = bundle_dir + "/" + source;
  char real[PATH_MAX];
  if (!::realpath(source.c_str(), real)) {
    return Error(where + " \"" + source + "\": " + std::strerror(errno), errno);
  }
  struct stat st;
  if (::stat(real, &st) != 0) return Error::from_errno(where + " \"" + source + "\"");
  if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
    return Error(where + " \"" + source +
                     "\": only directories and regular files can be bind-mounted into the "
                     "microVM (devices, sockets and fifos are not supported)",
                 ENOTSUP);
  }
  BindSource b;
  b.real = real;
  b.directory = S_ISDIR(st.st_mode);
  // ro/rw: the last one wins, as with mount(8). Every other option (nosuid, atime flags,
  // propagation, and ones a bind ignores such as mode= or size=) is the guest-side
  // bind's to apply or drop.
  b.options = nlohmann::json::array();
  if (m.contains("options") && m["options"].is_array()) {
    for (const auto& o : m["options"]) {
      if (o == "bind" || o == "rbind") continue;
      if (o == "ro" || o == "rw") b.readonly = o == "ro";
      b.options.push_back(o);
    }
  }
  return b;
}

Result<SharedMounts> share_bind_mounts(nlohmann::json& config, const std::string& bundle_dir,
                                       const std::string& files_dir) {
  SharedMounts out;
  if (!config.contains("mounts") || !config["mounts"].is_array()) return out;
  auto& mounts = config["mounts"];
  bool rw_files = false, ro_files = false;
  for (size_t i = 0; i < mounts.size(); ++i) {
    auto& m = mounts[i];
    if (!is_bind_mount(m)) continue;
    auto b = resolve_bind_source(m, i, bundle_dir);
    if (!b) return b.error();
    const std::string& real = b->real;
    const bool readonly = b->readonly;
    std::string guest_source;
    if (b->directory) {
      // One share per host directory and access mode, however often it is mounted.
      auto same = std::find_if(out.volumes.begin(), out.volumes.end(), [&](const Volume& v) {
        return v.host_path == real && v.readonly == readonly;
      });
      if (same == out.volumes.end()) {
        out.volumes.push_back({"runvm-vol" + std::to_string(out.volumes.size()), real, readonly});
        out.guest_shares.push_back(out.volumes.back().tag);
        same = out.volumes.end() - 1;
      }
      guest_source = std::string(agent::kGuestSharesDir) + "/" + same->tag;
    } else {
      const std::string n = std::to_string(out.files.size());
      const char* tag = readonly ? kFilesReadOnlyTag : kFilesTag;
      (readonly ? ro_files : rw_files) = true;
      out.files.push_back({real, files_dir + (readonly ? "/ro/" : "/rw/") + n, readonly,
                           m.value("destination", "")});
      guest_source = std::string(agent::kGuestSharesDir) + "/" + tag + "/" + n;
    }
    m["type"] = "bind";
    m["source"] = guest_source;
    m["options"] = b->options;
  }
  // File shares after the directory volumes, so runvm-vol<N> numbering is stable.
  if (rw_files) {
    out.files_rw_dir = files_dir + "/rw";
    out.volumes.push_back({kFilesTag, out.files_rw_dir, false});
    out.guest_shares.push_back(kFilesTag);
  }
  if (ro_files) {
    out.files_ro_dir = files_dir + "/ro";
    out.volumes.push_back({kFilesReadOnlyTag, out.files_ro_dir, true});
    out.guest_shares.push_back(kFilesReadOnlyTag);
  }
  return out;
}

Status stage_file_binds(const SharedMounts& shared, const std::string& files_dir) {
  if (shared.files.empty()) return {};
  for (const std::string& d : {files_dir, files_dir + "/rw", files_dir + "/ro"})
    if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) return Error::from_errno("mkdir " + d);
  return {};
}

namespace {

// The tmpfs each file share's root is in the VMM's namespace: the guest may add
// files beside the placeholders, and that space must be bounded and must not
// outlive the VM (docs/security.md).
constexpr const char* kFilesTmpfsOptions = "size=1m,nr_inodes=4096,mode=0700";

int mount_files_tmpfs(const std::string& dir, const char** what) {
  if (dir.empty()) return 0;  // no file of this access mode
  if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              kFilesTmpfsOptions) != 0) {
    *what = dir.c_str();
    return errno;
  }
  return 0;
}

}  // namespace

int bind_files_in_new_namespace(const SharedMounts& shared, const char** what) {
  const std::vector<FileBind>& files = shared.files;
  if (files.empty()) return 0;
  if (::unshare(CLONE_NEWNS) != 0) {
    *what = "unshare(CLONE_NEWNS) for the file bind mounts";
    return errno;
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    *what = "make / a slave mount";
    return errno;
  }
  if (int e = mount_files_tmpfs(shared.files_rw_dir, what); e != 0) return e;
  if (int e = mount_files_tmpfs(shared.files_ro_dir, what); e != 0) return e;
  for (const auto& f : files) {
    int fd = ::open(f.staged.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      *what = f.staged.c_str();
      return errno;
    }
    ::close(fd);
    if (::mount(f.host_path.c_str(), f.staged.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      *what = f.host_path.c_str();
      return errno;
    }
    if (f.readonly && ::mount(nullptr, f.staged.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY,
                              nullptr) != 0) {
      *what = f.host_path.c_str();
      return errno;
    }
  }
  const std::string& ro = shared.files_ro_dir;
  if (!ro.empty() &&
      ::mount(nullptr, ro.c_str(), nullptr,
              MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    *what = ro.c_str();
    return errno;
  }
  return 0;
}

}  // namespace runvm::runtime::vm
