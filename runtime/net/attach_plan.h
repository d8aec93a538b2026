// Which link of the container's network namespace the guest NIC stands in for, and
// what the guest must configure to take its place (Kata's "tcfilter" model: the
// veth Docker or CNI made keeps its address, traffic is redirected veth <-> tap).
//
// The link is the single non-loopback link, other than our tap, with an address
// that is not link-local. None: nothing to attach (Docker's --network none, only
// lo). Two or more: an error naming them (runvm attaches one NIC).
#pragma once

#include <optional>
#include <string>

#include "agent/network_config.h"
#include "base/result.h"
#include "runtime/net/net_snapshot.h"

namespace runvm::runtime::net {

struct AttachPlan {
  int link_ifindex = 0;  // the veth
  std::string link_name;
  agent::NetInterface guest;  // what the guest NIC becomes
};

[[nodiscard]] Result<std::optional<AttachPlan>> plan_attach(const NetSnapshot& snap,
                                                            const std::string& tap_name,
                                                            const std::string& guest_mac);

}  // namespace runvm::runtime::net
