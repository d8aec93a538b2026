// runvm kill [--all] <id> [signal]: signal the container's process (default SIGTERM).
#include <memory>
#include <string>

#include "oci/names.h"
#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"
#include "runtime/vm/supervisor_client.h"

namespace runvm::runtime {

namespace {
struct KillOptions {
  std::string id;
  std::string signal = "SIGTERM";
  bool all = false;
};
}  // namespace

Action setup_kill(CLI::App& cmd) {
  auto opts = std::make_shared<KillOptions>();
  cmd.add_flag("-a,--all", opts->all,
               "send the specified signal to all processes in the container");
  cmd.add_option("container-id", opts->id, "container id")->required();
  cmd.add_option("signal", opts->signal, "signal name or number (default: SIGTERM)");
  return [opts](CommandContext& ctx) -> Result<int> {
    const std::string where = command_context("kill", opts->id);
    // runc's order: the container must exist, then the signal must parse.
    auto state = load_container(ctx, opts->id);
    if (!state) return state.error().wrap(where);
    auto sig = oci::parse_signal(opts->signal);
    if (!sig) return Error("unknown signal \"" + opts->signal + "\"", EINVAL).wrap(where);
    if (state->status == oci::ContainerStatus::kStopped) {
      return Error(std::string(kNotRunningMessage), ESRCH).wrap(where);
    }
    if (auto ok = vm::signal_container(*state, *sig, opts->all); !ok) return ok.error().wrap(where);
    return 0;
  };
}

}  // namespace runvm::runtime
