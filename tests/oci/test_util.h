// Helpers shared by the oci unit tests.
#pragma once

#include <optional>
#include <string>

#include "tests/support/temp_dir.h"

namespace runvm::oci::testing {

// The oci tests name the shared TempDir (tests/support) as testing::TempDir.
using runvm::testing::TempDir;

// Full path of `runc` if it is installed (PATH, /usr/sbin, /usr/bin), else nullopt.
std::optional<std::string> find_runc();

// Runs `cmd` with /bin/sh -c; returns its exit status (or -1 if it did not exit normally).
int run_shell(const std::string& cmd);

// Whole file contents; fails the current test on error.
std::string slurp(const std::string& path);

}  // namespace runvm::oci::testing
