#include "runtime/vm/lifecycle.h"

#include <sys/wait.h>

#include <cerrno>

#include "runtime/vm/control.h"
#include "runtime/vm/vm_layout.h"

namespace runvm::runtime::vm {

namespace {

std::string control_path(const oci::State& state) {
  return state.runvm.control_socket;
}

}  // namespace

Status start_container(const StateDir& dir, const std::string& id) {
  auto lock = dir.lock(id);
  if (!lock) return lock.error();
  auto state = dir.load(id);
  if (!state) return state.error();
  if (state->status != oci::ContainerStatus::kCreated)
    return Error("cannot start a container in status " + std::string(oci::to_string(state->status)),
                 EINVAL);
  if (auto r = control_call(control_path(*state), {{"op", "start"}}); !r) return r.error();
  state->status = oci::ContainerStatus::kRunning;
  return dir.save(*state);
}

Status signal_container(const oci::State& state, int sig, bool all) {
  auto r = control_call(control_path(state), {{"op", "signal"}, {"signal", sig}, {"all", all}});
  if (!r) return r.error();
  return {};
}

Result<std::vector<int>> container_pids(const oci::State& state) {
  auto r = control_call(control_path(state), {{"op", "ps"}});
  if (!r) return r.error();
  return r->value("pids", std::vector<int>{});
}

Result<int> wait_container(const oci::State& state) {
  int ws = 0;
  while (::waitpid(state.pid, &ws, 0) < 0) {
    if (errno != EINTR) return Error::from_errno("wait for the container's supervisor");
  }
  if (WIFEXITED(ws)) return WEXITSTATUS(ws);
  return 128 + WTERMSIG(ws);
}

}  // namespace runvm::runtime::vm
