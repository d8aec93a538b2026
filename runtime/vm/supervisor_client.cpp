#include "runtime/vm/supervisor_client.h"

#include <sys/wait.h>

#include <signal.h>

#include <cerrno>
#include <cstdio>

#include "oci/parse.h"
#include "runtime/hooks.h"
#include "runtime/vm/control.h"
#include "runtime/vm/vm_layout.h"

namespace runvm::runtime::vm {

namespace {

std::string control_path(const oci::State& state) {
  return state.runvm.control_socket;
}

}  // namespace

Status attach_network(const oci::State& state) {
  if (auto r = control_call(control_path(state), {{"op", "net-attach"}}); !r)
    return r.error().wrap("network");
  return {};
}

Status start_container(const StateDir& dir, const std::string& id) {
  auto lock = dir.lock(id);
  if (!lock) return lock.error();
  auto state = dir.load(id);
  if (!state) return state.error();
  if (state->status != oci::ContainerStatus::kCreated)
    return Error("cannot start a container in status " + std::string(oci::to_string(state->status)),
                 EINVAL);
  auto spec = oci::parse_config_file(state->runvm.config_path);
  if (!spec) return spec.error();
  if (auto ok = run_hooks("startContainer", hooks_for(*spec, "startContainer"), *state); !ok) {
    // The spec: a failing startContainer hook stops the container.
    (void)control_call(control_path(*state),
                       {{"op", "signal"}, {"signal", SIGKILL}, {"all", true}});
    ::kill(state->pid, SIGKILL);
    return ok.error();
  }
  if (auto r = control_call(control_path(*state), {{"op", "start"}}); !r) return r.error();
  state->status = oci::ContainerStatus::kRunning;
  if (auto ok = dir.save(*state); !ok) return ok.error();
  // poststart failures are warnings: the container runs on.
  if (auto ok = run_hooks("poststart", hooks_for(*spec, "poststart"), *state); !ok)
    std::fprintf(stderr, "runvm: warning: %s\n", ok.error().message.c_str());
  return {};
}

Status set_paused(const StateDir& dir, const std::string& id, bool pause) {
  auto lock = dir.lock(id);
  if (!lock) return lock.error();
  auto state = dir.load(id);
  if (!state) return state.error();
  const auto want = pause ? oci::ContainerStatus::kRunning : oci::ContainerStatus::kPaused;
  if (state->status != want) {
    return Error(std::string("container not ") + (pause ? "running" : "paused") + " (status " +
                     std::string(oci::to_string(state->status)) + ")",
                 EINVAL);
  }
  if (auto r = control_call(control_path(*state), {{"op", pause ? "pause" : "resume"}}); !r)
    return r.error();
  state->status = pause ? oci::ContainerStatus::kPaused : oci::ContainerStatus::kRunning;
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

Result<nlohmann::json> container_stats(const oci::State& state) {
  auto r = control_call(control_path(state), {{"op", "stats"}});
  if (!r) return r.error();
  auto it = r->find("stats");
  if (it == r->end() || !it->is_object()) return Error("supervisor: stats missing");
  return *it;
}

Status update_container(const oci::State& state, const nlohmann::json& resources) {
  auto r = control_call(control_path(state), {{"op", "update"}, {"resources", resources}});
  if (!r) return r.error();
  return {};
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
