// The tap device the guest NIC is backed by, created in the caller's network
// namespace: IFF_TAP|IFF_NO_PI|IFF_VNET_HDR with a 12-byte virtio_net_hdr_v1, so
// runvm-vmm passes frames and their offload header through unchanged. The device
// is not persistent: it disappears with the last fd (the VMM's).
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace runvm::runtime::net {

inline constexpr const char* kTapName = "runvm-tap0";

struct Tap {
  UniqueFd fd;
  std::string name;
  int ifindex = 0;
};

[[nodiscard]] Result<Tap> open_tap(const std::string& name = kTapName);

// Sets `ifindex`'s MTU and brings it up.
[[nodiscard]] Status set_link_mtu_up(int ifindex, unsigned mtu);

// A random locally administered unicast MAC for the guest NIC.
[[nodiscard]] std::string random_guest_mac();

}  // namespace runvm::runtime::net
