#include "runtime/commands/common.h"

#include <cerrno>

namespace runvm::runtime {

std::string command_context(std::string_view verb, std::string_view id) {
  return std::string(verb) + " " + std::string(id);
}

Result<oci::State> load_container(const CommandContext& ctx, std::string_view id) {
  return state_dir(ctx).load(id);
}

}  // namespace runvm::runtime
