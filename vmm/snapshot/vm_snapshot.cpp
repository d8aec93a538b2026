#include "vmm/snapshot/vm_snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "base/fnv1a.h"
#include "vmm/snapshot/memory_file.h"
#include "vmm/snapshot/state_buffer.h"
#include "vmm/snapshot/vcpu_state.h"
#include "vmm/snapshot/vm_state.h"

namespace runvm::vmm::snapshot {

namespace {

constexpr const char* kMachineSection = "machine";
constexpr const char* kVmSection = "vm";
constexpr const char* kDevicesSection = "devices";

std::string vcpu_section(size_t i) {
  return "vcpu" + std::to_string(i);
}

void encode_machine(StateWriter& w, const MachineInfo& m) {
  w.put(m.memory_mib);
  w.put(m.cpus);
  w.put(m.cpuid_hash);
}

}  // namespace

uint64_t hash_cpuid(const std::vector<kvm_cpuid_entry2>& in) {
  // KVM reports the APIC id of the host CPU the caller runs on (leaf 1 EBX[31:24],
  // leaves 0xB/0x1F EDX): not a property of the host, and patched per vCPU anyway.
  std::vector<kvm_cpuid_entry2> cpuid = in;
  for (auto& e : cpuid) {
    if (e.function == 1) e.ebx &= 0x00ffffffu;
    if (e.function == 0xb || e.function == 0x1f) e.edx = 0;
  }
  return fnv1a(cpuid.data(), cpuid.size() * sizeof(kvm_cpuid_entry2));
}

Result<SaveFiles> open_save_files(const std::string& dir) {
  SaveFiles f;
  f.dir = dir;
  const std::string state = dir + "/" + kStateFileName, memory = dir + "/" + kMemoryFileName;
  f.state = UniqueFd(::open(state.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!f.state.valid()) return Error::from_errno("snapshot: create " + state);
  f.memory = UniqueFd(::open(memory.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!f.memory.valid()) return Error::from_errno("snapshot: create " + memory);
  return f;
}

Status save_snapshot(SaveFiles& files, const SaveInput& in) {
  if (std::string why = in.devices->snapshot_blocker(); !why.empty())
    return Error("snapshot: cannot save the VM now: " + why, EBUSY);
  for (kvm::Vcpu* v : in.vcpus)
    if (auto s = v->complete_pending_exit(); !s) return s.error().wrap("snapshot");
  auto spec = vcpu_save_spec(in.kvm_fd, in.vm_fd, in.probe_vcpu_fd);
  if (!spec) return std::move(spec).error().wrap("snapshot");
  Sections sections;
  {
    StateWriter w;
    encode_machine(w, in.machine);
    sections[kMachineSection] = w.take();
  }
  auto vm = save_vm(in.vm_fd);
  if (!vm) return std::move(vm).error().wrap("snapshot");
  {
    StateWriter w;
    encode_vm(w, *vm);
    sections[kVmSection] = w.take();
  }
  for (size_t i = 0; i < in.vcpus.size(); ++i) {
    auto st = save_vcpu(in.vcpus[i]->fd(), *spec);
    if (!st) return std::move(st).error().wrap("snapshot: vcpu " + std::to_string(i));
    StateWriter w;
    encode_vcpu(w, *st);
    sections[vcpu_section(i)] = w.take();
  }
  {
    StateWriter w;
    in.devices->save_state(w);
    sections[kDevicesSection] = w.take();
  }
  // Memory first: a state file names a complete memory file.
  if (auto s = save_memory(*in.memory, files.memory.get(), files.dir + "/" + kMemoryFileName); !s)
    return s.error().wrap("snapshot");
  return write_state_file(files.state.get(), sections, files.dir + "/" + kStateFileName);
}

Result<RestoreSource> open_restore(const std::string& dir, const MachineInfo& expected) {
  RestoreSource src;
  src.dir = dir;
  const std::string state = dir + "/" + kStateFileName, memory = dir + "/" + kMemoryFileName;
  UniqueFd sfd(::open(state.c_str(), O_RDONLY | O_CLOEXEC));
  if (!sfd.valid()) return Error::from_errno("snapshot: open " + state);
  auto sections = read_state_file(sfd.get(), state);
  if (!sections) return std::move(sections).error().wrap("snapshot");
  src.sections = std::move(*sections);
  for (const char* need : {kMachineSection, kVmSection, kDevicesSection})
    if (!src.sections.count(need))
      return Error("snapshot: " + state + " has no " + need + " section", EINVAL);
  StateReader r(src.sections.at(kMachineSection));
  MachineInfo m;
  if (!r.get(&m.memory_mib) || !r.get(&m.cpus) || !r.get(&m.cpuid_hash) || !r.finished())
    return Error("snapshot: " + state + ": bad machine section", EINVAL);
  if (m.memory_mib != expected.memory_mib || m.cpus != expected.cpus)
    return Error("snapshot: " + state + " is of a VM with " + std::to_string(m.memory_mib) +
                     " MiB and " + std::to_string(m.cpus) + " vCPUs, this one has " +
                     std::to_string(expected.memory_mib) + " MiB and " +
                     std::to_string(expected.cpus),
                 EINVAL);
  if (m.cpuid_hash != expected.cpuid_hash)
    return Error("snapshot: " + state + " was made on a host whose KVM offers another CPUID",
                 EINVAL);
  for (uint32_t i = 0; i < m.cpus; ++i)
    if (!src.sections.count(vcpu_section(i)))
      return Error("snapshot: " + state + " has no state for vcpu " + std::to_string(i), EINVAL);
  src.memory = UniqueFd(::open(memory.c_str(), O_RDONLY | O_CLOEXEC));
  if (!src.memory.valid()) return Error::from_errno("snapshot: open " + memory);
  return src;
}

Status restore_cpu_state(const RestoreSource& src, int vm_fd,
                         const std::vector<kvm::Vcpu*>& vcpus) {
  VmState vm;
  StateReader r(src.sections.at(kVmSection));
  if (!decode_vm(r, &vm) || !r.finished())
    return Error("snapshot: bad vm section in " + src.dir, EINVAL);
  if (auto s = restore_vm(vm_fd, vm); !s) return s.error().wrap("snapshot: restore VM state");
  for (size_t i = 0; i < vcpus.size(); ++i) {
    VcpuState st;
    StateReader vr(src.sections.at(vcpu_section(i)));
    if (!decode_vcpu(vr, &st) || !vr.finished())
      return Error("snapshot: bad state of vcpu " + std::to_string(i) + " in " + src.dir, EINVAL);
    if (auto s = restore_vcpu(vcpus[i]->fd(), st); !s)
      return s.error().wrap("snapshot: restore vcpu " + std::to_string(i));
  }
  return {};
}

Status restore_device_state(const RestoreSource& src, DeviceManager& devices) {
  StateReader r(src.sections.at(kDevicesSection));
  if (auto s = devices.restore_state(r); !s) return s.error().wrap("snapshot: devices");
  if (!r.finished()) return Error("snapshot: devices: trailing state", EINVAL);
  return {};
}

}  // namespace runvm::vmm::snapshot
