// runvm-init: PID 1 of the guest. Brings the VM up as a list of steps, then
// serves the agent protocol on vsock until the VM is powered off. A failed step
// is printed on the console and the VM is powered off: PID 1 must not exit.
#include <sys/reboot.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "agent/guest_server.h"
#include "base/monotonic.h"
#include "guest-init/boot.h"
#include "guest-init/container_setup.h"
#include "guest-init/restore.h"

namespace {

[[noreturn]] void die(const runvm::Error& e) {
  std::fprintf(stderr, "runvm-init: %s\n", e.message.c_str());
  std::fflush(stderr);
  sync();
  if (getpid() == 1) reboot(RB_POWER_OFF);
  _exit(1);
}

std::string read_file(const char* path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

}  // namespace

int main() {
  using namespace runvm;
  // Sent to the host with the agent's hello: where the guest's part of a start goes.
  agent::GuestBootTimes times;
  times.init = monotonic_ns();
  if (auto s = guest::mount_early_filesystems(); !s) die(s.error().wrap("early mounts"));
  auto cfg = guest::parse_cmdline(read_file("/proc/cmdline"));
  if (!cfg) die(cfg.error().wrap("kernel command line"));
  if (access(cfg->modules_list.c_str(), F_OK) == 0)
    if (auto s = guest::load_modules(cfg->modules_list); !s) die(s.error().wrap("modules"));
  times.modules = monotonic_ns();
  // A template VM mounts nothing before its snapshot: each VM started from it serves
  // its own directories behind the same tags, mounted on `restored`.
  if (!cfg->template_vm) {
    if (auto s = guest::mount_shared_rootfs(*cfg); !s) die(s.error().wrap("shared rootfs"));
  }
  times.rootfs = monotonic_ns();
  auto listener = guest::listen_vsock(cfg->agent_port);
  if (!listener) die(listener.error().wrap("agent"));
  times.listen = monotonic_ns();
  if (cfg->template_vm) {
    std::fprintf(stderr, "runvm-init: template ready, at the snapshot point\n");
    if (auto s = guest::reach_snapshot_point(); !s) die(s.error().wrap("template"));
  }
  guest::GuestLauncher launcher(cfg->rootfs_target);
  agent::ServerOptions opts;
  opts.agent_name = "runvm-init";
  opts.boot = times;
  // A pod VM's further containers (issue 14): their rootfs is where the host put it.
  opts.member_launcher = [](const std::string& id,
                            const std::string& rootfs) -> Result<std::unique_ptr<agent::Launcher>> {
    return std::unique_ptr<agent::Launcher>(
        std::make_unique<guest::GuestLauncher>(rootfs, guest::member_cgroup(id)));
  };
  if (cfg->template_vm) {
    const guest::BootConfig boot_cfg = *cfg;
    opts.on_restored = [boot_cfg](const agent::RestoredReq& r) -> Status {
      if (auto s = guest::reseed_and_set_clock(r); !s) return s;
      if (auto s = guest::mount_shared_rootfs(boot_cfg); !s) return s.error().wrap("shared rootfs");
      return {};
    };
  }
  agent::Server server(launcher, opts);
  server.set_listener(*listener);
  if (!cfg->agent_serial.empty()) {
    auto port = guest::open_virtio_port(cfg->agent_serial, 10000);
    if (!port) die(port.error().wrap("agent serial port"));
    server.add_connection(*port);
    std::fprintf(stderr, "runvm-init: agent serving virtio-serial port %s\n",
                 cfg->agent_serial.c_str());
  }
  std::fprintf(stderr, "runvm-init: agent listening on vsock port %u\n", cfg->agent_port);
  if (auto s = server.run(); !s) die(s.error().wrap("agent"));
  die(Error("agent loop ended"));
}
