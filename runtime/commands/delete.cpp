// runvm delete [--force] <id>: remove a container's state (and, with --force,
// SIGKILL its VMM first when it is still alive).
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"
#include "runtime/container_id.h"
#include "runtime/hooks.h"
#include "runtime/process_liveness.h"
#include "runtime/vm/net_cleanup.h"
#include "runtime/vm/vm_layout.h"
#include "runtime/vm/vm_teardown.h"

namespace runvm::runtime {

namespace {

struct DeleteOptions {
  std::string id;
  bool force = false;
};

// SIGKILLs the VMM and waits until it is gone (it is not our child: poll).
Status kill_vmm(const oci::State& state) {
  if (::kill(state.pid, SIGKILL) != 0 && errno != ESRCH) {
    return Error::from_errno("kill VMM pid " + std::to_string(state.pid));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (process_alive(state.pid, state.runvm.pid_start_time)) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Error("VMM pid " + std::to_string(state.pid) + " did not exit after SIGKILL",
                   ETIMEDOUT);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return {};
}

Status delete_container(const CommandContext& ctx, const DeleteOptions& opts) {
  StateDir dir = state_dir(ctx);
  auto lock = dir.lock(opts.id);
  if (!lock) {
    // As runc: --force on an unknown container succeeds.
    if (lock.error().err == ENOENT && opts.force) return {};
    return lock.error();
  }
  auto state = dir.load(opts.id);
  if (!state) return state.error();
  switch (state->status) {
    case oci::ContainerStatus::kStopped:
      break;
    case oci::ContainerStatus::kCreated:
      // runc deletes a created container without --force: nothing has run yet.
      if (auto ok = kill_vmm(*state); !ok) return ok;
      break;
    default:
      if (!opts.force) {
        return Error("cannot delete container " + opts.id +
                         " that is not stopped: " + std::string(oci::to_string(state->status)),
                     EBUSY);
      }
      if (state->pid > 0) {
        if (auto ok = kill_vmm(*state); !ok) return ok;
      }
      // A killed supervisor could not remove its redirect from a namespace it joined.
      if (auto ok = vm::cleanup_net_after_kill(vm::VmLayout(dir.container_dir(opts.id))); !ok)
        ctx.log.log(LogLevel::kWarning, ok.error().message);
  }
  // The host cgroup (linux.cgroupsPath) goes with the container, as under runc, and a pod's
  // container leaves its pod VM.
  if (auto ok = vm::release_outside_state(vm::VmLayout(dir.container_dir(opts.id)), opts.id); !ok)
    ctx.log.log(LogLevel::kWarning, ok.error().message);
  if (auto ok = dir.remove(opts.id); !ok) return ok;
  run_poststop_hooks(*state);
  return {};
}

}  // namespace

Action setup_delete(CLI::App& cmd) {
  auto opts = std::make_shared<DeleteOptions>();
  cmd.add_flag("-f,--force", opts->force,
               "forcibly delete the container if it is still running (uses SIGKILL)");
  cmd.add_option("container-id", opts->id, "container id")->required();
  return [opts](CommandContext& ctx) -> Result<int> {
    if (auto ok = delete_container(ctx, *opts); !ok) {
      return ok.error().wrap(command_context("delete", opts->id));
    }
    return 0;
  };
}

}  // namespace runvm::runtime
