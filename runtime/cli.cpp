#include "runtime/cli.h"

#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "runtime/commands/command.h"
#include "runtime/log.h"
#include "runtime/version.h"

namespace runvm::runtime {

namespace {

void add_global_flags(CLI::App& app, GlobalOptions& g) {
  app.add_flag("--debug", g.debug, "enable debug logging");
  app.add_option("--log", g.log, "set the log file to write runvm logs to (default: stderr)");
  app.add_option("--log-format", g.log_format, "set the log format ('text' (default), or 'json')");
  app.add_option("--root", g.root, "root directory for storage of container state (tmpfs)")
      ->capture_default_str();
  app.add_option("--criu", g.criu, "accepted for compatibility; checkpoint is not supported");
  app.add_flag("--systemd-cgroup", g.systemd_cgroup,
               "linux.cgroupsPath is slice:prefix:name (the host cgroup holding the VMM)");
  app.add_option("--rootless", g.rootless, "accepted for compatibility ('true', 'false', 'auto')")
      ->check(CLI::IsMember({"true", "false", "auto"}));
}

// Error output as runc gives it: the message on stderr, and a log line in
// the --log file when there is one.
int report(Logger& log, const std::string& msg, int status) {
  std::cerr << "runvm: " << msg << "\n";
  if (log.to_file()) log.error(msg);
  return status;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"runvm - an OCI runtime that runs each container in its own KVM microVM", "runvm"};
  app.set_version_flag("-v,--version", version_text());
  app.require_subcommand(1);
  app.footer(
      "Files: /etc/runvm/config.json (guest kernel, image, memory, vCPUs; $RUNVM_CONFIG names "
      "another), guest images in /var/lib/runvm (runvm-update-image). `runvm check` tells "
      "whether this host can run runvm containers. Each command has --help.");

  GlobalOptions global;
  add_global_flags(app, global);

  Action chosen;
  int error_status = 1;
  for (const CommandSpec& spec : command_table()) {
    CLI::App* cmd = app.add_subcommand(std::string(spec.name), std::string(spec.description));
    Action action = spec.setup(*cmd);
    cmd->callback([&chosen, &error_status, action, &spec] {
      chosen = action;
      error_status = spec.error_exit_status;
    });
  }

  Logger log;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    std::cout << version_text();
    return 0;
  } catch (const CLI::ParseError& e) {
    // Usage errors still reach the --log file when it was parsed.
    auto format = parse_log_format(global.log_format);
    (void)log.open(global.log, format ? *format : LogFormat::kText, global.debug);
    return report(log, e.what(), 1);
  }

  auto format = parse_log_format(global.log_format);
  if (!format) return report(log, format.error().message, 1);
  if (auto ok = log.open(global.log, *format, global.debug); !ok) {
    return report(log, ok.error().message, 1);
  }
  log.debug("root: " + global.root);

  CommandContext ctx{global, log};
  auto result = chosen(ctx);
  if (!result) return report(log, result.error().message, error_status);
  return *result;
}

}  // namespace runvm::runtime
