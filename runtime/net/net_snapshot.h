// What a network namespace holds, read over rtnetlink: links, addresses, main-table
// unicast routes and neighbours, as plain values. attach_plan.h decides from a
// snapshot; tests build snapshots by hand (recorded dumps) to check that logic.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace runvm::runtime::net {

struct LinkInfo {
  int ifindex = 0;
  std::string name;
  std::string mac;   // "aa:bb:..", empty when the link has none
  std::string kind;  // "veth", "tun", ... (rtnetlink IFLA_INFO_KIND), may be empty
  uint32_t mtu = 0;
  bool loopback = false;
  bool up = false;
};

struct AddrInfo {
  int ifindex = 0;
  int family = 0;           // AF_INET / AF_INET6
  std::string cidr;         // "172.17.0.2/16"
  bool link_local = false;  // scope link (fe80::/10, 169.254/16 auto-configured)
};

struct RouteInfo {
  int ifindex = 0;  // first nexthop's output link
  int family = 0;
  std::string destination;  // "default" or CIDR
  std::string gateway;      // empty when none
  bool link_scope = false;
  bool kernel = false;  // made by the kernel for an address (RTPROT_KERNEL)
};

struct NeighInfo {
  int ifindex = 0;
  std::string address;
  std::string mac;
  bool permanent = false;
};

struct NetSnapshot {
  std::vector<LinkInfo> links;
  std::vector<AddrInfo> addresses;
  std::vector<RouteInfo> routes;  // table main, unicast only
  std::vector<NeighInfo> neighbors;
};

// The caller's network namespace, now.
[[nodiscard]] Result<NetSnapshot> read_snapshot();

}  // namespace runvm::runtime::net
