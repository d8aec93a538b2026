// Volumes: the bundle's bind mounts of host directories reach the guest as extra
// virtio-fs shares, one per host directory and access mode (tag runvm-vol<N>),
// which guest-init mounts at /run/runvm/shares/<tag> (runvm.share=<tag> on the
// kernel command line). The container's mount becomes a guest-side bind of that
// share with the original options: the guest applies ro/rw, nosuid/nodev/noexec,
// atime flags and propagation as runc does for a bind and ignores the rest
// (mode=, size=, ...). `ro` also makes the share read-only in the VMM.
//
// Bind mounts of single files (Docker's and CRI's /etc/hosts, /etc/resolv.conf,
// /etc/hostname, termination logs) cannot be shared by sharing their parent
// directory: that would expose the siblings. Each file is bind-mounted instead,
// in the VMM's own mount namespace only, onto an empty placeholder in a small
// tmpfs over the container's state directory's files/rw or files/ro (<dir>/<N>); those two
// directories are shared as runvm-files and runvm-files-ro (read-only in the
// VMM), guest-init mounts them at /run/runvm/shares/<tag> (runvm.share=<tag> on
// the kernel command line), and the container's mount becomes a guest-side bind
// of /run/runvm/shares/<tag>/<N>. Reads and writes reach the host file itself,
// as with runc. Devices and other special files still fail create.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace runvm::runtime::vm {

inline constexpr const char* kFilesTag = "runvm-files";
inline constexpr const char* kFilesReadOnlyTag = "runvm-files-ro";

struct Volume {
  std::string tag;        // virtio-fs tag
  std::string host_path;  // resolved host directory
  bool readonly = false;
};

struct FileBind {
  std::string host_path;    // resolved host file
  std::string staged;       // placeholder in the state directory the file is bound onto
  bool readonly = false;    // also bound read-only on the host side
  std::string destination;  // in the container
};

struct SharedMounts {
  std::vector<Volume> volumes;             // one virtio-fs device each (the file shares included)
  std::vector<FileBind> files;             // bound in the VMM's mount namespace before it starts
  std::vector<std::string> guest_shares;   // tags guest-init mounts under agent::kGuestSharesDir
  std::string files_rw_dir, files_ro_dir;  // the file shares' roots; empty: no such file
};

// Whether a config.json mounts[] entry is a bind mount (type bind, or a bind/rbind option).
[[nodiscard]] bool is_bind_mount(const nlohmann::json& m);

// A bind mount's host side, checked: the resolved source, directory or regular file,
// ro/rw (the last one wins) and the options left for the guest-side bind.
struct BindSource {
  std::string real;
  bool directory = false;
  bool readonly = false;
  nlohmann::json options;
};
// Errors name the mount: `mounts[2].source "/srv/x": No such file or directory`.
[[nodiscard]] Result<BindSource> resolve_bind_source(const nlohmann::json& m, size_t index,
                                                     const std::string& bundle_dir);

// Rewrites `config` (the bundle's config.json document) in place and returns
// the shares the VMM must add. Relative sources are relative to `bundle_dir`;
// file placeholders go under `files_dir` (created by stage_file_binds).
// Errors name the mount: `mounts[2].source "/srv/x": No such file or directory`.
[[nodiscard]] Result<SharedMounts> share_bind_mounts(nlohmann::json& config,
                                                     const std::string& bundle_dir,
                                                     const std::string& files_dir);

// Creates files_dir, files_dir/rw and files_dir/ro (empty: the placeholders are
// made in the VMM's namespace).
[[nodiscard]] Status stage_file_binds(const SharedMounts& shared, const std::string& files_dir);

// In a child about to exec the VMM: a private mount namespace (host mounts still
// propagate in, ours never out); the file shares' roots (files_dir/rw, files_dir/ro) each become a
// small tmpfs (1 MiB, 4096 inodes: what the guest can add there is bounded and
// goes with the VM, nothing is left in the state directory), holding a
// placeholder for every file with the file bound onto it. Returns 0, or an errno
// with `what` naming the failed step. Only system calls and strings built
// before: safe between fork and exec.
int bind_files_in_new_namespace(const SharedMounts& shared, const char** what);

}  // namespace runvm::runtime::vm
