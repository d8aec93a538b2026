// runvm list [--format table|json] [--quiet]: the containers under --root.
#include <pwd.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"
#include "runtime/state_document.h"
#include "runtime/table_format.h"

namespace runvm::runtime {

namespace {

struct ListOptions {
  std::string format = "table";
  bool quiet = false;
};

// runc shows the user owning the state directory, "#<uid>" when it has no name.
std::string owner_name(const StateDir& dir, const std::string& id) {
  auto uid = dir.owner(id);
  if (!uid) return "";
  if (const passwd* pw = ::getpwuid(*uid)) return pw->pw_name;
  return "#" + std::to_string(*uid);
}

}  // namespace

Action setup_list(CLI::App& cmd) {
  auto opts = std::make_shared<ListOptions>();
  cmd.add_option("-f,--format", opts->format, "select one of: table or json (default: \"table\")");
  cmd.add_flag("-q,--quiet", opts->quiet, "display only container IDs");
  return [opts](CommandContext& ctx) -> Result<int> {
    if (opts->format != "table" && opts->format != "json") {
      return Error("invalid format option", EINVAL).wrap("list");
    }
    StateDir dir = state_dir(ctx);
    auto ids = dir.list();
    if (!ids) return ids.error().wrap("list");

    // A container deleted while we list is skipped, as runc does.
    std::vector<std::pair<oci::State, std::string>> entries;
    for (const auto& id : *ids) {
      auto state = dir.load(id);
      if (!state) {
        ctx.log.debug("list: skipping " + id + ": " + state.error().message);
        continue;
      }
      entries.emplace_back(std::move(*state), owner_name(dir, id));
    }

    if (opts->quiet) {
      for (const auto& [state, owner] : entries) std::cout << state.id << "\n";
      return 0;
    }
    if (opts->format == "json") {
      // runc encodes an empty list as null.
      nlohmann::ordered_json out = nullptr;
      for (const auto& [state, owner] : entries) out.push_back(state_document(state, owner));
      std::cout << out.dump() << "\n";
      return 0;
    }
    std::vector<TableRow> rows = {{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
    for (const auto& [state, owner] : entries) {
      rows.push_back({state.id, std::to_string(state.pid),
                      std::string(oci::to_string(state.status)), state.bundle, state.runvm.created,
                      owner});
    }
    std::cout << format_table(rows);
    return 0;
  };
}

}  // namespace runvm::runtime
