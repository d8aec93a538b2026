#include "vmm/snapshot/vcpu_state.h"

#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>

#include "vmm/kvm/ioctls.h"

namespace runvm::vmm::snapshot {

namespace {

// The flexible-array ioctls with the C layout (vmm/kvm/ioctls.h): kvm_msr_list has a
// 4-byte header, kvm_msrs an 8-byte one; kvm_xsave is 4096 bytes in C.
constexpr unsigned long kGetMsrIndexList = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x02, 4);
constexpr unsigned long kGetMsrs = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x88, 8);
constexpr size_t kXsaveLegacyBytes = 4096;
constexpr unsigned long kGetXsave = _IOC(_IOC_READ, KVMIO, 0xa4, kXsaveLegacyBytes);
constexpr unsigned long kSetXsave = _IOC(_IOC_WRITE, KVMIO, 0xa5, kXsaveLegacyBytes);
constexpr unsigned long kGetXsave2 = _IOC(_IOC_READ, KVMIO, 0xcf, kXsaveLegacyBytes);
constexpr uint32_t kMsrTsc = 0x10;
constexpr uint32_t kMsrTscDeadline = 0x6e0;
constexpr uint32_t kMaxMsrs = 4096;
constexpr uint32_t kMaxXsaveBytes = 1 << 20;

Status msr_io(int fd, unsigned long req, std::vector<kvm_msr_entry>* entries, const char* what) {
  kvm::FlexBuffer<kvm_msr_entry> buf(entries->size());
  buf.count() = static_cast<uint32_t>(entries->size());
  std::copy(entries->begin(), entries->end(), buf.entries());
  int n = ioctl(fd, req, buf.data());
  if (n < 0) return Error::from_errno(what);
  if (static_cast<size_t>(n) != entries->size()) {
    char idx[16];
    std::snprintf(idx, sizeof idx, "0x%x", (*entries)[static_cast<size_t>(n)].index);
    return Error(std::string(what) + ": MSR " + idx + " refused", EINVAL);
  }
  std::copy(buf.entries(), buf.entries() + n, entries->begin());
  return {};
}

Status vcpu_ioctl(int fd, unsigned long req, void* arg, const char* what) {
  if (ioctl(fd, req, arg) != 0) return Error::from_errno(what);
  return {};
}

}  // namespace

Result<VcpuSaveSpec> vcpu_save_spec(int kvm_fd, int vm_fd, int probe_fd) {
  VcpuSaveSpec spec;
  int x2 = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
  if (x2 > 0)
    spec.xsave_bytes = std::max<size_t>(static_cast<size_t>(x2), kXsaveLegacyBytes);
  else if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0)
    spec.xsave_bytes = kXsaveLegacyBytes;
  if (spec.xsave_bytes > kMaxXsaveBytes) return Error("XSAVE area larger than 1 MiB", EINVAL);

  std::vector<uint32_t> words(1 + kMaxMsrs, 0);
  words[0] = kMaxMsrs;
  if (ioctl(kvm_fd, kGetMsrIndexList, words.data()) != 0)
    return Error::from_errno("KVM_GET_MSR_INDEX_LIST");
  const uint32_t n = std::min(words[0], kMaxMsrs);
  for (uint32_t i = 0; i < n; ++i) {
    std::vector<kvm_msr_entry> one(1);
    one[0].index = words[1 + i];
    if (!msr_io(probe_fd, kGetMsrs, &one, "get") || !msr_io(probe_fd, kvm::kSetMsrs, &one, "set"))
      continue;
    spec.msrs.push_back(one[0].index);
  }
  // The TSC first: MSRs that count from it (the TSC deadline) follow it.
  std::stable_partition(spec.msrs.begin(), spec.msrs.end(),
                        [](uint32_t i) { return i == kMsrTsc; });
  return spec;
}

Result<VcpuState> save_vcpu(int fd, const VcpuSaveSpec& spec) {
  VcpuState s;
  if (auto r = vcpu_ioctl(fd, KVM_GET_REGS, &s.regs, "KVM_GET_REGS"); !r) return r.error();
  if (auto r = vcpu_ioctl(fd, KVM_GET_SREGS, &s.sregs, "KVM_GET_SREGS"); !r) return r.error();
  if (spec.xsave_bytes > 0) {
    s.fpu.assign(spec.xsave_bytes, 0);
    unsigned long req = spec.xsave_bytes > kXsaveLegacyBytes ? kGetXsave2 : kGetXsave;
    if (auto r = vcpu_ioctl(fd, req, s.fpu.data(), "KVM_GET_XSAVE"); !r) return r.error();
  } else {
    s.xsave = false;
    s.fpu.assign(sizeof(kvm_fpu), 0);
    if (auto r = vcpu_ioctl(fd, KVM_GET_FPU, s.fpu.data(), "KVM_GET_FPU"); !r) return r.error();
  }
  if (ioctl(fd, KVM_GET_XCRS, &s.xcrs) == 0)
    s.has_xcrs = true;
  else if (errno != EINVAL && errno != ENOTTY)
    return Error::from_errno("KVM_GET_XCRS");
  if (auto r = vcpu_ioctl(fd, KVM_GET_DEBUGREGS, &s.debugregs, "KVM_GET_DEBUGREGS"); !r)
    return r.error();
  if (auto r = vcpu_ioctl(fd, KVM_GET_LAPIC, &s.lapic, "KVM_GET_LAPIC"); !r) return r.error();
  if (auto r = vcpu_ioctl(fd, KVM_GET_VCPU_EVENTS, &s.events, "KVM_GET_VCPU_EVENTS"); !r)
    return r.error();
  if (auto r = vcpu_ioctl(fd, KVM_GET_MP_STATE, &s.mp_state, "KVM_GET_MP_STATE"); !r)
    return r.error();
  s.msrs.resize(spec.msrs.size());
  for (size_t i = 0; i < spec.msrs.size(); ++i) s.msrs[i].index = spec.msrs[i];
  if (auto r = msr_io(fd, kGetMsrs, &s.msrs, "KVM_GET_MSRS"); !r) return r.error();
  return s;
}

Status restore_vcpu(int fd, const VcpuState& in) {
  VcpuState s = in;  // the ioctls take non-const pointers
  // Firecracker's order: the MP state and registers, then the LAPIC (its mode comes
  // from sregs' APIC base), then MSRs (the TSC deadline needs the LAPIC), events last.
  if (auto r = vcpu_ioctl(fd, KVM_SET_MP_STATE, &s.mp_state, "KVM_SET_MP_STATE"); !r) return r;
  if (auto r = vcpu_ioctl(fd, KVM_SET_REGS, &s.regs, "KVM_SET_REGS"); !r) return r;
  if (auto r = vcpu_ioctl(fd, KVM_SET_SREGS, &s.sregs, "KVM_SET_SREGS"); !r) return r;
  if (s.xsave) {
    if (s.fpu.size() < kXsaveLegacyBytes) return Error("XSAVE area too short", EINVAL);
    if (auto r = vcpu_ioctl(fd, kSetXsave, s.fpu.data(), "KVM_SET_XSAVE"); !r) return r;
  } else {
    if (s.fpu.size() != sizeof(kvm_fpu)) return Error("FPU state of the wrong size", EINVAL);
    if (auto r = vcpu_ioctl(fd, KVM_SET_FPU, s.fpu.data(), "KVM_SET_FPU"); !r) return r;
  }
  if (s.has_xcrs)
    if (auto r = vcpu_ioctl(fd, KVM_SET_XCRS, &s.xcrs, "KVM_SET_XCRS"); !r) return r;
  if (auto r = vcpu_ioctl(fd, KVM_SET_DEBUGREGS, &s.debugregs, "KVM_SET_DEBUGREGS"); !r) return r;
  if (auto r = vcpu_ioctl(fd, KVM_SET_LAPIC, &s.lapic, "KVM_SET_LAPIC"); !r) return r;
  std::vector<kvm_msr_entry> rest, deadline;
  for (const auto& e : s.msrs) (e.index == kMsrTscDeadline ? deadline : rest).push_back(e);
  if (!rest.empty())
    if (auto r = msr_io(fd, kvm::kSetMsrs, &rest, "KVM_SET_MSRS"); !r) return r;
  if (!deadline.empty())
    if (auto r = msr_io(fd, kvm::kSetMsrs, &deadline, "KVM_SET_MSRS"); !r) return r;
  if (auto r = vcpu_ioctl(fd, KVM_SET_VCPU_EVENTS, &s.events, "KVM_SET_VCPU_EVENTS"); !r) return r;
  return {};
}

void encode_vcpu(StateWriter& w, const VcpuState& s) {
  w.put(s.regs);
  w.put(s.sregs);
  w.put<uint8_t>(s.xsave ? 1 : 0);
  w.put_blob(s.fpu);
  w.put<uint8_t>(s.has_xcrs ? 1 : 0);
  w.put(s.xcrs);
  w.put(s.debugregs);
  w.put(s.lapic);
  w.put(s.events);
  w.put(s.mp_state);
  w.put<uint32_t>(static_cast<uint32_t>(s.msrs.size()));
  for (const auto& e : s.msrs) w.put(e);
}

bool decode_vcpu(StateReader& r, VcpuState* s) {
  uint8_t xsave = 0, xcrs = 0;
  uint32_t n = 0;
  if (!r.get(&s->regs) || !r.get(&s->sregs) || !r.get(&xsave) ||
      !r.get_blob(&s->fpu, kMaxXsaveBytes) || !r.get(&xcrs) || !r.get(&s->xcrs) ||
      !r.get(&s->debugregs) || !r.get(&s->lapic) || !r.get(&s->events) || !r.get(&s->mp_state) ||
      !r.get(&n) || n > kMaxMsrs)
    return false;
  s->xsave = xsave != 0;
  s->has_xcrs = xcrs != 0;
  s->msrs.resize(n);
  for (auto& e : s->msrs)
    if (!r.get(&e)) return false;
  return true;
}

}  // namespace runvm::vmm::snapshot
