// Saving a whole VM into a snapshot directory and starting one from it
// (vmm/snapshot/README.md): the machine section (what the VM was built with), the
// VM-wide KVM state, each vCPU, the devices, and the guest memory file.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vmm/devices/device_manager.h"
#include "vmm/kvm/vcpu.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/snapshot/snapshot_file.h"

namespace runvm::vmm::snapshot {

inline constexpr const char* kStateFileName = "vm.state";
inline constexpr const char* kMemoryFileName = "memory";

// What a snapshot can only be restored into: the same guest RAM and vCPU count on
// a host whose KVM offers the same CPUID (a hash of KVM_GET_SUPPORTED_CPUID).
struct MachineInfo {
  uint64_t memory_mib = 0;
  uint32_t cpus = 0;
  uint64_t cpuid_hash = 0;
};
uint64_t hash_cpuid(const std::vector<kvm_cpuid_entry2>& cpuid);

// The two files, created (truncated) before the VMM enters its mount jail.
struct SaveFiles {
  std::string dir;
  UniqueFd state, memory;
};
[[nodiscard]] Result<SaveFiles> open_save_files(const std::string& dir);

struct SaveInput {
  int kvm_fd = -1;
  int vm_fd = -1;
  std::vector<kvm::Vcpu*> vcpus;  // stopped: run() has returned on each
  // A vCPU created for this (never run), on which the MSRs to save are probed.
  int probe_vcpu_fd = -1;
  const DeviceManager* devices = nullptr;
  const GuestMemory* memory = nullptr;
  MachineInfo machine;
};
// Fails, naming why, while a device holds state a snapshot cannot carry.
[[nodiscard]] Status save_snapshot(SaveFiles& files, const SaveInput& in);

// A snapshot opened for restore: its state sections checked and its memory file open.
struct RestoreSource {
  std::string dir;
  Sections sections;
  UniqueFd memory;
};
// Refuses, naming the difference, a snapshot made for another machine.
[[nodiscard]] Result<RestoreSource> open_restore(const std::string& dir,
                                                 const MachineInfo& expected);
// Into the VM and its vCPUs, created and given their CPUID as for a boot.
[[nodiscard]] Status restore_cpu_state(const RestoreSource& src, int vm_fd,
                                       const std::vector<kvm::Vcpu*>& vcpus);
[[nodiscard]] Status restore_device_state(const RestoreSource& src, DeviceManager& devices);

}  // namespace runvm::vmm::snapshot
