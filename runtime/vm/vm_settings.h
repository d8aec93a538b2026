// What a container's microVM is started with: the runvm-vmm binary, guest
// kernel, initramfs, memory and vCPUs. Defaults, then /etc/runvm/config.json
// ({"vmm","kernel","initrd","image_dir","memory_mib","vcpus","boot_timeout_s",
// "max_memory_mib","max_vcpus","vmm_seccomp","vmm_user","annotation_dirs","rootfs_cache",
// "rootfs_writeback","volume_cache","uncompressed_kernel","snapshots","snapshot_dir"};
// "kernel" may be a
// glob: the newest match), then the bundle's `io.runvm.vm.<key>`
// annotations, later ones winning. Annotations may not choose the VMM or the
// maxima, may not ask for more memory or vCPUs than the maxima (default: the
// host's memory and online CPUs), and may name a kernel or initrd only inside
// the guest image's directory or the config's "annotation_dirs", or a vmlinuz-*
// kernel next to the configured one (else a bundle could load any host file,
// such as an initramfs in /boot, into guest memory, where the guest reads it).
// Without "initrd", the guest image is runvm-initrd-<release>.img for the kernel's
// release (kernel_release.h) from "image_dir", /var/lib/runvm or <prefix>/lib/runvm;
// an image named for another release is refused. When that image's directory holds the
// kernel's extracted ELF copy (uncompressed_kernel.h), runvm-vmm boots the copy.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace runvm::runtime::vm {

inline constexpr const char* kSystemConfig = "/etc/runvm/config.json";
// Environment variable naming another system config file (tests, packaging).
inline constexpr const char* kConfigEnv = "RUNVM_CONFIG";
// The guest kernel when the config names none: Debian's linux-image-cloud-amd64.
inline constexpr const char* kDefaultKernelGlob = "/boot/vmlinuz-*-cloud-amd64";
// Where runvm-update-image writes guest images (searched before <prefix>/lib/runvm).
inline constexpr const char* kVarImageDir = "/var/lib/runvm";

inline constexpr const char* kDefaultRootfsCache = "always";
inline constexpr bool kDefaultRootfsWriteback = false;
// Where template VMs are saved (runtime/vm/vm_template.h).
inline constexpr const char* kDefaultSnapshotDir = "/var/lib/runvm/templates";

struct VmSettings {
  std::string vmm;     // runvm-vmm binary
  std::string kernel;  // guest kernel
  std::string initrd;  // guest initramfs (runvm-init + modules)
  uint64_t memory_mib = 512;
  unsigned vcpus = 1;
  unsigned boot_timeout_s = 180;       // until the agent answers
  uint64_t max_memory_mib = 1u << 20;  // what annotations and sizing may reach
  unsigned max_vcpus = 64;
  bool vmm_seccomp = true;  // false: runvm-vmm --no-seccomp (vmm/jail/README.md)
  // "UID[:GID]": runvm-vmm --user, the ids the VMM runs as once set up; "" keeps root.
  std::string vmm_user;
  std::string image_dir;  // searched first for runvm-initrd-<kernel release>.img
  // virtio-fs caching (`--fs ...:cache=MODE[:writeback]`, vmm/devices/virtio/fs/README.md):
  // the rootfs is written by this container alone, so the guest may keep what it read and
  // wrote; volumes are shared with the host and see its changes within a second.
  std::string rootfs_cache = kDefaultRootfsCache;  // none | auto | always
  bool rootfs_writeback = kDefaultRootfsWriteback;
  std::string volume_cache = "auto";
  // Boot the kernel's extracted ELF copy when the guest image's directory has a current one
  // (uncompressed_kernel.h); false boots the bzImage itself.
  bool uncompressed_kernel = true;
  // Start containers from a template VM's snapshot where their VM's shape allows
  // (runtime/vm/vm_template.h); false always boots. Both are the host's choice.
  bool snapshots = true;
  std::string snapshot_dir = kDefaultSnapshotDir;
  // What runvm-vmm boots: `kernel` or that copy (set by resolve_vm_settings only).
  std::string boot_kernel;

  [[nodiscard]] nlohmann::json to_json() const;
  [[nodiscard]] static Result<VmSettings> from_json(const nlohmann::json& j);
};

// The system config file: $RUNVM_CONFIG when set, else kSystemConfig.
[[nodiscard]] std::string system_config_path();

// Resolves the settings; every path must exist. `system_config` is the config
// file to read (missing is fine). Errors name the setting and where it came from.
[[nodiscard]] Result<VmSettings> resolve_vm_settings(
    const std::map<std::string, std::string>& annotations, const std::string& system_config);

}  // namespace runvm::runtime::vm
