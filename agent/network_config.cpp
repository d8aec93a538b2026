#include "agent/network_config.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <cstdio>

namespace runvm::agent {

namespace {

using nlohmann::json;

bool parse_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool parse_cidr(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos || slash + 1 >= s.size() || s.size() - slash > 4) return false;
  std::string ip = s.substr(0, slash);
  unsigned char buf[16];
  int max = inet_pton(AF_INET, ip.c_str(), buf) == 1    ? 32
            : inet_pton(AF_INET6, ip.c_str(), buf) == 1 ? 128
                                                        : -1;
  if (max < 0) return false;
  int prefix = 0;
  for (char c : s.substr(slash + 1)) {
    if (c < '0' || c > '9') return false;
    prefix = prefix * 10 + (c - '0');
  }
  return prefix <= max;
}

Result<std::string> get_string(const json& j, const char* key, const std::string& where,
                               bool required = true) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (!required) return std::string();
    return Error(where + "." + key + " is missing", EINVAL);
  }
  if (!it->is_string()) return Error(where + "." + key + " must be a string", EINVAL);
  return it->get<std::string>();
}

Result<const json*> get_array(const json& j, const char* key, const std::string& where) {
  static const json kEmpty = json::array();
  auto it = j.find(key);
  if (it == j.end()) return &kEmpty;
  if (!it->is_array()) return Error(where + "." + key + " must be an array", EINVAL);
  if (it->size() > kMaxNetEntries)
    return Error(
        where + "." + key + " has more than " + std::to_string(kMaxNetEntries) + " entries",
        EINVAL);
  return &*it;
}

Result<NetInterface> interface_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) return Error(where + " must be an object", EINVAL);
  NetInterface i;
  uint8_t mac[6];
  auto gm = get_string(j, "guest_mac", where);
  if (!gm) return gm.error();
  if (!parse_mac(*gm, mac)) return Error(where + ".guest_mac: not a MAC address", EINVAL);
  i.guest_mac = *gm;
  auto m = get_string(j, "mac", where);
  if (!m) return m.error();
  if (!parse_mac(*m, mac)) return Error(where + ".mac: not a MAC address", EINVAL);
  i.mac = *m;
  auto n = get_string(j, "name", where);
  if (!n) return n.error();
  if (n->empty() || n->size() >= IFNAMSIZ || n->find_first_of("/: \t\n") != std::string::npos)
    return Error(where + ".name: not a network interface name", EINVAL);
  i.name = *n;
  auto mtu = j.find("mtu");
  if (mtu == j.end() || !mtu->is_number_unsigned() || *mtu < 68u || *mtu > 65535u)
    return Error(where + ".mtu must be a number in 68..65535", EINVAL);
  i.mtu = mtu->get<uint32_t>();

  auto addrs = get_array(j, "addresses", where);
  if (!addrs) return addrs.error();
  for (size_t k = 0; k < (*addrs)->size(); ++k) {
    const json& a = (**addrs)[k];
    std::string w = where + ".addresses[" + std::to_string(k) + "]";
    if (!a.is_string() || !parse_cidr(a.get<std::string>()))
      return Error(w + ": not an address/prefix", EINVAL);
    i.addresses.push_back({a.get<std::string>()});
  }
  auto routes = get_array(j, "routes", where);
  if (!routes) return routes.error();
  for (size_t k = 0; k < (*routes)->size(); ++k) {
    const json& r = (**routes)[k];
    std::string w = where + ".routes[" + std::to_string(k) + "]";
    if (!r.is_object()) return Error(w + " must be an object", EINVAL);
    NetRoute route;
    auto d = get_string(r, "destination", w);
    if (!d) return d.error();
    if (*d != "default" && !parse_cidr(*d)) return Error(w + ".destination: not a CIDR", EINVAL);
    route.destination = *d;
    auto g = get_string(r, "gateway", w, false);
    if (!g) return g.error();
    if (!g->empty() && !parse_ip(*g)) return Error(w + ".gateway: not an IP address", EINVAL);
    route.gateway = *g;
    auto s = get_string(r, "scope", w, false);
    if (!s) return s.error();
    if (s->empty()) *s = "universe";
    if (*s != "link" && *s != "universe") return Error(w + ".scope: link or universe", EINVAL);
    route.scope = *s;
    i.routes.push_back(route);
  }
  auto neighs = get_array(j, "neighbors", where);
  if (!neighs) return neighs.error();
  for (size_t k = 0; k < (*neighs)->size(); ++k) {
    const json& nb = (**neighs)[k];
    std::string w = where + ".neighbors[" + std::to_string(k) + "]";
    if (!nb.is_object()) return Error(w + " must be an object", EINVAL);
    auto ip = get_string(nb, "address", w);
    if (!ip) return ip.error();
    if (!parse_ip(*ip)) return Error(w + ".address: not an IP address", EINVAL);
    auto nm = get_string(nb, "mac", w);
    if (!nm) return nm.error();
    if (!parse_mac(*nm, mac)) return Error(w + ".mac: not a MAC address", EINVAL);
    i.neighbors.push_back({*ip, *nm});
  }
  return i;
}

}  // namespace

bool parse_mac(const std::string& s, uint8_t out[6]) {
  if (s.size() != 17) return false;
  for (int i = 0; i < 6; ++i) {
    if (i > 0 && s[i * 3 - 1] != ':') return false;
    unsigned v = 0;
    for (int k = 0; k < 2; ++k) {
      char c = s[i * 3 + k];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= unsigned(c - 'A' + 10);
      else
        return false;
    }
    out[i] = static_cast<uint8_t>(v);
  }
  return true;
}

std::string format_mac(const uint8_t mac[6]) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return buf;
}

json to_json(const NetworkConfig& c) {
  json ifs = json::array();
  for (const NetInterface& i : c.interfaces) {
    json addrs = json::array(), routes = json::array(), neighs = json::array();
    for (const auto& a : i.addresses) addrs.push_back(a.cidr);
    for (const auto& r : i.routes)
      routes.push_back(
          {{"destination", r.destination}, {"gateway", r.gateway}, {"scope", r.scope}});
    for (const auto& n : i.neighbors) neighs.push_back({{"address", n.address}, {"mac", n.mac}});
    ifs.push_back({{"guest_mac", i.guest_mac},
                   {"mac", i.mac},
                   {"name", i.name},
                   {"mtu", i.mtu},
                   {"addresses", addrs},
                   {"routes", routes},
                   {"neighbors", neighs}});
  }
  return {{"interfaces", ifs}};
}

Result<NetworkConfig> network_config_from_json(const json& j) {
  if (!j.is_object()) return Error("network must be an object", EINVAL);
  auto ifs = get_array(j, "interfaces", "network");
  if (!ifs) return ifs.error();
  NetworkConfig c;
  for (size_t k = 0; k < (*ifs)->size(); ++k) {
    auto i = interface_from_json((**ifs)[k], "network.interfaces[" + std::to_string(k) + "]");
    if (!i) return i.error();
    c.interfaces.push_back(std::move(*i));
  }
  return c;
}

}  // namespace runvm::agent
