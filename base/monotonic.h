// CLOCK_MONOTONIC in nanoseconds: one clock for every process of a host, so the
// runtime, its supervisor and runvm-vmm can put their start-up steps on one time line.
#pragma once

#include <time.h>

#include <cstdint>

namespace runvm {

inline uint64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace runvm
