// runvm events [--stats] [--interval 5s] <id>: container events and statistics.
#include <cctype>
#include <memory>
#include <string>

#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"

namespace runvm::runtime {

namespace {
struct EventsOptions {
  std::string id;
  bool stats = false;
  std::string interval = "5s";
};

// Go duration as runc's flag takes it, restricted to one number and unit: "5s", "500ms", "1m".
bool valid_interval(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return false;
  std::string unit = s.substr(i);
  return unit == "ns" || unit == "us" || unit == "ms" || unit == "s" || unit == "m" || unit == "h";
}
}  // namespace

Action setup_events(CLI::App& cmd) {
  auto opts = std::make_shared<EventsOptions>();
  cmd.add_flag("--stats", opts->stats, "display the container's stats then exit");
  cmd.add_option("--interval", opts->interval, "set the stats collection interval (default: 5s)");
  cmd.add_option("container-id", opts->id, "container id")->required();
  return [opts](CommandContext& ctx) -> Result<int> {
    const std::string where = command_context("events", opts->id);
    if (!valid_interval(opts->interval)) {
      return Error("invalid --interval \"" + opts->interval + "\"", EINVAL).wrap(where);
    }
    auto state = load_container(ctx, opts->id);
    if (!state) return state.error().wrap(where);
    if (state->status == oci::ContainerStatus::kStopped) {
      return Error(std::string(kNotRunningMessage), ESRCH).wrap(where);
    }
    return not_implemented("events from the microVM").wrap(where);
  };
}

}  // namespace runvm::runtime
