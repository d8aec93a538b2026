// runvm run [create's flags] [--detach] [--keep] <id>: create + start + wait.
#include <memory>

#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"
#include "runtime/container_create.h"

namespace runvm::runtime {

namespace {
struct RunOptions {
  CreateRequest create;
  bool detach = false;
  bool keep = false;
  bool no_subreaper = false;
};
}  // namespace

Action setup_run(CLI::App& cmd) {
  auto opts = std::make_shared<RunOptions>();
  add_create_flags(cmd, opts->create);
  cmd.add_flag("-d,--detach", opts->detach, "detach from the container's process");
  cmd.add_flag("--keep", opts->keep, "do not delete the container after it exits");
  cmd.add_flag("--no-subreaper", opts->no_subreaper, "accepted for compatibility");
  return [opts](CommandContext& ctx) -> Result<int> {
    opts->create.root = ctx.global.root;
    opts->create.detach = opts->detach;
    const std::string where = command_context("run", opts->create.id);
    auto state = create_container(opts->create);
    if (!state) return state.error().wrap(where);
    // Reached once create boots the VM: starting and waiting come with the agent.
    return not_implemented("starting the container process").wrap(where);
  };
}

}  // namespace runvm::runtime
