// The snapshot point: the port and value a template VM's guest-init writes when it is
// ready to be saved (guest-init/restore.h), and the VMM listens for with
// --snapshot-save (vmm/snapshot/snapshot_point.h). In base/ because both sides of the
// guest boundary build against it.
#pragma once

#include <cstdint>

namespace runvm {

inline constexpr uint16_t kSnapshotPointPort = 0x5f0;
inline constexpr uint8_t kSnapshotPointValue = 0x5a;

}  // namespace runvm
