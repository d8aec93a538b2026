// runvm run [create's flags] [--detach] [--keep] <id>: create + start + wait.
#include <signal.h>

#include <memory>

#include "base/file_io.h"
#include "base/monotonic.h"
#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"
#include "runtime/create_transaction.h"
#include "runtime/hooks.h"
#include "runtime/vm/start_trace.h"
#include "runtime/vm/supervisor_client.h"
#include "runtime/vm/vm_layout.h"
#include "runtime/vm/vm_teardown.h"

namespace runvm::runtime {

namespace {
struct RunOptions {
  CreateRequest create;
  bool detach = false;
  bool keep = false;
  bool no_subreaper = false;
};

// --debug: where this start went, in ms from the command's start (runtime/vm/start_trace.h).
void log_start_trace(CommandContext& ctx, const std::string& container_dir, uint64_t began) {
  auto text = read_file(vm::VmLayout(container_dir).start_trace());
  if (!text) return;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  auto trace = vm::start_trace_from_json(j);
  if (!trace) {
    ctx.log.debug(trace.error().message);
    return;
  }
  ctx.log.debug("start trace (ms): " + vm::format_start_trace(*trace, began, monotonic_ns()));
}

}  // namespace

Action setup_run(CLI::App& cmd) {
  auto opts = std::make_shared<RunOptions>();
  add_create_flags(cmd, opts->create);
  cmd.add_flag("-d,--detach", opts->detach, "detach from the container's process");
  cmd.add_flag("--keep", opts->keep, "do not delete the container after it exits");
  cmd.add_flag("--no-subreaper", opts->no_subreaper, "accepted for compatibility");
  return [opts](CommandContext& ctx) -> Result<int> {
    const uint64_t began = monotonic_ns();
    opts->create.root = ctx.global.root;
    opts->create.systemd_cgroup = ctx.global.systemd_cgroup;
    opts->create.debug = [&ctx](std::string_view m) { ctx.log.debug(m); };
    opts->create.detach = opts->detach;
    const std::string where = command_context("run", opts->create.id);
    auto state = create_container(opts->create);
    if (!state) return state.error().wrap(where);
    StateDir dir = state_dir(ctx);
    if (auto ok = vm::start_container(dir, opts->create.id); !ok) {
      ::kill(state->pid, SIGKILL);
      (void)vm::wait_container(*state);
      if (auto lock = dir.lock(opts->create.id)) {
        (void)vm::release_outside_state(vm::VmLayout(dir.container_dir(opts->create.id)),
                                        opts->create.id);
        (void)dir.remove(opts->create.id);
      }
      return ok.error().wrap(where);
    }
    if (opts->detach) return 0;
    auto code = vm::wait_container(*state);
    if (!code) return code.error().wrap(where);
    log_start_trace(ctx, dir.container_dir(opts->create.id), began);
    if (!opts->keep) {
      if (auto lock = dir.lock(opts->create.id)) {
        (void)vm::release_outside_state(vm::VmLayout(dir.container_dir(opts->create.id)),
                                        opts->create.id);
        (void)dir.remove(opts->create.id);
      }
      run_poststop_hooks(*state);
    }
    return *code;
  };
}

}  // namespace runvm::runtime
