// libFuzzer target: the split-virtqueue walker. The input becomes guest
// memory (descriptor table, avail ring, indirect tables, buffers); the device
// side pops, reads and writes every chain it is given. Crashes, sanitizer
// reports and broken invariants (a buffer outside guest memory, readable after
// writable, more used entries than chains) are bugs.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "vmm/devices/virtio/chain_buffers.h"
#include "vmm/devices/virtio/queue.h"
#include "vmm/memory/guest_memory.h"

using runvm::vmm::GuestMemory;
using runvm::vmm::MemoryRegion;
using namespace runvm::vmm::virtio;

namespace {
constexpr uint64_t kBase = 0x10000;
constexpr size_t kMemSize = 64 * 1024;

void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Byte 0 picks the queue size (1..256, powers of two), byte 1 the pop budget.
  uint16_t qsize = static_cast<uint16_t>(1u << (data[0] % 9));
  const bool event_idx = data[0] & 0x80;
  int budget = data[1];
  data += 2;
  size -= 2;

  std::vector<uint64_t> storage(kMemSize / 8);
  auto* host = reinterpret_cast<uint8_t*>(storage.data());
  std::memcpy(host, data, std::min(size, kMemSize));
  GuestMemory mem = GuestMemory::from_regions({MemoryRegion{kBase, kMemSize, host}});

  QueueConfig cfg{qsize, kBase, kBase + 0x1000, kBase + 0x2000};
  auto q = Queue::create(mem, cfg, 256);
  check(q.ok());
  if (event_idx) q->enable_event_idx();

  uint16_t chains = 0;
  for (int i = 0; i < budget; ++i) {
    auto chain = q->pop();
    if (!chain) break;
    ++chains;
    bool seen_writable = false;
    uint64_t rlen = 0, wlen = 0;
    for (const ChainBuffer& b : chain->buffers()) {
      check(b.len > 0);
      check(mem.translate(b.gpa, b.len) == b.host);
      check(!(seen_writable && !b.writable));
      seen_writable |= b.writable;
      (b.writable ? wlen : rlen) += b.len;
    }
    check(rlen == chain->readable_len() && wlen == chain->writable_len());
    check(chain->buffers().size() <= size_t{qsize} + kMaxQueueSize);

    ChainReader r(*chain);
    uint8_t tmp[512];
    while (r.read_some(tmp) > 0) {
    }
    check(r.remaining() == 0);
    ChainWriter w(*chain);
    size_t n = w.write_some(std::span<const uint8_t>(tmp, std::min<size_t>(sizeof tmp, size)));
    check(w.written() == n);
    if (i % 7 == 3) {
      q->undo_pop(std::move(*chain));
      --chains;
      continue;
    }
    q->add_used(std::move(*chain), static_cast<uint32_t>(n));
  }
  (void)q->needs_notification();
  (void)q->arm_kick();  // writes avail_event inside the used ring, never elsewhere
  // Every consumed avail entry (good or malformed) got exactly one used entry.
  check(q->next_used() == static_cast<uint16_t>(chains + q->malformed_chains()));
  return 0;
}
