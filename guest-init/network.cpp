#include "guest-init/network.h"

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "base/libnl_owners.h"

namespace runvm::guest {

namespace {

using nl::Addr;
using nl::Cache;
using nl::Obj;

Error nl_error(const std::string& what, int err) {
  return nl::error(what, err);
}

Result<Addr> parse_addr(const std::string& s, int family, const std::string& what) {
  return nl::parse_addr(s, family, what);
}

Status set_up(nl_sock* sk, rtnl_link* link, const std::string& name) {
  Obj<rtnl_link> change(rtnl_link_alloc());
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (int e = rtnl_link_change(sk, link, change.get(), 0); e < 0)
    return nl_error("set " + name + " up", e);
  return {};
}

// The NIC runvm-vmm offers with `mac` (it may still be probing: waits up to 5 s).
Result<Obj<rtnl_link>> find_link_by_mac(nl_sock* sk, const std::string& mac) {
  auto want = parse_addr(mac, AF_LLC, "guest MAC");
  if (!want) return want.error();
  for (int attempt = 0; attempt < 50; ++attempt) {
    nl_cache* raw = nullptr;
    if (int e = rtnl_link_alloc_cache(sk, AF_UNSPEC, &raw); e < 0) return nl_error("list links", e);
    Cache cache(raw);
    for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
      auto* l = reinterpret_cast<rtnl_link*>(o);
      nl_addr* a = rtnl_link_get_addr(l);
      if (a && nl_addr_cmp(a, want->get()) == 0) {
        nl_object_get(o);
        return Obj<rtnl_link>(l);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Error("no network interface with MAC " + mac + " (is virtio_net loaded?)", ENODEV);
}

Status configure_interface(nl_sock* sk, const agent::NetInterface& nic) {
  auto link = find_link_by_mac(sk, nic.guest_mac);
  if (!link) return link.error();
  const int ifindex = rtnl_link_get_ifindex(link->get());
  // Name, MAC and MTU while the link is down (virtio-net cannot change a running MAC).
  auto mac = parse_addr(nic.mac, AF_LLC, "MAC");
  if (!mac) return mac.error();
  Obj<rtnl_link> change(rtnl_link_alloc());
  const char* cur = rtnl_link_get_name(link->get());
  if (!cur || nic.name != cur) rtnl_link_set_name(change.get(), nic.name.c_str());
  rtnl_link_set_addr(change.get(), mac->get());
  rtnl_link_set_mtu(change.get(), nic.mtu);
  if (int e = rtnl_link_change(sk, link->get(), change.get(), 0); e < 0)
    return nl_error("set name/MAC/MTU of " + nic.guest_mac + " (" + nic.name + ")", e);
  Obj<rtnl_link> fresh(nullptr);
  {
    rtnl_link* l = nullptr;
    if (int e = rtnl_link_get_kernel(sk, ifindex, nullptr, &l); e < 0)
      return nl_error("re-read " + nic.name, e);
    fresh.reset(l);
  }
  if (auto ok = set_up(sk, fresh.get(), nic.name); !ok) return ok;

  for (const auto& a : nic.addresses) {
    auto local = parse_addr(a.cidr, AF_UNSPEC, "address");
    if (!local) return local.error();
    Obj<rtnl_addr> addr(rtnl_addr_alloc());
    rtnl_addr_set_ifindex(addr.get(), ifindex);
    rtnl_addr_set_local(addr.get(), local->get());
    rtnl_addr_set_prefixlen(addr.get(), static_cast<int>(nl_addr_get_prefixlen(local->get())));
    // The host side already did duplicate address detection for these addresses.
    if (nl_addr_get_family(local->get()) == AF_INET6) rtnl_addr_set_flags(addr.get(), IFA_F_NODAD);
    if (int e = rtnl_addr_add(sk, addr.get(), 0); e < 0 && e != -NLE_EXIST)
      return nl_error("add address " + a.cidr + " to " + nic.name, e);
  }
  for (const auto& r : nic.routes) {
    int family = AF_UNSPEC;
    Addr gw(nullptr);
    if (!r.gateway.empty()) {
      auto g = parse_addr(r.gateway, AF_UNSPEC, "gateway");
      if (!g) return g.error();
      family = nl_addr_get_family(g->get());
      gw = std::move(*g);
    }
    if (r.destination == "default" && family == AF_UNSPEC) family = AF_INET;
    auto dst = parse_addr(r.destination, family, "route destination");
    if (!dst) return dst.error();
    family = nl_addr_get_family(dst->get());
    Obj<rtnl_route> route(rtnl_route_alloc());
    rtnl_route_set_family(route.get(), static_cast<uint8_t>(family));
    rtnl_route_set_dst(route.get(), dst->get());
    rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
    rtnl_route_set_protocol(route.get(), RTPROT_BOOT);
    rtnl_route_set_scope(route.get(), r.scope == "link" ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE);
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    rtnl_route_nh_set_ifindex(nh, ifindex);
    if (gw) rtnl_route_nh_set_gateway(nh, gw.get());
    rtnl_route_add_nexthop(route.get(), nh);  // the route owns nh now
    // The prefix routes of the addresses above already exist.
    if (int e = rtnl_route_add(sk, route.get(), NLM_F_EXCL); e < 0 && e != -NLE_EXIST)
      return nl_error(
          "add route " + r.destination + (gw ? " via " + r.gateway : "") + " dev " + nic.name, e);
  }
  for (const auto& n : nic.neighbors) {
    auto ip = parse_addr(n.address, AF_UNSPEC, "neighbour");
    if (!ip) return ip.error();
    auto ll = parse_addr(n.mac, AF_LLC, "neighbour MAC");
    if (!ll) return ll.error();
    Obj<rtnl_neigh> neigh(rtnl_neigh_alloc());
    rtnl_neigh_set_ifindex(neigh.get(), ifindex);
    rtnl_neigh_set_dst(neigh.get(), ip->get());
    rtnl_neigh_set_lladdr(neigh.get(), ll->get());
    rtnl_neigh_set_state(neigh.get(), NUD_PERMANENT);
    if (int e = rtnl_neigh_add(sk, neigh.get(), NLM_F_CREATE | NLM_F_REPLACE); e < 0)
      return nl_error("add neighbour " + n.address + " on " + nic.name, e);
  }
  return {};
}

}  // namespace

Status configure_network(const agent::NetworkConfig& net) {
  auto sk = nl::connect_route();
  if (!sk) return sk.error();
  rtnl_link* lo = nullptr;
  if (int e = rtnl_link_get_kernel(sk->get(), 0, "lo", &lo); e < 0) return nl_error("find lo", e);
  Obj<rtnl_link> lo_owner(lo);
  if (auto ok = set_up(sk->get(), lo, "lo"); !ok) return ok;
  for (const auto& nic : net.interfaces)
    if (auto ok = configure_interface(sk->get(), nic); !ok) return ok;
  return {};
}

}  // namespace runvm::guest
