#include "runtime/net/attach_plan.h"

#include <sys/socket.h>

#include <algorithm>

namespace runvm::runtime::net {

Result<std::optional<AttachPlan>> plan_attach(const NetSnapshot& snap, const std::string& tap_name,
                                              const std::string& guest_mac) {
  std::vector<const LinkInfo*> candidates;
  for (const LinkInfo& l : snap.links) {
    if (l.loopback || l.name == tap_name) continue;
    bool has_addr = std::any_of(snap.addresses.begin(), snap.addresses.end(),
                                [&](auto& a) { return a.ifindex == l.ifindex && !a.link_local; });
    if (has_addr) candidates.push_back(&l);
  }
  if (candidates.empty()) return std::optional<AttachPlan>();
  if (candidates.size() > 1) {
    std::string names;
    for (auto* l : candidates) names += (names.empty() ? "" : ", ") + l->name;
    return Error("the network namespace has " + std::to_string(candidates.size()) +
                     " links with addresses (" + names + "); runvm gives the VM one NIC",
                 EINVAL);
  }
  const LinkInfo& link = *candidates[0];
  if (link.mac.empty())
    return Error("link " + link.name + " has no MAC address (not an Ethernet link)", EINVAL);

  AttachPlan p;
  p.link_ifindex = link.ifindex;
  p.link_name = link.name;
  p.guest.guest_mac = guest_mac;
  p.guest.mac = link.mac;
  p.guest.name = link.name;
  p.guest.mtu = link.mtu ? link.mtu : 1500;
  for (const AddrInfo& a : snap.addresses)
    if (a.ifindex == link.ifindex && !a.link_local) p.guest.addresses.push_back({a.cidr});
  // The guest's kernel makes the prefix routes of its addresses itself; link-scope routes
  // go first, since a gateway must be reachable before a route through it is added.
  std::vector<agent::NetRoute> link_routes, other_routes;
  for (const RouteInfo& r : snap.routes) {
    if (r.ifindex != link.ifindex || r.kernel) continue;
    if (r.family == AF_INET6 && r.destination.rfind("fe80:", 0) == 0) continue;
    agent::NetRoute nr{r.destination, r.gateway, r.link_scope ? "link" : "universe"};
    (r.link_scope ? link_routes : other_routes).push_back(nr);
  }
  p.guest.routes = link_routes;
  p.guest.routes.insert(p.guest.routes.end(), other_routes.begin(), other_routes.end());
  for (const NeighInfo& n : snap.neighbors)
    if (n.ifindex == link.ifindex && n.permanent) p.guest.neighbors.push_back({n.address, n.mac});
  return std::optional<AttachPlan>(std::move(p));
}

}  // namespace runvm::runtime::net
