// Per-opcode request counts and service times of one FUSE session: where a workload's
// virtio-fs time goes (how many round trips of which kind, and how long the host side took
// for them). Printed with the device state on SIGUSR1 (vmm/main/README.md). Lock-free:
// the request workers record concurrently.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace runvm::vmm::virtio::fs {

class RequestStats {
 public:
  static constexpr uint32_t kOpcodes = 64;  // FUSE opcodes in use are below 64

  // One served request: `op` (anything >= kOpcodes counts as "other"), `ns` spent on it.
  void record(uint32_t op, uint64_t ns);
  // "LOOKUP=120/35.2ms WRITE=16/410.0ms ...", busiest first; "" before any request.
  std::string summary() const;

 private:
  struct Counter {
    std::atomic<uint64_t> n{0}, ns{0};
  };
  std::array<Counter, kOpcodes + 1> by_op_;
};

// "LOOKUP", "READDIRPLUS", ...; "OP<n>" for an opcode without a name here.
std::string fuse_opcode_name(uint32_t op);

}  // namespace runvm::vmm::virtio::fs
