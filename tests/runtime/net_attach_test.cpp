// The container network, host and guest side, on this machine's kernel: in a fresh
// network namespace shaped like the CNI ptp plugin's (a veth with a /32 address, a
// link-scope route to the gateway, a default route through it, MTU 1400), runtime/net
// finds the veth, redirects it to a tap and describes it; guest-init then applies
// that description in a second namespace to a link carrying the guest NIC's MAC.
// Each case runs in a forked child that unshares its own network namespaces.
#include <gtest/gtest.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "base/libnl_owners.h"
#include "guest-init/network.h"
#include "runtime/net/net_attach.h"
#include "runtime/net/net_snapshot.h"
#include "runtime/net/tap_device.h"
#include "runtime/net/tc_redirect.h"

namespace runvm::runtime::net {
namespace {

// Child exit codes: 0 pass, 77 skip (no namespaces/veth/tun here), other: the failed check.
#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
      return __LINE__ % 200 + 1;                                      \
    }                                                                 \
  } while (0)

template <class F>
int in_child(F body) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  int ws = 0;
  ::waitpid(pid, &ws, 0);
  return WIFEXITED(ws) ? WEXITSTATUS(ws) : 255;
}

// The current namespace's links (a copy: a range-for over read_snapshot()->links would
// iterate a destroyed temporary).
std::vector<LinkInfo> links() {
  auto snap = read_snapshot();
  return snap ? snap->links : std::vector<LinkInfo>{};
}

int ifindex_of(const std::string& name) {
  for (const auto& l : links())
    if (l.name == name) return l.ifindex;
  return 0;
}

// A veth pair `a`/`b` in the current namespace, `a` with `mac` (if given), `mtu` and up.
bool make_veth(const char* a, const char* b, const std::string& mac, unsigned mtu) {
  auto sk = nl::connect_route();
  if (!sk) return false;
  if (rtnl_link_veth_add(sk->get(), a, b, ::getpid()) < 0) return false;
  rtnl_link* raw = nullptr;
  if (rtnl_link_get_kernel(sk->get(), 0, a, &raw) < 0) return false;
  nl::Obj<rtnl_link> link(raw);
  nl::Obj<rtnl_link> change(rtnl_link_alloc());
  if (!mac.empty()) {
    auto m = nl::parse_addr(mac, AF_LLC, "mac");
    if (!m) return false;
    rtnl_link_set_addr(change.get(), m->get());
  }
  rtnl_link_set_mtu(change.get(), mtu);
  if (rtnl_link_change(sk->get(), link.get(), change.get(), 0) < 0) return false;
  return true;
}

bool set_up(const char* name) {
  auto sk = nl::connect_route();
  rtnl_link* raw = nullptr;
  if (!sk || rtnl_link_get_kernel(sk->get(), 0, name, &raw) < 0) return false;
  nl::Obj<rtnl_link> link(raw);
  nl::Obj<rtnl_link> change(rtnl_link_alloc());
  rtnl_link_set_flags(change.get(), IFF_UP);
  return rtnl_link_change(sk->get(), link.get(), change.get(), 0) >= 0;
}

bool add_addr(int ifindex, const std::string& cidr) {
  auto sk = nl::connect_route();
  auto local = nl::parse_addr(cidr, AF_UNSPEC, "addr");
  if (!sk || !local) return false;
  nl::Obj<rtnl_addr> a(rtnl_addr_alloc());
  rtnl_addr_set_ifindex(a.get(), ifindex);
  rtnl_addr_set_local(a.get(), local->get());
  rtnl_addr_set_prefixlen(a.get(), static_cast<int>(nl_addr_get_prefixlen(local->get())));
  return rtnl_addr_add(sk->get(), a.get(), 0) >= 0;
}

bool add_route(int ifindex, const std::string& dst, const std::string& gw, bool link_scope) {
  auto sk = nl::connect_route();
  auto d = nl::parse_addr(dst, AF_INET, "dst");
  if (!sk || !d) return false;
  nl::Obj<rtnl_route> r(rtnl_route_alloc());
  rtnl_route_set_family(r.get(), AF_INET);
  rtnl_route_set_dst(r.get(), d->get());
  rtnl_route_set_table(r.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(r.get(), RTPROT_STATIC);
  rtnl_route_set_scope(r.get(), link_scope ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  rtnl_route_nh_set_ifindex(nh, ifindex);
  if (!gw.empty()) {
    auto g = nl::parse_addr(gw, AF_INET, "gw");
    if (!g) return false;
    rtnl_route_nh_set_gateway(nh, g->get());
  }
  rtnl_route_add_nexthop(r.get(), nh);
  return rtnl_route_add(sk->get(), r.get(), NLM_F_EXCL) >= 0;
}

// The CNI ptp shape in the current namespace: ct0 (container side) 10.1.1.2/32, MTU 1400.
int make_ptp_namespace() {
  if (::unshare(CLONE_NEWNET) != 0) return 77;
  if (!make_veth("ct0", "host0", "", 1400)) return 77;
  if (!set_up("ct0") || !set_up("host0")) return 3;
  int ct0 = ifindex_of("ct0");
  if (!add_addr(ct0, "10.1.1.2/32")) return 4;
  if (!add_route(ct0, "10.1.1.1/32", "", true)) return 5;
  if (!add_route(ct0, "0.0.0.0/0", "10.1.1.1", false)) return 6;
  return 0;
}

TEST(NetAttach, RedirectsTheVethAndDescribesIt) {
  int rc = in_child([]() -> int {
    if (int r = make_ptp_namespace(); r != 0) return r;
    auto tap = open_tap();
    if (!tap) return 77;  // no /dev/net/tun here
    std::string ct0_mac;
    for (const auto& l : links())
      if (l.name == "ct0") ct0_mac = l.mac;
    NetAttachment att(tap->name, tap->ifindex, "02:00:00:00:00:aa");
    auto cfg = att.attach();
    if (!cfg) {
      std::fprintf(stderr, "attach: %s\n", cfg.error().message.c_str());
      return 10;
    }
    CHECK(cfg->interfaces.size() == 1);
    const auto& nic = cfg->interfaces[0];
    CHECK(nic.name == "ct0");
    CHECK(nic.mac == ct0_mac);
    CHECK(nic.guest_mac == "02:00:00:00:00:aa");
    CHECK(nic.mtu == 1400);
    CHECK(nic.addresses.size() == 1 && nic.addresses[0].cidr == "10.1.1.2/32");
    CHECK(nic.routes.size() == 2);
    CHECK(nic.routes[0].destination == "10.1.1.1/32" && nic.routes[0].scope == "link");
    CHECK(nic.routes[1].destination == "default" && nic.routes[1].gateway == "10.1.1.1");
    int ct0 = ifindex_of("ct0");
    CHECK(*has_ingress(ct0));
    CHECK(*has_ingress(tap->ifindex));
    // The tap took the veth's MTU and is up.
    for (const auto& l : links())
      if (l.ifindex == tap->ifindex) CHECK(l.mtu == 1400 && l.up);
    // Attaching again changes nothing (start after a create that attached).
    auto again = att.attach();
    CHECK(again && again->interfaces.size() == 1);
    CHECK(att.detach());
    CHECK(!*has_ingress(ct0));
    CHECK(att.detach());  // idempotent
    return 0;
  });
  if (rc == 77) GTEST_SKIP() << "no network namespaces, veth or tun here";
  EXPECT_EQ(rc, 0);
}

TEST(NetAttach, OnlyLoopbackMeansNothingToAttach) {
  int rc = in_child([]() -> int {
    if (::unshare(CLONE_NEWNET) != 0) return 77;
    auto tap = open_tap();
    if (!tap) return 77;
    NetAttachment att(tap->name, tap->ifindex, "02:00:00:00:00:ab");
    auto cfg = att.attach();
    CHECK(cfg && cfg->interfaces.empty());
    CHECK(!att.attached());
    return 0;
  });
  if (rc == 77) GTEST_SKIP() << "no network namespaces or tun here";
  EXPECT_EQ(rc, 0);
}

TEST(NetAttach, TwoLinksWithAddressesAreRefusedAndLeaveNoQdisc) {
  int rc = in_child([]() -> int {
    if (int r = make_ptp_namespace(); r != 0) return r;
    if (!make_veth("ct1", "host1", "", 1500) || !set_up("ct1")) return 77;
    CHECK(add_addr(ifindex_of("ct1"), "10.2.2.2/24"));
    auto tap = open_tap();
    if (!tap) return 77;
    NetAttachment att(tap->name, tap->ifindex, "02:00:00:00:00:ac");
    auto cfg = att.attach();
    CHECK(!cfg);
    CHECK(cfg.error().message.find("ct0") != std::string::npos);
    CHECK(cfg.error().message.find("ct1") != std::string::npos);
    CHECK(!*has_ingress(ifindex_of("ct0")));
    CHECK(!*has_ingress(tap->ifindex));
    return 0;
  });
  if (rc == 77) GTEST_SKIP() << "no network namespaces, veth or tun here";
  EXPECT_EQ(rc, 0);
}

// The guest's half: what attach described, applied by guest-init to the NIC found by
// its MAC, in a namespace standing in for the guest.
TEST(GuestNetwork, AppliesTheDescriptionToTheNicWithTheGuestMac) {
  int rc = in_child([]() -> int {
    if (int r = make_ptp_namespace(); r != 0) return r;
    auto tap = open_tap();
    if (!tap) return 77;
    NetAttachment att(tap->name, tap->ifindex, "02:00:00:00:00:ad");
    auto cfg = att.attach();
    CHECK(cfg && cfg->interfaces.size() == 1);
    const agent::NetInterface want = cfg->interfaces[0];
    // The "guest": a new namespace whose NIC (one end of a veth) has the guest MAC.
    if (::unshare(CLONE_NEWNET) != 0) return 77;
    CHECK(make_veth("eth9", "peer9", "02:00:00:00:00:ad", 1500));
    CHECK(set_up("peer9"));
    auto ok = guest::configure_network(*cfg);
    if (!ok) {
      std::fprintf(stderr, "configure: %s\n", ok.error().message.c_str());
      return 20;
    }
    auto snap = read_snapshot();
    CHECK(snap);
    const LinkInfo* nic = nullptr;
    for (const auto& l : snap->links)
      if (l.name == want.name) nic = &l;
    CHECK(nic != nullptr);
    CHECK(nic->mac == want.mac);
    CHECK(nic->mtu == 1400);
    CHECK(nic->up);
    bool lo_up = false;
    for (const auto& l : snap->links)
      if (l.loopback) lo_up = l.up;
    CHECK(lo_up);
    bool addr = false, link_route = false, default_route = false;
    for (const auto& a : snap->addresses)
      if (a.ifindex == nic->ifindex && a.cidr == "10.1.1.2/32") addr = true;
    for (const auto& r : snap->routes) {
      if (r.ifindex != nic->ifindex) continue;
      if (r.destination == "10.1.1.1/32" && r.link_scope) link_route = true;
      if (r.destination == "default" && r.gateway == "10.1.1.1") default_route = true;
    }
    CHECK(addr);
    CHECK(link_route);
    CHECK(default_route);
    // No NIC with that MAC: a clear error, not a hang.
    agent::NetworkConfig missing = *cfg;
    missing.interfaces[0].guest_mac = "02:00:00:00:00:ee";
    auto err = guest::configure_network(missing);
    CHECK(!err);
    CHECK(err.error().message.find("02:00:00:00:00:ee") != std::string::npos);
    return 0;
  });
  if (rc == 77) GTEST_SKIP() << "no network namespaces, veth or tun here";
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace runvm::runtime::net
