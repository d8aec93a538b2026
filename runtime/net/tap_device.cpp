#include "runtime/net/tap_device.h"

// net/if.h before any linux/ header: glibc's and the kernel's interface flags clash otherwise.
#include <net/if.h>
// clang-format off
#include <fcntl.h>
#include <linux/if_tun.h>
#include <netlink/route/link.h>
// clang-format on
#include <sys/ioctl.h>
#include <sys/random.h>

#include <cstring>

#include "agent/network_config.h"
#include "base/libnl_owners.h"

namespace runvm::runtime::net {

Result<Tap> open_tap(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) return Error("tap name \"" + name + "\"", EINVAL);
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return Error::from_errno("open /dev/net/tun (is the tun module loaded?)");
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.c_str(), name.size());
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) return Error::from_errno("create tap " + name);
  int hdr = 12;  // sizeof(virtio_net_hdr_v1): what a VIRTIO_F_VERSION_1 driver uses
  if (::ioctl(fd.get(), TUNSETVNETHDRSZ, &hdr) < 0)
    return Error::from_errno("TUNSETVNETHDRSZ on " + name);
  Tap t;
  t.name = ifr.ifr_name;
  t.ifindex = static_cast<int>(::if_nametoindex(t.name.c_str()));
  if (t.ifindex == 0) return Error::from_errno("find tap " + t.name);
  t.fd = std::move(fd);
  return t;
}

Status set_link_mtu_up(int ifindex, unsigned mtu) {
  auto sk = nl::connect_route();
  if (!sk) return sk.error();
  rtnl_link* raw = nullptr;
  if (int e = rtnl_link_get_kernel(sk->get(), ifindex, nullptr, &raw); e < 0)
    return nl::error("find link " + std::to_string(ifindex), e);
  nl::Obj<rtnl_link> link(raw);
  nl::Obj<rtnl_link> change(rtnl_link_alloc());
  rtnl_link_set_mtu(change.get(), mtu);
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (int e = rtnl_link_change(sk->get(), link.get(), change.get(), 0); e < 0)
    return nl::error(
        "set MTU " + std::to_string(mtu) + " and up on link " + std::to_string(ifindex), e);
  return {};
}

std::string random_guest_mac() {
  uint8_t mac[6] = {};
  if (::getrandom(mac, sizeof mac, 0) != sizeof mac) {
    // Without entropy still a valid, if predictable, address.
    for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(0x10 * i + 1);
  }
  mac[0] = static_cast<uint8_t>((mac[0] & 0xfe) | 0x02);  // unicast, locally administered
  return agent::format_mac(mac);
}

}  // namespace runvm::runtime::net
