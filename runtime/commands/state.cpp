// runvm state <id>: the container's state as JSON, shaped like runc's.
#include <iostream>
#include <memory>
#include <string>

#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"
#include "runtime/state_document.h"

namespace runvm::runtime {

Action setup_state(CLI::App& cmd) {
  auto id = std::make_shared<std::string>();
  cmd.add_option("container-id", *id, "container id")->required();
  return [id](CommandContext& ctx) -> Result<int> {
    auto state = load_container(ctx, *id);
    if (!state) return state.error().wrap(command_context("state", *id));
    std::cout << state_document(*state, state->runvm.owner).dump(2) << "\n";
    return 0;
  };
}

}  // namespace runvm::runtime
