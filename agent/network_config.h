// The guest's network as the host found it in the container's network namespace:
// what runtime/net sends (agent op `network`) and guest-init applies over netlink.
// The guest NIC takes the identity of the host link it stands in for (MAC, name,
// MTU, addresses), so tools that recorded the veth (docker inspect, CNI results)
// stay right. Decoding validates every field: addresses and prefixes must parse,
// names fit IFNAMSIZ, counts are bounded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace runvm::agent {

struct NetAddress {
  std::string cidr;  // "172.17.0.2/16", "fd00::2/64"
};

struct NetRoute {
  std::string destination;  // "default" or a CIDR ("10.0.0.0/8", "10.1.1.1/32")
  std::string gateway;      // empty for a link-scope route
  std::string scope;        // "link" or "universe"
};

struct NetNeighbor {
  std::string address;  // IP
  std::string mac;      // aa:bb:cc:dd:ee:ff
};

struct NetInterface {
  std::string guest_mac;  // how the guest finds its NIC (the MAC runvm-vmm offers)
  std::string mac;        // the MAC it takes (the host link's)
  std::string name;       // the name it takes ("eth0")
  uint32_t mtu = 1500;
  std::vector<NetAddress> addresses;
  std::vector<NetRoute> routes;  // link-scope routes first
  std::vector<NetNeighbor> neighbors;
};

struct NetworkConfig {
  std::vector<NetInterface> interfaces;
};

inline constexpr size_t kMaxNetEntries = 256;  // per list, from a hostile or broken peer

[[nodiscard]] nlohmann::json to_json(const NetworkConfig& c);
[[nodiscard]] Result<NetworkConfig> network_config_from_json(const nlohmann::json& j);

// "aa:bb:cc:dd:ee:ff" (lower or upper hex) into 6 bytes.
[[nodiscard]] bool parse_mac(const std::string& s, uint8_t out[6]);
[[nodiscard]] std::string format_mac(const uint8_t mac[6]);

}  // namespace runvm::agent
