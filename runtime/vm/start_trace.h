// Where a container's start goes: each step on the host's CLOCK_MONOTONIC (ns, 0 = not
// reached). The supervisor records it in the container's directory; `runvm --debug run`
// logs it as milliseconds from its own start (bench/start-bench.sh reads that line).
//
// Sources: the supervisor (VMM spawned, agent answered, created, started, exited), the
// VMM's log line (its main() and the moment it enters the guest) and the guest's own clock
// for its steps (PID 1, modules, mounts, agent listening), sent with the agent's hello and
// placed on the host clock by the time that reply arrived. That places them late by the
// reply's one-way latency, well under a millisecond over vsock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/protocol.h"
#include "base/result.h"

namespace runvm::runtime::vm {

struct StartTrace {
  uint64_t vmm_spawn = 0;       // supervisor forks runvm-vmm
  uint64_t vmm_main = 0;        // runvm-vmm's main()
  uint64_t guest_entry = 0;     // VMM set up, vCPUs about to enter the guest kernel
  uint64_t guest_init = 0;      // guest PID 1 (runvm-init) started
  uint64_t guest_modules = 0;   // its kernel modules loaded
  uint64_t guest_rootfs = 0;    // shares and the container's root mounted
  uint64_t agent_listen = 0;    // agent listening on vsock
  uint64_t template_ready = 0;  // a template VM's snapshot found or built (vm_template.h)
  uint64_t agent_ready = 0;     // the supervisor has the agent's hello reply
  uint64_t restored = 0;        // a VM from a snapshot: the agent took `restored`
  uint64_t created = 0;         // agent created the container
  uint64_t start_asked = 0;     // the supervisor got `start` (runvm's create work is done)
  uint64_t started = 0;         // agent started its process
  uint64_t exited = 0;          // the supervisor has the process's exit
  bool operator==(const StartTrace&) const = default;
};

// Reads "runvm-vmm: start trace: main=N guest_entry=N" from the VMM's log; false when
// the line is missing or malformed (the trace then lacks those two steps).
bool parse_vmm_start_line(std::string_view vmm_log, StartTrace& t);

// Puts the guest's steps on the host clock, given when its hello reply arrived. Steps the
// guest reports after its own `now` (a lying guest) are dropped, never trusted.
void place_guest_times(const agent::GuestBootTimes& guest, uint64_t reply_received_ns,
                       StartTrace& t);

[[nodiscard]] nlohmann::json to_json(const StartTrace& t);
[[nodiscard]] Result<StartTrace> start_trace_from_json(const nlohmann::json& j);

// "vmm_spawn=1.2 vmm_main=3.4 ... end=N" in ms from `origin`, steps not reached left
// out; `end` (when the caller finished, 0 = none) is the last field.
[[nodiscard]] std::string format_start_trace(const StartTrace& t, uint64_t origin, uint64_t end);

}  // namespace runvm::runtime::vm
