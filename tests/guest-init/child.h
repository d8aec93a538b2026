// Runs a check in a forked child and returns its wait status, so tests can
// change credentials, limits, mounts and seccomp state without affecting the
// test process. The child's return value is its exit code (0 = all good; use
// distinct codes per failed check).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>

namespace runvm::guest::testing {

inline int run_in_child(const std::function<int()>& fn) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) _exit(fn());
  int ws = 0;
  while (waitpid(pid, &ws, 0) < 0) {
  }
  return ws;
}

inline bool exited_ok(int ws) {
  return WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
}

}  // namespace runvm::guest::testing

#define SKIP_UNLESS_ROOT() \
  if (geteuid() != 0) GTEST_SKIP() << "needs root"
