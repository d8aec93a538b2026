// Helpers shared by the command files: the state directory, error context and
// runc's messages for commands that need a live container.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "oci/state.h"
#include "runtime/commands/command.h"
#include "runtime/state_dir.h"

namespace runvm::runtime {

[[nodiscard]] inline StateDir state_dir(const CommandContext& ctx) {
  return StateDir(ctx.global.root);
}

// "<verb> <id>" as the context every command error starts with.
[[nodiscard]] std::string command_context(std::string_view verb, std::string_view id);

// Loads an existing container (id validated, liveness applied). Errors carry
// runc's wording: "invalid container ID format", "container does not exist".
[[nodiscard]] Result<oci::State> load_container(const CommandContext& ctx, std::string_view id);

// runc's refusal for an operation that needs a running (or created) container.
inline constexpr std::string_view kNotRunningMessage = "container not running";

}  // namespace runvm::runtime
