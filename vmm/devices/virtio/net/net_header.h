// The virtio-net packet header (virtio 1.x 5.1.6, struct virtio_net_hdr_v1),
// the feature bits that govern it, and the checks a guest TX header must pass
// before its frame reaches the tap. Pure functions: no device state, no I/O.
//
// The same 12-byte layout is the tap's vnet header (TUNSETVNETHDRSZ 12), so a
// frame crosses the device unchanged; only num_buffers (RX) is ours to set.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/result.h"

namespace runvm::vmm::virtio::net {

// Device feature bits (virtio 1.x 5.1.3).
inline constexpr uint64_t kFCsum = 1ull << 0;       // device takes partial csums
inline constexpr uint64_t kFGuestCsum = 1ull << 1;  // driver takes partial csums
inline constexpr uint64_t kFMtu = 1ull << 3;        // config.mtu is valid
inline constexpr uint64_t kFMac = 1ull << 5;        // config.mac is valid
inline constexpr uint64_t kFGuestTso4 = 1ull << 7;  // driver takes TSOv4
inline constexpr uint64_t kFGuestTso6 = 1ull << 8;  // driver takes TSOv6
inline constexpr uint64_t kFGuestEcn = 1ull << 9;   // driver takes TSO with ECN
inline constexpr uint64_t kFGuestUfo = 1ull << 10;  // driver takes UFO
inline constexpr uint64_t kFHostTso4 = 1ull << 11;  // device takes TSOv4
inline constexpr uint64_t kFHostTso6 = 1ull << 12;  // device takes TSOv6
inline constexpr uint64_t kFHostEcn = 1ull << 13;   // device takes TSO with ECN
inline constexpr uint64_t kFHostUfo = 1ull << 14;   // device takes UFO
inline constexpr uint64_t kFMrgRxbuf = 1ull << 15;  // rx frames may span chains
inline constexpr uint64_t kFStatus = 1ull << 16;    // config.status is valid
inline constexpr uint64_t kFCtrlVq = 1ull << 17;    // control queue
inline constexpr uint64_t kFMq = 1ull << 22;        // multiqueue
inline constexpr uint64_t kFHostUso = 1ull << 56;   // device takes UDP segmentation

// virtio_net_hdr.flags
inline constexpr uint8_t kHdrFNeedsCsum = 1;
inline constexpr uint8_t kHdrFDataValid = 2;
inline constexpr uint8_t kHdrFRscInfo = 4;

// virtio_net_hdr.gso_type
inline constexpr uint8_t kGsoNone = 0;
inline constexpr uint8_t kGsoTcpV4 = 1;
inline constexpr uint8_t kGsoUdp = 3;
inline constexpr uint8_t kGsoTcpV6 = 4;
inline constexpr uint8_t kGsoUdpL4 = 5;
inline constexpr uint8_t kGsoEcn = 0x80;

// config.status
inline constexpr uint16_t kStatusLinkUp = 1;

// Little-endian on the ring (VERSION_1) and in the tap (x86-64 host order).
struct VirtioNetHdr {
  uint8_t flags = 0;
  uint8_t gso_type = 0;
  uint16_t hdr_len = 0;
  uint16_t gso_size = 0;
  uint16_t csum_start = 0;
  uint16_t csum_offset = 0;
  uint16_t num_buffers = 0;
};
static_assert(sizeof(VirtioNetHdr) == 12);

inline constexpr size_t kNetHdrSize = sizeof(VirtioNetHdr);
inline constexpr size_t kNumBuffersOffset = 10;
inline constexpr size_t kEthHeaderLen = 14;
// Largest Ethernet frame either way: a 64 KiB GSO packet plus its L2 header
// (the bound Firecracker uses too). With the header: the largest packet.
inline constexpr size_t kMaxFrameLen = 65550;
inline constexpr size_t kMaxPacketLen = kNetHdrSize + kMaxFrameLen;

// Checks a header the guest put in front of a `frame_len`-byte TX frame,
// given the features the driver acknowledged: flags and gso_type known and
// negotiated, a partial checksum that lies inside the frame, hdr_len within
// the frame, a GSO frame with NEEDS_CSUM and an MSS (virtio 1.x 5.1.6.2.1).
// The error names the first violation.
[[nodiscard]] Status validate_tx_header(const VirtioNetHdr& h, size_t frame_len, uint64_t features);

// The offloads (TUN_F_*) a tap may use for frames it hands the device: those
// the driver said it can receive. TSO needs CSUM, in the tap and here alike.
unsigned tap_offloads(uint64_t features);

}  // namespace runvm::vmm::virtio::net
