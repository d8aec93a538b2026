// One vCPU's architectural state for a snapshot: general and special registers,
// FPU/XSAVE, XCRs, debug registers, the in-kernel LAPIC, pending events, the MP
// state and every MSR KVM lets the host read and write back.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "vmm/snapshot/state_buffer.h"

namespace runvm::vmm::snapshot {

struct VcpuState {
  kvm_regs regs{};
  kvm_sregs sregs{};
  // XSAVE area (KVM_GET_XSAVE/XSAVE2), or a kvm_fpu when KVM has no XSAVE.
  bool xsave = true;
  std::vector<uint8_t> fpu;
  bool has_xcrs = false;
  kvm_xcrs xcrs{};
  kvm_debugregs debugregs{};
  kvm_lapic_state lapic{};
  kvm_vcpu_events events{};
  kvm_mp_state mp_state{};
  std::vector<kvm_msr_entry> msrs;
};

// How the vCPUs of one VM are saved: the XSAVE size and the MSRs to carry. MSRs
// are those of KVM_GET_MSR_INDEX_LIST that vCPU `probe_fd` can read and take back
// unchanged (probing writes them: only on a vCPU that will not run again).
struct VcpuSaveSpec {
  size_t xsave_bytes = 0;  // 0: no XSAVE, use KVM_GET_FPU
  std::vector<uint32_t> msrs;
};
[[nodiscard]] Result<VcpuSaveSpec> vcpu_save_spec(int kvm_fd, int vm_fd, int probe_fd);

[[nodiscard]] Result<VcpuState> save_vcpu(int vcpu_fd, const VcpuSaveSpec& spec);
// Into a vCPU created and given its CPUID as at boot.
[[nodiscard]] Status restore_vcpu(int vcpu_fd, const VcpuState& s);

void encode_vcpu(StateWriter& w, const VcpuState& s);
[[nodiscard]] bool decode_vcpu(StateReader& r, VcpuState* s);

}  // namespace runvm::vmm::snapshot
