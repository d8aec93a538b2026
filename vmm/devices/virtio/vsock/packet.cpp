#include "vmm/devices/virtio/vsock/packet.h"

#include "vmm/devices/virtio/chain_buffers.h"

namespace runvm::vmm::virtio::vsock {

const char* op_name(uint16_t op) {
  switch (op) {
    case kOpRequest:
      return "REQUEST";
    case kOpResponse:
      return "RESPONSE";
    case kOpRst:
      return "RST";
    case kOpShutdown:
      return "SHUTDOWN";
    case kOpRw:
      return "RW";
    case kOpCreditUpdate:
      return "CREDIT_UPDATE";
    case kOpCreditRequest:
      return "CREDIT_REQUEST";
    default:
      return "INVALID";
  }
}

Status validate_tx_header(const Header& h, uint64_t guest_cid, uint64_t payload_available) {
  if (h.src_cid != guest_cid)
    return Error("vsock tx: src_cid " + std::to_string(h.src_cid) + " is not the guest's " +
                 std::to_string(guest_cid));
  if (h.dst_cid != kHostCid)
    return Error("vsock tx: dst_cid " + std::to_string(h.dst_cid) + " is not the host");
  if (h.type != kTypeStream) return Error("vsock tx: unsupported type " + std::to_string(h.type));
  if (h.op < kOpRequest || h.op > kOpCreditRequest)
    return Error("vsock tx: unknown op " + std::to_string(h.op));
  if (h.op != kOpRw && h.len != 0)
    return Error(std::string("vsock tx: ") + op_name(h.op) + " with a payload");
  if (h.len > kMaxPayload) return Error("vsock tx: len " + std::to_string(h.len) + " too large");
  if (h.len > payload_available)
    return Error("vsock tx: len " + std::to_string(h.len) + " exceeds the " +
                 std::to_string(payload_available) + " bytes in the chain");
  return {};
}

Result<TxPacket> parse_tx(const DescriptorChain& chain, uint64_t guest_cid) {
  ChainReader r(chain);
  TxPacket p;
  if (!r.read_obj(&p.hdr)) return Error("vsock tx: chain shorter than the header");
  if (Status st = validate_tx_header(p.hdr, guest_cid, r.remaining()); !st) return st.error();
  p.payload.resize(p.hdr.len);
  if (!r.read(p.payload.data(), p.payload.size())) return Error("vsock tx: short payload");
  return p;
}

}  // namespace runvm::vmm::virtio::vsock
