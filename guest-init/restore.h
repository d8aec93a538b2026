// A template VM's two halves (issue 15, vmm/snapshot/README.md): reaching the
// snapshot point, and what a VM started from the snapshot does on `restored`
// before its container exists.
#pragma once

#include "agent/protocol.h"
#include "base/result.h"
#include "guest-init/boot.h"

namespace runvm::guest {

// Writes the snapshot point port. In the template VM the VMM saves the VM and ends;
// the call returns in every VM started from that snapshot.
[[nodiscard]] Status reach_snapshot_point();

// Mixes the host's seed into the guest's pool and forces the CRNG to reseed, so that
// VMs from one snapshot never share random bytes; sets CLOCK_REALTIME (the snapshot's
// clock stood still on disk).
[[nodiscard]] Status reseed_and_set_clock(const agent::RestoredReq& r);

}  // namespace runvm::guest
