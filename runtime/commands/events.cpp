// runvm events [--stats] [--interval 5s] <id>: container events and statistics.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"
#include "runtime/vm/supervisor_client.h"

namespace runvm::runtime {

namespace {
struct EventsOptions {
  std::string id;
  bool stats = false;
  std::string interval = "5s";
};

// Go duration as runc's flag takes it, restricted to one number and unit: "5s", "500ms", "1m".
// Returns milliseconds (at least 1), or nothing when invalid.
std::optional<int64_t> interval_ms(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0 || i > 12) return std::nullopt;
  char* end = nullptr;
  const std::string number = s.substr(0, i);
  double n = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size()) return std::nullopt;
  const std::string unit = s.substr(i);
  double ms = 0;
  if (unit == "ns")
    ms = n / 1e6;
  else if (unit == "us")
    ms = n / 1e3;
  else if (unit == "ms")
    ms = n;
  else if (unit == "s")
    ms = n * 1e3;
  else if (unit == "m")
    ms = n * 60e3;
  else if (unit == "h")
    ms = n * 3600e3;
  else
    return std::nullopt;
  return std::max<int64_t>(1, static_cast<int64_t>(ms));
}

// One event line, as runc prints it.
void print_stats(const std::string& id, const nlohmann::json& data) {
  nlohmann::json event{{"type", "stats"}, {"id", id}, {"data", data}};
  std::printf("%s\n", event.dump().c_str());
  std::fflush(stdout);
}
}  // namespace

Action setup_events(CLI::App& cmd) {
  auto opts = std::make_shared<EventsOptions>();
  cmd.add_flag("--stats", opts->stats, "display the container's stats then exit");
  cmd.add_option("--interval", opts->interval, "set the stats collection interval (default: 5s)");
  cmd.add_option("container-id", opts->id, "container id")->required();
  return [opts](CommandContext& ctx) -> Result<int> {
    const std::string where = command_context("events", opts->id);
    auto interval = interval_ms(opts->interval);
    if (!interval) {
      return Error("invalid --interval \"" + opts->interval + "\"", EINVAL).wrap(where);
    }
    auto state = load_container(ctx, opts->id);
    if (!state) return state.error().wrap(where);
    if (state->status == oci::ContainerStatus::kStopped) {
      return Error(std::string(kNotRunningMessage), ESRCH).wrap(where);
    }
    if (opts->stats) {
      auto stats = vm::container_stats(*state);
      if (!stats) return stats.error().wrap(where);
      print_stats(opts->id, *stats);
      return 0;
    }
    // A stats event every interval until the container stops (runc stops the same way).
    // A paused container has no stats to give; its turn is skipped.
    for (;;) {
      state = load_container(ctx, opts->id);
      if (!state || state->status == oci::ContainerStatus::kStopped) return 0;
      if (state->status != oci::ContainerStatus::kPaused) {
        auto stats = vm::container_stats(*state);
        if (stats) {
          print_stats(opts->id, *stats);
        } else if (stats.error().err != EBUSY) {
          // The container may have stopped during the call: that ends the stream cleanly.
          // Its supervisor removes the control socket first and then stops the VMM (up
          // to 10 s), so give the state 15 s to say stopped before calling this an error.
          for (int i = 0; i < 150; ++i) {
            auto now = load_container(ctx, opts->id);
            if (!now || now->status == oci::ContainerStatus::kStopped) return 0;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
          return stats.error().wrap(where);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(*interval));
    }
  };
}

}  // namespace runvm::runtime
