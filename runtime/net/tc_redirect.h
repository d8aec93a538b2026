// Traffic-control redirection between two links of one network namespace: an
// ingress qdisc on each and a u32 match-all filter whose mirred action redirects
// every frame to the other link's egress. What arrives on the veth leaves through
// the tap (to the guest) and the other way round, with neither address nor bridge
// involved, so nothing outside the namespace changes.
#pragma once

#include "base/result.h"

namespace runvm::runtime::net {

// Sets up both directions. On error what was added is removed again.
[[nodiscard]] Status add_redirect(int ifindex_a, int ifindex_b);
// Removes the ingress qdisc of `ifindex` (and with it its filters); a missing
// qdisc or link is not an error.
[[nodiscard]] Status remove_ingress(int ifindex);
// True when `ifindex` has an ingress qdisc.
[[nodiscard]] Result<bool> has_ingress(int ifindex);

}  // namespace runvm::runtime::net
