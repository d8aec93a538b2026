// The `runvm` command line: global flags, the command table as CLI11
// subcommands, error reporting (stderr + --log) and exit statuses.
#pragma once

namespace runvm::runtime {

// Parses argv, runs the chosen command and returns the process exit status:
// the command's own on success, 1 (255 for exec) on failure, 1 on bad usage,
// 0 for --help/--version.
[[nodiscard]] int run_cli(int argc, char** argv);

}  // namespace runvm::runtime
