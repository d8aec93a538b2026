// runvm ps [--format table|json] <id> [ps args...]: processes of the container
// (in the guest, once the agent is wired in).
#include <memory>
#include <string>
#include <vector>

#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"

namespace runvm::runtime {

namespace {
struct PsOptions {
  std::string format = "table";
  std::string id;
  std::vector<std::string> ps_args;
};
}  // namespace

Action setup_ps(CLI::App& cmd) {
  auto opts = std::make_shared<PsOptions>();
  cmd.add_option("-f,--format", opts->format, "select one of: table or json (default: \"table\")");
  cmd.add_option("container-id", opts->id, "container id")->required();
  cmd.add_option("ps-args", opts->ps_args, "arguments for ps");
  cmd.positionals_at_end();
  return [opts](CommandContext& ctx) -> Result<int> {
    const std::string where = command_context("ps", opts->id);
    auto state = load_container(ctx, opts->id);
    if (!state) return state.error().wrap(where);
    if (opts->format != "table" && opts->format != "json") {
      return Error("invalid format option", EINVAL).wrap(where);
    }
    if (state->status == oci::ContainerStatus::kStopped) {
      return Error(std::string(kNotRunningMessage), ESRCH).wrap(where);
    }
    return not_implemented("listing the processes in the microVM").wrap(where);
  };
}

}  // namespace runvm::runtime
