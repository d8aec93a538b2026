// virtio-vsock packets (virtio 1.x 5.10.6): the 44-byte little-endian header,
// and parsing/validation of what the guest puts on the tx queue. Everything
// in a tx packet is guest-controlled: the source CID must be the guest's own,
// the destination must be the host, the op and type must be known and the
// payload length must fit both the chain and our per-packet bound.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "vmm/devices/virtio/queue.h"

namespace runvm::vmm::virtio::vsock {

inline constexpr uint64_t kHostCid = 2;
inline constexpr uint16_t kTypeStream = 1;

enum Op : uint16_t {
  kOpInvalid = 0,
  kOpRequest = 1,
  kOpResponse = 2,
  kOpRst = 3,
  kOpShutdown = 4,
  kOpRw = 5,
  kOpCreditUpdate = 6,
  kOpCreditRequest = 7,
};

// SHUTDOWN flags: the sender will receive / send no more.
inline constexpr uint32_t kShutdownRcv = 1;
inline constexpr uint32_t kShutdownSend = 2;

// Largest payload we accept in one tx packet or produce in one rx packet
// (Linux uses at most 64 KiB per packet).
inline constexpr uint32_t kMaxPayload = 64 * 1024;

#pragma pack(push, 1)
struct Header {
  uint64_t src_cid = 0;
  uint64_t dst_cid = 0;
  uint32_t src_port = 0;
  uint32_t dst_port = 0;
  uint32_t len = 0;
  uint16_t type = 0;
  uint16_t op = 0;
  uint32_t flags = 0;
  uint32_t buf_alloc = 0;
  uint32_t fwd_cnt = 0;
};
#pragma pack(pop)
static_assert(sizeof(Header) == 44);

struct TxPacket {
  Header hdr;
  std::vector<uint8_t> payload;  // hdr.len bytes (RW only; empty otherwise)
};

// Checks header fields against the guest's CID and the bytes that follow it.
[[nodiscard]] Status validate_tx_header(const Header& h, uint64_t guest_cid,
                                        uint64_t payload_available);

// Reads and validates one tx packet from a chain's readable buffers.
[[nodiscard]] Result<TxPacket> parse_tx(const DescriptorChain& chain, uint64_t guest_cid);

const char* op_name(uint16_t op);

}  // namespace runvm::vmm::virtio::vsock
