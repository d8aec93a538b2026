// Attach planning from recorded namespace dumps (runtime/net/attach_plan.h).
#include "runtime/net/attach_plan.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace runvm::runtime::net {
namespace {

// What `ip` shows in a Docker bridge container: lo, eth0 (veth) 172.17.0.2/16 with
// its kernel prefix route and fe80 address, a default route via 172.17.0.1.
NetSnapshot docker_bridge() {
  NetSnapshot s;
  s.links = {{1, "lo", "00:00:00:00:00:00", "", 65536, true, true},
             {7, "eth0", "02:42:ac:11:00:02", "veth", 1500, false, true}};
  s.addresses = {{1, AF_INET, "127.0.0.1/8", false},
                 {7, AF_INET, "172.17.0.2/16", false},
                 {7, AF_INET6, "fe80::42:acff:fe11:2/64", true}};
  s.routes = {{7, AF_INET, "172.17.0.0/16", "", true, true},
              {7, AF_INET, "default", "172.17.0.1", false, false},
              {7, AF_INET6, "fe80::/64", "", false, true}};
  s.neighbors = {{7, "172.17.0.1", "02:42:5a:00:00:01", false},
                 {7, "172.17.0.9", "02:42:ac:11:00:09", true}};
  return s;
}

TEST(AttachPlan, DockerBridgeContainer) {
  auto p = plan_attach(docker_bridge(), "runvm-tap0", "02:11:22:33:44:55");
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_TRUE(p->has_value());
  const AttachPlan& a = **p;
  EXPECT_EQ(a.link_ifindex, 7);
  EXPECT_EQ(a.guest.name, "eth0");
  EXPECT_EQ(a.guest.mac, "02:42:ac:11:00:02");
  EXPECT_EQ(a.guest.guest_mac, "02:11:22:33:44:55");
  EXPECT_EQ(a.guest.mtu, 1500u);
  ASSERT_EQ(a.guest.addresses.size(), 1u);  // not the link-local one
  EXPECT_EQ(a.guest.addresses[0].cidr, "172.17.0.2/16");
  ASSERT_EQ(a.guest.routes.size(), 1u);  // kernel prefix routes are the guest kernel's
  EXPECT_EQ(a.guest.routes[0].destination, "default");
  EXPECT_EQ(a.guest.routes[0].gateway, "172.17.0.1");
  ASSERT_EQ(a.guest.neighbors.size(), 1u);  // permanent ones only
  EXPECT_EQ(a.guest.neighbors[0].address, "172.17.0.9");
}

TEST(AttachPlan, LinkScopeRoutesComeFirst) {
  NetSnapshot s;
  s.links = {{2, "eth0", "0a:58:0a:01:01:02", "veth", 1400, false, true}};
  s.addresses = {{2, AF_INET, "10.1.1.2/32", false}};
  s.routes = {{2, AF_INET, "default", "10.1.1.1", false, false},
              {2, AF_INET, "10.1.1.1/32", "", true, false}};
  auto p = plan_attach(s, "runvm-tap0", "02:00:00:00:00:01");
  ASSERT_TRUE(p && p->has_value());
  ASSERT_EQ((*p)->guest.routes.size(), 2u);
  EXPECT_EQ((*p)->guest.routes[0].destination, "10.1.1.1/32");
  EXPECT_EQ((*p)->guest.routes[0].scope, "link");
  EXPECT_EQ((*p)->guest.routes[1].destination, "default");
  EXPECT_EQ((*p)->guest.mtu, 1400u);
}

TEST(AttachPlan, OnlyLoopbackOrOnlyTheTapIsNothingToAttach) {
  NetSnapshot s;
  s.links = {{1, "lo", "00:00:00:00:00:00", "", 65536, true, true},
             {3, "runvm-tap0", "aa:bb:cc:dd:ee:ff", "tun", 1500, false, true}};
  s.addresses = {{1, AF_INET, "127.0.0.1/8", false}, {3, AF_INET, "10.0.0.1/24", false}};
  auto p = plan_attach(s, "runvm-tap0", "02:00:00:00:00:01");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->has_value());
}

TEST(AttachPlan, ALinkWithOnlyALinkLocalAddressIsNotCandidate) {
  NetSnapshot s = docker_bridge();
  s.addresses.erase(s.addresses.begin() + 1);  // drop 172.17.0.2/16
  auto p = plan_attach(s, "runvm-tap0", "02:00:00:00:00:01");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->has_value());
}

TEST(AttachPlan, TwoLinksWithAddressesAreAnErrorNamingBoth) {
  NetSnapshot s = docker_bridge();
  s.links.push_back({9, "net1", "02:00:00:00:09:09", "macvlan", 1500, false, true});
  s.addresses.push_back({9, AF_INET, "192.168.5.5/24", false});
  auto p = plan_attach(s, "runvm-tap0", "02:00:00:00:00:01");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("eth0, net1"), std::string::npos) << p.error().message;
}

TEST(AttachPlan, ALinkWithoutMacIsRefused) {
  NetSnapshot s;
  s.links = {{4, "wg0", "", "wireguard", 1420, false, true}};
  s.addresses = {{4, AF_INET, "10.9.0.2/32", false}};
  auto p = plan_attach(s, "runvm-tap0", "02:00:00:00:00:01");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("wg0"), std::string::npos);
}

}  // namespace
}  // namespace runvm::runtime::net
