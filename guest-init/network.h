// Applies the container's network (agent/network_config.h) inside the guest over
// rtnetlink (libnl-route-3): lo up, then for each interface the NIC runvm-vmm
// offers with guest_mac takes the host link's MAC, name and MTU, comes up, and gets
// its addresses, routes (in the order given: link-scope first) and permanent
// neighbours. Debian's kernels have no `ip=` (CONFIG_IP_PNP is off), so this is
// the only place the guest's network is set up.
#pragma once

#include "agent/network_config.h"
#include "base/result.h"

namespace runvm::guest {

[[nodiscard]] Status configure_network(const agent::NetworkConfig& net);

}  // namespace runvm::guest
