// The command table: every `runvm <verb>` is one CommandSpec, defined in
// commands/<verb>.cpp and listed once in commands/table.cpp. cli.cpp turns the
// table into CLI11 subcommands.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "base/result.h"
#include "runtime/log.h"

namespace runvm::runtime {

inline constexpr const char* kDefaultRoot = "/run/runvm";

// runc's global flags. Filled by CLI11 before any command action runs.
struct GlobalOptions {
  std::string root = kDefaultRoot;
  std::string log;  // empty: stderr
  std::string log_format = "text";
  bool debug = false;
  bool systemd_cgroup = false;    // cgroupsPath is slice:prefix:name (runtime/vm/host_cgroup.h)
  std::string rootless = "auto";  // accepted: true|false|auto
  std::string criu = "criu";      // accepted and ignored: no checkpoint/restore
};

// What a command gets when it runs.
struct CommandContext {
  const GlobalOptions& global;
  Logger& log;
};

// The work of one command after its flags are parsed. Returns the process exit
// status on success (0 unless the command reports a container's exit code).
using Action = std::function<Result<int>(CommandContext&)>;

struct CommandSpec {
  std::string_view name;
  std::string_view description;
  // Declares the command's flags and positionals on `cmd` (bound to storage the
  // returned Action owns) and returns that Action.
  Action (*setup)(CLI::App& cmd);
  // Exit status when the Action fails (runc uses 255 for exec, 1 elsewhere).
  int error_exit_status = 1;
};

// Every command, in the order `runvm --help` lists them.
[[nodiscard]] std::span<const CommandSpec> command_table();

}  // namespace runvm::runtime
