// The commands' side of a container's microVM: start, signal and wait for the
// supervisor (through <state>/ctl.sock or as its parent).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "oci/state.h"
#include "runtime/state_dir.h"

namespace runvm::runtime::vm {

// After the create hooks: attaches the container's network namespace to the guest NIC if
// whoever fills it (Docker 20.10's prestart hook, CNI before create) has done so; else
// start does it.
[[nodiscard]] Status attach_network(const oci::State& state);

// Releases the held container process and records it as running. The caller
// has checked that the container is "created".
[[nodiscard]] Status start_container(const StateDir& dir, const std::string& id);

// Freezes (pause=true) or thaws the container's microVM and records it as
// paused or running. The caller has checked the container exists.
[[nodiscard]] Status set_paused(const StateDir& dir, const std::string& id, bool pause);

// Forwards a signal to the container's init process (all = every process).
[[nodiscard]] Status signal_container(const oci::State& state, int sig, bool all);

// Guest pids of the container's processes.
[[nodiscard]] Result<std::vector<int>> container_pids(const oci::State& state);

// The container's cgroup statistics in the guest (runc's events "data" object).
[[nodiscard]] Result<nlohmann::json> container_stats(const oci::State& state);

// New linux.resources limits for the container's cgroup in the guest.
[[nodiscard]] Status update_container(const oci::State& state, const nlohmann::json& resources);

// For `run`: waits for the supervisor (a child of this process) and returns
// the container's exit status.
[[nodiscard]] Result<int> wait_container(const oci::State& state);

}  // namespace runvm::runtime::vm
