// Whether a pid recorded in state.json still names the same live process.
// A pid can be reused after its process exits, so the kernel's start time of
// the process (field 22 of /proc/<pid>/stat) is recorded beside it.
#pragma once

#include <cstdint>
#include <optional>

namespace runvm::runtime {

// Start time (clock ticks since boot) of `pid`, or nullopt when there is no such
// process or it is a zombie (it has exited and only waits to be reaped).
[[nodiscard]] std::optional<uint64_t> process_start_time(int pid);

// True when `pid` > 0 is alive and, if `start_time` != 0, started at `start_time`.
[[nodiscard]] bool process_alive(int pid, uint64_t start_time);

}  // namespace runvm::runtime
