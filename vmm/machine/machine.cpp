#include "vmm/machine/machine.h"

#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "base/monotonic.h"
#include "vmm/arch/x86_64/cpu_setup.h"
#include "vmm/arch/x86_64/cpuid.h"
#include "vmm/boot/kernel_image.h"
#include "vmm/boot/linux_boot.h"
#include "vmm/boot/mapped_file.h"
#include "vmm/event/event_loop.h"
#include "vmm/jail/fd_limits.h"
#include "vmm/jail/jail.h"
#include "vmm/jail/mount_jail.h"
#include "vmm/kvm/kvm.h"
#include "vmm/kvm/kvm_pci_services.h"
#include "vmm/kvm/vcpu.h"
#include "vmm/snapshot/memory_file.h"
#include "vmm/snapshot/snapshot_point.h"
#include "vmm/snapshot/vm_snapshot.h"

namespace runvm::vmm {

namespace {

// Leaf 1 of the host-supported CPUID, for the MP table's CPU entries.
void cpu_signature(const std::vector<kvm_cpuid_entry2>& cpuid, uint32_t* sig, uint32_t* feat) {
  for (const auto& e : cpuid) {
    if (e.function == 1) {
      *sig = e.eax;
      *feat = e.edx;
    }
  }
}

Status setup_vcpu_cpuid(kvm::Vcpu& vcpu, const std::vector<kvm_cpuid_entry2>& supported,
                        unsigned cpus) {
  auto cpuid = supported;
  x86_64::patch_cpuid(cpuid, vcpu.id(), cpus);
  return x86_64::setup_cpuid(vcpu.fd(), cpuid);
}

Status setup_vcpu(kvm::Vcpu& vcpu, const std::vector<kvm_cpuid_entry2>& supported, unsigned cpus,
                  const boot::LinuxBootInfo& boot) {
  if (auto s = setup_vcpu_cpuid(vcpu, supported, cpus); !s) return s;
  if (auto s = x86_64::setup_msrs(vcpu.fd()); !s) return s;
  if (auto s = x86_64::setup_lapic(vcpu.fd()); !s) return s;
  if (auto s = x86_64::setup_fpu(vcpu.fd()); !s) return s;
  // Application processors wait for INIT/SIPI from the BSP (in-kernel LAPIC).
  if (vcpu.id() == 0) {
    if (auto s = x86_64::setup_boot_regs(vcpu.fd(), boot.entry, boot.boot_params); !s) return s;
  }
  return {};
}

// What a vCPU's exit means for the VM. A halt only ends run() in tests without an
// irqchip; it counts as a power-off there.
StopReason stop_reason(kvm::VcpuExitKind k) {
  switch (k) {
    case kvm::VcpuExitKind::Stopped:
      return StopReason::None;
    case kvm::VcpuExitKind::Halted:
    case kvm::VcpuExitKind::Shutdown:
      return StopReason::GuestShutdown;
    case kvm::VcpuExitKind::Reset:
      return StopReason::GuestReset;
    case kvm::VcpuExitKind::Crash:
      return StopReason::GuestPanic;
    case kvm::VcpuExitKind::TripleFault:
      return StopReason::TripleFault;
    case kvm::VcpuExitKind::Error:
      break;
  }
  return StopReason::VmmError;
}

}  // namespace

Result<MachineResult> run_machine(const VmConfig& cfg, const AddDevicesFn& add_devices) {
  // 1. Host signals: blocked here (and inherited by every thread we start),
  //    delivered to the event loop through a signalfd.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  sigaddset(&sigs, SIGUSR1);  // not a stop: dumps the devices' state (a stuck VM's post-mortem)
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  UniqueFd sfd(signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sfd.valid()) return Error::from_errno("signalfd");
  kvm::Vcpu::install_kick_handler();

  // 2. Kernel and initrd files, before anything is created; or, for a snapshot, the
  //    files it is saved into (created before the mount jail hides their directory).
  const bool restoring = !cfg.snapshot.restore_dir.empty();
  const bool saving = !cfg.snapshot.save_dir.empty();
  std::optional<snapshot::SaveFiles> save_files;
  if (saving) {
    auto f = snapshot::open_save_files(cfg.snapshot.save_dir);
    if (!f) return std::move(f).error();
    save_files = std::move(*f);
  }
  boot::MappedFile kernel;
  if (!restoring) {
    auto k = boot::MappedFile::open(cfg.kernel);
    if (!k) return std::move(k).error().wrap("kernel");
    kernel = std::move(*k);
  }
  boot::MappedFile initrd;
  if (!restoring && !cfg.initrd.empty()) {
    auto r = boot::MappedFile::open(cfg.initrd);
    if (!r) return std::move(r).error().wrap("initrd");
    initrd = std::move(*r);
  }

  // 3. KVM VM and guest memory.
  auto kvm = kvm::Kvm::open();
  if (!kvm) return std::move(kvm).error();
  auto vm = kvm::Vm::create(*kvm);
  if (!vm) return std::move(vm).error();
  if (auto s = vm->setup_x86_irqchip(); !s) return s.error();
  auto supported = kvm->supported_cpuid();
  if (!supported) return std::move(supported).error();
  const snapshot::MachineInfo machine{cfg.memory_mib, cfg.cpus, snapshot::hash_cpuid(*supported)};
  std::optional<snapshot::RestoreSource> restore;
  std::optional<GuestMemory> mem;
  if (restoring) {
    // Guest RAM copy-on-write from the snapshot's memory file.
    auto src = snapshot::open_restore(cfg.snapshot.restore_dir, machine);
    if (!src) return std::move(src).error();
    restore = std::move(*src);
    auto m = snapshot::map_memory(restore->memory.get(), cfg.memory_mib << 20,
                                  restore->dir + "/" + snapshot::kMemoryFileName);
    if (!m) return std::move(m).error().wrap("snapshot");
    mem.emplace(std::move(*m));
    restore->memory.close();  // the mapping keeps the file
  } else {
    std::string err;
    mem = GuestMemory::create(cfg.memory_mib << 20, &err);
    if (!mem) return Error(err);
  }
  if (auto s = vm->set_memory(*mem); !s) return s.error();
  auto mmap_size = kvm->vcpu_mmap_size();
  if (!mmap_size) return std::move(mmap_size).error();

  // 3b. The VMM's own root: only its shares and socket/log directories from
  // here on (kernel, initrd and /dev/kvm are open; the devices open the rest).
  if (cfg.jail.enabled && cfg.jail.mount_namespace) {
    jail::raise_nofile_limit();  // reads /proc/sys/fs/nr_open, gone after the pivot
    if (auto s = jail::enter_mount_jail(jail::jail_dirs(cfg)); !s) return s.error();
  }

  // 4. Devices.
  // Declared so that the buses (which own the devices) go first on the way
  // out: device destructors may still use the loop, the stop latch and KVM.
  kvm::KvmPciServices services(vm->fd());
  EventLoop loop;
  if (!loop.ok()) return Error::from_errno("event loop");
  VmStop stop;
  Bus pio("pio"), mmio("mmio");
  DeviceManager devices(*mem, pio, mmio, loop, services, stop);
  if (auto s = devices.add_legacy_devices(cfg); !s) return s.error().wrap("devices");
  if (add_devices) {
    if (auto s = add_devices(devices, cfg); !s) return s.error().wrap("devices");
  }
  if (saving &&
      !pio.insert(std::make_shared<snapshot::SnapshotPoint>(stop), snapshot::kSnapshotPointPort, 1))
    return Error("snapshot point port in use");

  int sig_fd = sfd.get();
  if (!loop.add(sig_fd, EPOLLIN, [sig_fd, &stop, &devices](uint32_t) {
        signalfd_siginfo si{};
        if (::read(sig_fd, &si, sizeof si) != sizeof si) return;
        if (si.ssi_signo == SIGUSR1) {
          std::string st = devices.pci_root().debug_state();
          std::fprintf(stderr, "runvm-vmm: device state (SIGUSR1)\n%s", st.c_str());
          return;
        }
        stop.request(StopReason::HostSignal, strsignal(static_cast<int>(si.ssi_signo)));
      }))
    return Error::from_errno("event loop: add signalfd");

  // 5. Boot tables and kernel in guest memory (a restored guest has them already).
  boot::LinuxBootInput in;
  in.kernel = kernel.bytes();
  in.initrd = initrd.bytes();
  in.cmdline = cfg.cmdline;
  in.cpus = cfg.cpus;
  in.pci_intx = devices.pci_root().intx_routes();
  in.pci_mmio_base = devices.pci_root().layout().mmio_base;
  in.pci_mmio_end = devices.pci_root().layout().mmio_end;
  cpu_signature(*supported, &in.cpu_signature, &in.cpu_features);
  boot::LinuxBootInfo boot{};
  if (!restore) {
    auto b = boot::setup_linux_boot(*mem, in);
    if (!b) return std::move(b).error();
    boot = *b;
  }
  // The images now live in guest memory; keep the VMM's own RSS small.
  in = {};
  kernel.reset();
  initrd.reset();

  // 6. vCPUs: booting, or as they were saved.
  std::vector<std::unique_ptr<kvm::Vcpu>> vcpus;
  for (unsigned i = 0; i < cfg.cpus; ++i) {
    auto v = kvm::Vcpu::create(vm->fd(), i, *mmap_size);
    if (!v) return std::move(v).error();
    Status s = restore ? setup_vcpu_cpuid(**v, *supported, cfg.cpus)
                       : setup_vcpu(**v, *supported, cfg.cpus, boot);
    if (!s) return s.error().wrap("vcpu " + std::to_string(i));
    vcpus.push_back(std::move(*v));
  }
  if (restore) {
    std::vector<kvm::Vcpu*> raw;
    for (auto& v : vcpus) raw.push_back(v.get());
    if (auto s = snapshot::restore_cpu_state(*restore, vm->fd(), raw); !s) return s.error();
  }

  // 7. Confine the VMM before the guest runs a single instruction; still one thread.
  jail::KvmFds kvm_fds{vm->fd(), {}};
  for (const auto& v : vcpus) kvm_fds.vcpus.push_back(v->fd());
  // A template VM (--snapshot-save) runs only runvm's own kernel and init, never a
  // container, and reads its whole state back at the end: no allow-list there.
  JailConfig jail_cfg = cfg.jail;
  if (saving) jail_cfg.seccomp = false;
  if (auto s = jail::enter_jail(jail_cfg, kvm_fds); !s) return s.error();
  if (cfg.jail.test_forbidden_syscall) {
    jail::make_forbidden_syscall();
    return Error::from_errno("jail test: the forbidden syscall was not refused");
  }

  // 8. Run: the devices' threads, the event loop thread and one thread per
  // vCPU, each under its own role's seccomp filter (added to the main thread's)
  // before it touches guest data; then wait for the end.
  const bool role_filters = jail_cfg.enabled && jail_cfg.seccomp;
  auto role_filter = [role_filters](jail::ThreadRole role, jail::KvmFds fds) -> Status {
    return role_filters ? jail::install_thread_role_filter(role, fds) : Status{};
  };
  const int vm_fd = vm->fd();
  if (auto s = devices.pci_root().start_device_threads([&] {
        pthread_setname_np(pthread_self(), "vmm-fs");
        return role_filter(jail::ThreadRole::FsWorker, {vm_fd, {}});
      });
      !s)
    return s.error().wrap("device threads");
  // A restored VM's devices resume once their threads exist (a device activated
  // earlier would start threads of its own, outside their role's filter).
  if (restore) {
    if (auto s = snapshot::restore_device_state(*restore, devices); !s) return s.error();
    restore.reset();
  }
  if (cfg.started_ns != 0)
    std::fprintf(stderr, "runvm-vmm: start trace: main=%llu guest_entry=%llu\n",
                 static_cast<unsigned long long>(cfg.started_ns),
                 static_cast<unsigned long long>(monotonic_ns()));
  // vCPU exits with side effects run on the loop thread from now on.
  loop.use_loop_thread_for_calls();
  std::thread loop_thread([&] {
    pthread_setname_np(pthread_self(), "vmm-loop");
    if (auto s = role_filter(jail::ThreadRole::EventLoop, {vm_fd, {}}); !s) {
      stop.request(StopReason::VmmError, "event loop: " + s.error().what());
      loop.stop();  // run() then returns at once and refuses the vCPUs' calls
    }
    if (!loop.run()) stop.request(StopReason::VmmError, "event loop failed");
  });
  std::vector<std::thread> threads;
  for (auto& v : vcpus) {
    threads.emplace_back([&, vc = v.get()] {
      const std::string name = "vcpu" + std::to_string(vc->id());
      pthread_setname_np(pthread_self(), name.c_str());
      if (auto s = role_filter(jail::ThreadRole::Vcpu, {vm_fd, {vc->fd()}}); !s) {
        stop.request(StopReason::VmmError, name + ": " + s.error().what());
        return;
      }
      if (cfg.jail.test_vcpu_forbidden_syscall) {
        jail::make_vcpu_forbidden_syscall();
        stop.request(StopReason::VmmError,
                     "jail test: the vCPU's forbidden syscall was not refused");
        return;
      }
      auto exit = vc->run(pio, mmio, false, &stop.requested_flag());
      if (exit.kind != kvm::VcpuExitKind::Stopped)
        stop.request(stop_reason(exit.kind), exit.detail);
    });
  }
  MachineResult res;
  res.reason = stop.wait();
  res.detail = stop.detail();
  res.exit_status = VmStop::exit_status(res.reason);

  // 9. Tear down: kick every vCPU out of KVM_RUN, stop the loop, join.
  for (auto& v : vcpus) v->request_stop();
  for (auto& t : threads) t.join();
  loop.stop();
  loop_thread.join();

  // 10. A template VM that reached its snapshot point is saved, then ends.
  if (saving && res.reason == StopReason::SnapshotPoint) {
    auto probe = kvm::Vcpu::create(vm->fd(), cfg.cpus, *mmap_size);
    Status s = probe ? setup_vcpu_cpuid(**probe, *supported, cfg.cpus + 1)
                     : Status(std::move(probe).error());
    if (s) {
      snapshot::SaveInput sin;
      sin.kvm_fd = kvm->fd();
      sin.vm_fd = vm->fd();
      for (auto& v : vcpus) sin.vcpus.push_back(v.get());
      sin.probe_vcpu_fd = (*probe)->fd();
      sin.devices = &devices;
      sin.memory = &*mem;
      sin.machine = machine;
      s = snapshot::save_snapshot(*save_files, sin);
    }
    if (!s) {
      res.reason = StopReason::VmmError;
      res.detail = s.error().what();
      res.exit_status = VmStop::exit_status(res.reason);
    } else {
      res.detail = "saved to " + cfg.snapshot.save_dir;
    }
  }
  return res;
}

}  // namespace runvm::vmm
