// fork + stdio + hold + execve of one process, with setup errors reported back
// to the agent through a status pipe (so a failed exec is a failed request, not
// a mysterious exit 127).
#pragma once

#include <string>
#include <vector>

#include "agent/launcher.h"
#include "agent/protocol.h"
#include "base/result.h"

namespace runvm::agent {

struct SpawnOptions {
  bool stdin_pipe = false;  // else stdin is /dev/null (ignored for terminals)
  bool hold = false;        // wait for release_hold() before execve
  int init_pid = 0;         // passed to Launcher::setup_child
};

// Agent-side ends of a spawned process. All fds are O_CLOEXEC and O_NONBLOCK
// (except hold_fd/status_fd); -1 when absent. For a terminal, out_fd and in_fd
// are duplicates of the pty master and pty_fd is the master used for resizes.
struct Spawned {
  int pid = -1;
  int in_fd = -1;
  int out_fd = -1;
  int err_fd = -1;
  int pty_fd = -1;
  int hold_fd = -1;    // write a byte to let a held process exec
  int status_fd = -1;  // child's setup/exec result, EOF on successful execve
};

// Forks the process. Returns once the child finished Launcher::setup_child
// (held processes) or execve'd (others); a setup or exec failure is returned as
// the error, with the child already reaped.
[[nodiscard]] Result<Spawned> spawn_process(const ProcessSpec& p, Launcher& launcher,
                                            const SpawnOptions& opts);

// Lets a held process continue to execve and waits for the outcome. Closes
// hold_fd and status_fd. On error the child exits 127 (reaped by the caller's
// normal child handling).
[[nodiscard]] Status release_hold(Spawned& s);

// Closes every fd of `s` that is open.
void close_spawned(Spawned& s);

// Resolves args[0] against PATH from env (default PATH when unset), as execvp
// would; names with a '/' are returned as they are.
[[nodiscard]] Result<std::string> find_executable(const std::string& name,
                                                  const std::vector<std::string>& env);

}  // namespace runvm::agent
