#include "runtime/net/net_snapshot.h"

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <sys/socket.h>

#include "agent/network_config.h"
#include "base/libnl_owners.h"

namespace runvm::runtime::net {

namespace {

// "ip" or "ip/prefix" of an nl_addr (prefix only when with_prefix).
std::string ip_string(nl_addr* a, bool with_prefix) {
  if (!a) return {};
  char buf[INET6_ADDRSTRLEN] = {};
  int family = nl_addr_get_family(a);
  if ((family != AF_INET && family != AF_INET6) ||
      nl_addr_get_len(a) != (family == AF_INET ? 4u : 16u) ||
      !inet_ntop(family, nl_addr_get_binary_addr(a), buf, sizeof buf))
    return {};
  std::string s = buf;
  if (with_prefix) s += "/" + std::to_string(nl_addr_get_prefixlen(a));
  return s;
}

std::string mac_string(nl_addr* a) {
  if (!a || nl_addr_get_len(a) != 6) return {};
  return agent::format_mac(static_cast<const uint8_t*>(nl_addr_get_binary_addr(a)));
}

template <typename Fn>
void for_each(nl_cache* c, Fn fn) {
  for (nl_object* o = nl_cache_get_first(c); o; o = nl_cache_get_next(o)) fn(o);
}

}  // namespace

Result<NetSnapshot> read_snapshot() {
  auto sk = nl::connect_route();
  if (!sk) return sk.error();
  NetSnapshot s;
  nl_cache* raw = nullptr;
  if (int e = rtnl_link_alloc_cache(sk->get(), AF_UNSPEC, &raw); e < 0)
    return nl::error("list links", e);
  nl::Cache links(raw);
  for_each(links.get(), [&](nl_object* o) {
    auto* l = reinterpret_cast<rtnl_link*>(o);
    LinkInfo li;
    li.ifindex = rtnl_link_get_ifindex(l);
    li.name = rtnl_link_get_name(l) ? rtnl_link_get_name(l) : "";
    li.mac = mac_string(rtnl_link_get_addr(l));
    li.kind = rtnl_link_get_type(l) ? rtnl_link_get_type(l) : "";
    li.mtu = rtnl_link_get_mtu(l);
    li.loopback = rtnl_link_get_arptype(l) == ARPHRD_LOOPBACK;
    li.up = (rtnl_link_get_flags(l) & IFF_UP) != 0;
    s.links.push_back(li);
  });

  if (int e = rtnl_addr_alloc_cache(sk->get(), &raw); e < 0) return nl::error("list addresses", e);
  nl::Cache addrs(raw);
  for_each(addrs.get(), [&](nl_object* o) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    AddrInfo ai;
    ai.ifindex = rtnl_addr_get_ifindex(a);
    ai.family = rtnl_addr_get_family(a);
    std::string ip = ip_string(rtnl_addr_get_local(a), false);
    if (ip.empty()) return;
    ai.cidr = ip + "/" + std::to_string(rtnl_addr_get_prefixlen(a));
    ai.link_local = rtnl_addr_get_scope(a) == RT_SCOPE_LINK;
    s.addresses.push_back(ai);
  });

  if (int e = rtnl_route_alloc_cache(sk->get(), AF_UNSPEC, 0, &raw); e < 0)
    return nl::error("list routes", e);
  nl::Cache routes(raw);
  for_each(routes.get(), [&](nl_object* o) {
    auto* r = reinterpret_cast<rtnl_route*>(o);
    if (rtnl_route_get_table(r) != RT_TABLE_MAIN || rtnl_route_get_type(r) != RTN_UNICAST) return;
    if (rtnl_route_get_nnexthops(r) < 1) return;
    rtnl_nexthop* nh = rtnl_route_nexthop_n(r, 0);
    RouteInfo ri;
    ri.ifindex = rtnl_route_nh_get_ifindex(nh);
    ri.family = rtnl_route_get_family(r);
    nl_addr* dst = rtnl_route_get_dst(r);
    ri.destination = (!dst || nl_addr_get_prefixlen(dst) == 0) ? "default" : ip_string(dst, true);
    if (ri.destination.empty()) return;
    ri.gateway = ip_string(rtnl_route_nh_get_gateway(nh), false);
    ri.link_scope = rtnl_route_get_scope(r) == RT_SCOPE_LINK;
    ri.kernel = rtnl_route_get_protocol(r) == RTPROT_KERNEL;
    s.routes.push_back(ri);
  });

  if (int e = rtnl_neigh_alloc_cache(sk->get(), &raw); e < 0)
    return nl::error("list neighbours", e);
  nl::Cache neighs(raw);
  for_each(neighs.get(), [&](nl_object* o) {
    auto* n = reinterpret_cast<rtnl_neigh*>(o);
    NeighInfo ni;
    ni.ifindex = rtnl_neigh_get_ifindex(n);
    ni.address = ip_string(rtnl_neigh_get_dst(n), false);
    ni.mac = mac_string(rtnl_neigh_get_lladdr(n));
    ni.permanent = (rtnl_neigh_get_state(n) & NUD_PERMANENT) != 0;
    if (!ni.address.empty() && !ni.mac.empty()) s.neighbors.push_back(ni);
  });
  return s;
}

}  // namespace runvm::runtime::net
