// runvm pause <id>: pause the container: every vCPU and device thread of its microVM stops.
#include <memory>
#include <string>

#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"
#include "runtime/vm/supervisor_client.h"

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
    if (auto ok = vm::set_paused(state_dir(ctx), *id, true); !ok) return ok.error().wrap(where);
    return 0;
  };
}

}  // namespace runvm::runtime
