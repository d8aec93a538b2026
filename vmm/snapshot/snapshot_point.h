// The snapshot point: a port the guest writes once it is ready to be saved (runvm's
// guest-init in template mode, guest-init/README.md). Only a VMM started with
// --snapshot-save has it; in any other VM the port is unassigned and the write is
// dropped, so a guest cannot make a VM save itself.
#pragma once

#include <cstdint>
#include <span>

#include "base/snapshot_point.h"
#include "vmm/bus/bus.h"
#include "vmm/vm_stop.h"

namespace runvm::vmm::snapshot {

using runvm::kSnapshotPointPort;
using runvm::kSnapshotPointValue;

class SnapshotPoint : public BusDevice {
 public:
  explicit SnapshotPoint(VmStop& stop) : stop_(stop) {}
  void bus_read(uint64_t, std::span<uint8_t> data) override {
    for (auto& b : data) b = 0xff;
  }
  void bus_write(uint64_t, std::span<const uint8_t> data) override {
    if (data.size() == 1 && data[0] == kSnapshotPointValue)
      stop_.request(StopReason::SnapshotPoint, "snapshot point");
  }

 private:
  VmStop& stop_;
};

}  // namespace runvm::vmm::snapshot
