#include "vmm/devices/virtio/net/net_header.h"

#include <linux/if_tun.h>

#include <string>

namespace runvm::vmm::virtio::net {

namespace {

// The feature a gso_type (without the ECN bit) needs, or 0 for an unknown type.
uint64_t gso_feature(uint8_t type) {
  switch (type) {
    case kGsoTcpV4:
      return kFHostTso4;
    case kGsoTcpV6:
      return kFHostTso6;
    case kGsoUdp:
      return kFHostUfo;
    case kGsoUdpL4:
      return kFHostUso;
    default:
      return 0;
  }
}

}  // namespace

Status validate_tx_header(const VirtioNetHdr& h, size_t frame_len, uint64_t features) {
  auto n = [](size_t v) { return std::to_string(v); };
  if (frame_len < kEthHeaderLen)
    return Error("frame of " + n(frame_len) + " bytes is shorter than an Ethernet header");
  if (frame_len > kMaxFrameLen)
    return Error("frame of " + n(frame_len) + " bytes is longer than " + n(kMaxFrameLen));
  // DATA_VALID and RSC_INFO are device-to-driver only (5.1.6.2.1).
  if (h.flags & ~kHdrFNeedsCsum) return Error("unknown header flags " + n(h.flags));
  if (h.flags & kHdrFNeedsCsum) {
    if (!(features & kFCsum)) return Error("NEEDS_CSUM without VIRTIO_NET_F_CSUM");
    // u16 + u16 + 2 cannot overflow size_t.
    size_t end = size_t{h.csum_start} + h.csum_offset + 2;
    if (end > frame_len)
      return Error("checksum at " + n(h.csum_start) + "+" + n(h.csum_offset) +
                   " lies outside the " + n(frame_len) + "-byte frame");
  }
  if (h.hdr_len > frame_len)
    return Error("hdr_len " + n(h.hdr_len) + " exceeds the " + n(frame_len) + "-byte frame");
  if (h.gso_type == kGsoNone) return {};

  uint8_t type = h.gso_type & ~kGsoEcn;
  uint64_t need = gso_feature(type);
  if (need == 0) return Error("unknown gso_type " + n(h.gso_type));
  if (!(features & need)) return Error("gso_type " + n(h.gso_type) + " not negotiated");
  if ((h.gso_type & kGsoEcn) && !(features & kFHostEcn))
    return Error("gso_type with ECN without VIRTIO_NET_F_HOST_ECN");
  if (!(h.flags & kHdrFNeedsCsum)) return Error("GSO frame without NEEDS_CSUM");
  if (h.gso_size == 0) return Error("GSO frame with gso_size 0");
  return {};
}

unsigned tap_offloads(uint64_t features) {
  if (!(features & kFGuestCsum)) return 0;
  unsigned off = TUN_F_CSUM;
  if (features & kFGuestTso4) off |= TUN_F_TSO4;
  if (features & kFGuestTso6) off |= TUN_F_TSO6;
  return off;
}

}  // namespace runvm::vmm::virtio::net
