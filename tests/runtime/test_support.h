// Helpers for the runtime tests: temporary directories, running the built
// `runvm` binary, bundles and fake containers made through the state module.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "oci/spec.h"
#include "oci/state.h"
#include "tests/support/temp_dir.h"

namespace runvm::runtime::testing {

// The runtime tests name the shared TempDir (tests/support) as testing::TempDir.
using runvm::testing::TempDir;

struct RunResult {
  int exit_status = -1;  // -1 if the process did not exit normally
  std::string out;
  std::string err;
};

// Runs the runvm binary under test with `args` (argv[0] is added) and waits;
// in directory `cwd` when it is not empty.
RunResult run_runvm(const std::vector<std::string>& args, const std::string& cwd = "");

// Name of the user running the tests (what `list` shows as OWNER).
std::string current_user_name();

// A bundle in `dir`: rootfs/ and a config.json from oci::default_spec() with
// terminal off (runnable detached) and args ["true"]; `edit` may change it first.
void write_bundle(const std::string& dir, const oci::Spec& spec);
oci::Spec test_spec();

// A pid that no longer names a process (a child that exited and was reaped).
int dead_pid();

// Creates container `id` in `root` through StateDir::create and records it as
// `status` with VMM pid `pid` (start time read from /proc when the pid is alive).
void make_container(const std::string& root, const std::string& id, const std::string& bundle,
                    int pid, oci::ContainerStatus status = oci::ContainerStatus::kCreated);

// A child process that sleeps until killed; kill_child() SIGKILLs and reaps it.
int spawn_sleeper();
void kill_child(int pid);

// True when `path` exists (any file type).
bool exists(const std::string& path);

// Splits text into lines (without '\n').
std::vector<std::string> lines(const std::string& text);

}  // namespace runvm::runtime::testing
