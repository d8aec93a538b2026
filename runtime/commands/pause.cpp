// runvm pause <id>: pause the container (its vCPUs, once the VMM is wired in).
#include <memory>
#include <string>

#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"

namespace runvm::runtime {

Action setup_pause(CLI::App& cmd) {
  auto id = std::make_shared<std::string>();
  cmd.add_option("container-id", *id, "container id")->required();
  return [id](CommandContext& ctx) -> Result<int> {
    const std::string where = command_context("pause", *id);
    auto state = load_container(ctx, *id);
    if (!state) return state.error().wrap(where);
    if (state->status == oci::ContainerStatus::kStopped) {
      return Error(std::string(kNotRunningMessage), ESRCH).wrap(where);
    }
    return not_implemented("pausing the microVM").wrap(where);
  };
}

}  // namespace runvm::runtime
