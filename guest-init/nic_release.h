// NICs the network request does not describe leave the guest: Docker's `--network none`
// (a namespace with only lo) still gets runvm-vmm's NIC, and a runc container there sees
// only lo. Unbinding the virtio device from virtio_net removes the interface; the PCI
// device stays, inert.
#pragma once

#include <string>

#include "agent/network_config.h"
#include "base/result.h"

namespace runvm::guest {

inline constexpr const char* kVirtioNetDriverDir = "/sys/bus/virtio/drivers/virtio_net";

// Unbinds every device bound in `driver_dir` whose interface's MAC is neither a guest_mac
// nor a mac of `net`'s interfaces (call it after configure_network: the NIC has taken the
// host link's MAC by then). A missing driver_dir (no NIC, module not loaded) is no error.
// Returns how many were unbound.
[[nodiscard]] Result<int> release_undescribed_nics(const agent::NetworkConfig& net,
                                                   const std::string& driver_dir);

}  // namespace runvm::guest
