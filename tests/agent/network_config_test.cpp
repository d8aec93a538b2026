// The `network` request (agent/network_config.h): round trip and hostile input.
#include "agent/network_config.h"

#include <gtest/gtest.h>

#include <functional>

#include "agent/protocol.h"

namespace runvm::agent {
namespace {

NetworkConfig sample() {
  NetInterface i;
  i.guest_mac = "02:00:00:00:00:01";
  i.mac = "02:42:AC:11:00:02";
  i.name = "eth0";
  i.mtu = 1400;
  i.addresses = {{"172.17.0.2/16"}, {"fd00::2/64"}};
  i.routes = {{"10.1.1.1/32", "", "link"}, {"default", "172.17.0.1", "universe"}};
  i.neighbors = {{"172.17.0.9", "02:42:ac:11:00:09"}};
  return {{i}};
}

TEST(NetworkConfig, RoundTripsThroughARequest) {
  Request r{7, NetworkReq{sample()}};
  auto back = decode_request(encode_request(r), nullptr);
  ASSERT_TRUE(back) << back.error().message;
  auto* n = std::get_if<NetworkReq>(&back->body);
  ASSERT_NE(n, nullptr);
  ASSERT_EQ(n->network.interfaces.size(), 1u);
  const NetInterface& i = n->network.interfaces[0];
  EXPECT_EQ(i.mac, "02:42:AC:11:00:02");
  EXPECT_EQ(i.mtu, 1400u);
  ASSERT_EQ(i.routes.size(), 2u);
  EXPECT_EQ(i.routes[1].gateway, "172.17.0.1");
  EXPECT_EQ(i.addresses[1].cidr, "fd00::2/64");
  EXPECT_EQ(i.neighbors[0].mac, "02:42:ac:11:00:09");
}

// Each mutation must be refused with an error naming the field.
TEST(NetworkConfig, RejectsMalformedFields) {
  struct Case {
    const char* field;
    std::function<void(nlohmann::json&)> mutate;
  };
  const std::vector<Case> cases = {
      {"guest_mac", [](auto& j) { j["interfaces"][0]["guest_mac"] = "02:00:00:00:00"; }},
      {"mac", [](auto& j) { j["interfaces"][0]["mac"] = "zz:00:00:00:00:00"; }},
      {"name", [](auto& j) { j["interfaces"][0]["name"] = "a-very-long-interface"; }},
      {"name", [](auto& j) { j["interfaces"][0]["name"] = "../x"; }},
      {"mtu", [](auto& j) { j["interfaces"][0]["mtu"] = 67; }},
      {"mtu", [](auto& j) { j["interfaces"][0]["mtu"] = -1; }},
      {"addresses[0]", [](auto& j) { j["interfaces"][0]["addresses"][0] = "172.17.0.2/33"; }},
      {"addresses[1]", [](auto& j) { j["interfaces"][0]["addresses"][1] = "fd00::2"; }},
      {"destination", [](auto& j) { j["interfaces"][0]["routes"][0]["destination"] = "x/8"; }},
      {"gateway", [](auto& j) { j["interfaces"][0]["routes"][1]["gateway"] = "1.2.3"; }},
      {"scope", [](auto& j) { j["interfaces"][0]["routes"][1]["scope"] = "host"; }},
      {"neighbors[0]", [](auto& j) { j["interfaces"][0]["neighbors"][0] = 5; }},
      {"interfaces", [](auto& j) { j["interfaces"] = "eth0"; }},
      {"addresses",
       [](auto& j) {
         j["interfaces"][0]["addresses"] = nlohmann::json::array();
         for (size_t k = 0; k <= kMaxNetEntries; ++k)
           j["interfaces"][0]["addresses"].push_back("10.0.0.1/32");
       }},
  };
  for (const auto& c : cases) {
    nlohmann::json j = to_json(sample());
    ASSERT_TRUE(network_config_from_json(j));
    c.mutate(j);
    auto r = network_config_from_json(j);
    ASSERT_FALSE(r) << c.field;
    EXPECT_NE(r.error().message.find(c.field), std::string::npos)
        << c.field << ": " << r.error().message;
  }
}

TEST(NetworkConfig, MacParsingAndFormatting) {
  uint8_t m[6];
  ASSERT_TRUE(parse_mac("0a:1B:2c:3D:4e:5F", m));
  EXPECT_EQ(format_mac(m), "0a:1b:2c:3d:4e:5f");
  EXPECT_FALSE(parse_mac("0a-1b-2c-3d-4e-5f", m));
  EXPECT_FALSE(parse_mac("0a:1b:2c:3d:4e:5", m));
  EXPECT_FALSE(parse_mac("0a:1b:2c:3d:4e:5g", m));
}

}  // namespace
}  // namespace runvm::agent
