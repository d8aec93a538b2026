// runvm-vmm: boots one Linux microVM and exits when it ends.
//
// Exit status: 0 when the guest resets (runvm guests end with `reboot -f`;
// the command line should carry `reboot=k panic=-1`, a runvm VM never
// reboots) or powers off, and when the VMM is stopped by SIGTERM/SIGINT/SIGHUP
// (an operator's tear-down, reported on stderr). Non-zero, with a message on
// stderr: 1 set-up failure, bad flags or VMM/KVM error, 2 guest kernel panic
// (pvpanic), 3 guest triple fault.
#include <pthread.h>

#include <cstdio>
#include <string>
#include <vector>

#include "base/monotonic.h"
#include "vmm/devices/pci_devices.h"
#include "vmm/jail/fd_limits.h"
#include "vmm/machine/machine.h"
#include "vmm/main/flags.h"
#include "vmm/main/terminal.h"
#include "vmm/vm_config.h"

namespace {
constexpr size_t kVmmThreadStack = size_t{1} << 20;
}  // namespace

int main(int argc, char** argv) {
  using namespace runvm::vmm;
  const uint64_t started_ns = runvm::monotonic_ns();
  ensure_std_fds_open();
  auto cfg = parse_flags(argc, argv);
  if (!cfg.config) return cfg.exit_code;
  cfg.config->started_ns = started_ns;
  // Thread stacks (vCPUs, loop, fs workers) of 1 MiB rather than glibc's 8: an 8 MiB
  // stack can hold a 2 MiB transparent huge page, which alone would take the VMM's
  // own memory past 5 MiB (docs/performance.md); a mapping below 2 MiB cannot.
  // The deepest of them, a FUSE or 9P request, needs a few KiB.
  if (pthread_attr_t attr; pthread_attr_init(&attr) == 0) {
    pthread_attr_setstacksize(&attr, kVmmThreadStack);
    pthread_setattr_default_np(&attr);
    pthread_attr_destroy(&attr);
  }
  // Nothing the caller left open reaches the guest-facing code but the tap.
  std::vector<int> keep;
  if (cfg.config->net) keep.push_back(cfg.config->net->tap_fd);
  if (auto s = jail::close_inherited_fds(keep); !s) {
    std::fprintf(stderr, "runvm-vmm: %s\n", s.error().what().c_str());
    return 1;
  }

  // vmm/devices/pci_devices.h: virtio-rng, -vsock, -fs, -9p and pvpanic-pci.
  AddDevicesFn add_devices = [](DeviceManager& dm, const VmConfig& c) -> runvm::Status {
    return add_pci_devices(dm, c);
  };
  RawTerminal raw(cfg.config->console.kind == ConsoleConfig::Kind::Stdio);
  auto res = run_machine(*cfg.config, add_devices);
  if (!res) {
    std::fprintf(stderr, "runvm-vmm: %s\n", res.error().what().c_str());
    return 1;
  }
  const char* what = VmStop::describe(res->reason);
  if (res->exit_status != 0 || res->reason == StopReason::HostSignal)
    std::fprintf(stderr, "runvm-vmm: %s: %s\n", what, res->detail.c_str());
  return res->exit_status;
}
