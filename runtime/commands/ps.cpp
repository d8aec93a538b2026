// runvm ps [--format table|json] <id> [ps args...]: processes of the container,
// as guest pids (they live in the microVM's kernel, so the host's ps cannot show them;
// ps-args are accepted and ignored).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"
#include "runtime/vm/supervisor_client.h"

#include <nlohmann/json.hpp>

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
    auto pids = vm::container_pids(*state);
    if (!pids) return pids.error().wrap(where);
    if (opts->format == "json") {
      std::printf("%s\n", nlohmann::json(*pids).dump().c_str());
    } else {
      std::printf("PID\n");
      for (int pid : *pids) std::printf("%d\n", pid);
    }
    return 0;
  };
}

}  // namespace runvm::runtime
