// runvm start <id>: release the container process held in the guest.
#include <memory>
#include <string>

#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"
#include "runtime/vm/supervisor_client.h"

namespace runvm::runtime {

Action setup_start(CLI::App& cmd) {
  auto id = std::make_shared<std::string>();
  cmd.add_option("container-id", *id, "container id")->required();
  return [id](CommandContext& ctx) -> Result<int> {
    const std::string where = command_context("start", *id);
    auto state = load_container(ctx, *id);
    if (!state) return state.error().wrap(where);
    switch (state->status) {
      case oci::ContainerStatus::kStopped:
        return Error("cannot start a container that has stopped").wrap(where);
      case oci::ContainerStatus::kRunning:
        return Error("cannot start an already running container").wrap(where);
      default:
        if (auto ok = vm::start_container(state_dir(ctx), *id); !ok) return ok.error().wrap(where);
        return 0;
    }
  };
}

}  // namespace runvm::runtime
