// runvm check: can this host run runvm containers? Exit status 0 only when it can.
#include <iostream>
#include <memory>
#include <string>

#include "runtime/commands/verbs.h"
#include "runtime/host_check.h"
#include "runtime/vm/vm_settings.h"

namespace runvm::runtime {

Action setup_check(CLI::App& cmd) {
  auto format = std::make_shared<std::string>("text");
  cmd.add_option("--format,-f", *format, "output format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  return [format](CommandContext& ctx) -> Result<int> {
    auto results = check_host(vm::system_config_path(), ctx.global.root);
    if (*format == "json")
      std::cout << format_json(results).dump(2) << "\n";
    else
      std::cout << format_text(results);
    return all_passed(results) ? 0 : 1;
  };
}

}  // namespace runvm::runtime
