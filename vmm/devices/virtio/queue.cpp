#include "vmm/devices/virtio/queue.h"

#include <algorithm>
#include <cstring>

namespace runvm::vmm::virtio {

// struct virtq_desc, little-endian (x86-64 host and guest).
struct VirtqDesc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
static_assert(sizeof(VirtqDesc) == 16);

namespace {
constexpr uint64_t kDescSize = 16;
constexpr uint64_t kAvailHeader = 4;  // flags, idx
constexpr uint64_t kUsedHeader = 4;   // flags, idx
constexpr uint64_t kUsedElemSize = 8;

bool is_pow2(uint32_t v) {
  return v && (v & (v - 1)) == 0;
}
}  // namespace

std::span<const ChainBuffer> DescriptorChain::readable() const {
  return std::span(buffers_).first(first_writable_);
}
std::span<const ChainBuffer> DescriptorChain::writable() const {
  return std::span(buffers_).subspan(first_writable_);
}

// ---- queue -----------------------------------------------------------------

Result<Queue> Queue::create(const GuestMemory& mem, const QueueConfig& cfg, uint16_t max_size) {
  auto fail = [](std::string msg) -> Result<Queue> { return Error("virtqueue: " + msg); };
  if (!is_pow2(cfg.size) || cfg.size > max_size || cfg.size > kMaxQueueSize)
    return fail("queue size " + std::to_string(cfg.size) +
                " is not a power of two <= " + std::to_string(max_size));
  if (cfg.desc_addr % 16 || cfg.avail_addr % 2 || cfg.used_addr % 4)
    return fail("misaligned ring address");
  // avail and used carry one trailing u16 (used_event / avail_event) each.
  uint8_t* d = mem.translate(cfg.desc_addr, kDescSize * cfg.size);
  uint8_t* a = mem.translate(cfg.avail_addr, kAvailHeader + 2ull * cfg.size + 2);
  uint8_t* u = mem.translate(cfg.used_addr, kUsedHeader + kUsedElemSize * cfg.size + 2);
  if (!d) return fail("descriptor table outside guest memory");
  if (!a) return fail("avail ring outside guest memory");
  if (!u) return fail("used ring outside guest memory");
  // We access avail->idx and used->idx atomically through host pointers.
  if (reinterpret_cast<uintptr_t>(a) % 2 || reinterpret_cast<uintptr_t>(u) % 4)
    return fail("ring host mapping misaligned");
  Queue q;
  q.mem_ = &mem;
  q.size_ = cfg.size;
  q.desc_ = cfg.desc_addr;
  q.avail_ = cfg.avail_addr;
  q.used_ = cfg.used_addr;
  return q;
}

uint16_t Queue::avail_idx_acquire() const {
  auto* p = reinterpret_cast<uint16_t*>(mem_->translate(avail_ + 2, 2));
  // Acquire: ring entries and descriptors the driver wrote before publishing
  // this idx are visible to the reads that follow.
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

uint16_t Queue::avail_flags() const {
  auto* p = reinterpret_cast<uint16_t*>(mem_->translate(avail_, 2));
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void Queue::resume_from_used_ring() {
  uint16_t idx = 0;
  if (!mem_->read(used_ + 2, &idx, sizeof idx)) return;  // create() checked the ring
  next_avail_ = next_used_ = signalled_used_ = idx;
}

bool Queue::has_available() const {
  return !broken_ && avail_idx_acquire() != next_avail_;
}

bool Queue::read_desc(uint64_t table_gpa, uint32_t table_len, uint16_t index, VirtqDesc* d) const {
  if (index >= table_len) return false;
  return mem_->read(table_gpa + kDescSize * index, d, sizeof *d);
}

bool Queue::walk(uint16_t head, DescriptorChain* out, std::string* error) const {
  auto fail = [&](const std::string& msg) {
    *error = "chain at head " + std::to_string(head) + ": " + msg;
    return false;
  };
  if (head >= size_) return fail("head index out of range");
  uint64_t table = desc_;
  uint32_t table_len = size_;
  bool indirect = false;
  uint32_t budget = size_;  // max descriptors in the current table: bounds loops
  uint16_t idx = head;
  bool seen_writable = false;
  out->head_ = head;
  for (;;) {
    if (budget == 0) return fail("longer than its descriptor table (loop?)");
    --budget;
    VirtqDesc d;
    if (!read_desc(table, table_len, idx, &d)) return fail("descriptor index out of range");
    if (d.flags & kDescFIndirect) {
      if (indirect) return fail("nested indirect table");
      if (d.flags & kDescFNext) return fail("indirect descriptor with NEXT");
      if (d.len == 0 || d.len % kDescSize)
        return fail("indirect table length not a multiple of 16");
      if (d.len / kDescSize > kMaxQueueSize) return fail("indirect table too long");
      if (!mem_->contains(d.addr, d.len)) return fail("indirect table outside guest memory");
      table = d.addr;
      table_len = d.len / kDescSize;
      budget = table_len;
      indirect = true;
      idx = 0;
      continue;
    }
    bool w = d.flags & kDescFWrite;
    if (!w && seen_writable) return fail("readable buffer after a writable one");
    if (d.len > 0) {
      uint8_t* host = mem_->translate(d.addr, d.len);
      if (!host) return fail("buffer outside guest memory");
      out->buffers_.push_back(ChainBuffer{d.addr, d.len, host, w});
      if (w) {
        out->writable_len_ += d.len;
      } else {
        out->readable_len_ += d.len;
        out->first_writable_ = out->buffers_.size();
      }
    }
    seen_writable |= w;
    if (!(d.flags & kDescFNext)) return true;
    idx = d.next;
  }
}

std::optional<DescriptorChain> Queue::pop() {
  while (!broken_) {
    uint16_t avail_idx = avail_idx_acquire();
    uint16_t pending = static_cast<uint16_t>(avail_idx - next_avail_);
    if (pending == 0) return std::nullopt;
    if (pending > size_) {
      // The driver cannot have more than size chains outstanding.
      broken_ = true;
      last_error_ = "avail idx " + std::to_string(avail_idx) + " is " + std::to_string(pending) +
                    " entries ahead of " + std::to_string(next_avail_) + " (queue size " +
                    std::to_string(size_) + ")";
      return std::nullopt;
    }
    uint16_t head;
    if (!mem_->read(avail_ + kAvailHeader + 2ull * (next_avail_ % size_), &head, 2)) {
      broken_ = true;  // cannot happen: validated at create()
      last_error_ = "avail ring unreadable";
      return std::nullopt;
    }
    ++next_avail_;
    DescriptorChain chain;
    std::string err;
    if (walk(head, &chain, &err)) return chain;
    // Fail this request only: hand it back untouched and go on.
    ++malformed_;
    last_error_ = std::move(err);
    write_used(head, 0);
  }
  return std::nullopt;
}

void Queue::undo_pop(DescriptorChain&& chain) {
  (void)chain;
  --next_avail_;
}

void Queue::write_used(uint16_t id, uint32_t len, bool publish) {
  struct {
    uint32_t id;
    uint32_t len;
  } elem{id, len};
  uint64_t at = used_ + kUsedHeader + kUsedElemSize * (next_used_ % size_);
  if (!mem_->write(at, &elem, sizeof elem)) return;  // validated at create()
  ++next_used_;
  if (publish) publish_used();
}

void Queue::publish_used() {
  auto* idx = reinterpret_cast<uint16_t*>(mem_->translate(used_ + 2, 2));
  // Release: the elements (and the data written into the buffers) are
  // visible to the driver before the new idx is.
  __atomic_store_n(idx, next_used_, __ATOMIC_RELEASE);
}

void Queue::add_used(DescriptorChain&& chain, uint32_t len) {
  DescriptorChain c = std::move(chain);
  write_used(c.head_, static_cast<uint32_t>(std::min<uint64_t>(len, c.writable_len_)));
}

void Queue::add_used_deferred(DescriptorChain&& chain, uint32_t len) {
  DescriptorChain c = std::move(chain);
  write_used(c.head_, static_cast<uint32_t>(std::min<uint64_t>(len, c.writable_len_)), false);
}

bool Queue::needs_notification() {
  // Full fence: our used->idx store must be ordered before reading the
  // driver's flags or used_event, or we could miss it re-enabling interrupts.
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  const uint16_t old = signalled_used_;
  signalled_used_ = next_used_;
  if (old == next_used_) return false;
  if (!event_idx_) return !(avail_flags() & kAvailFNoInterrupt);
  // used_event trails the avail ring (validated at create()). Interrupt when
  // the used index crossed it: used_event in [old, next_used_) (virtio 2.7.10).
  auto* p = reinterpret_cast<uint16_t*>(mem_->translate(avail_ + kAvailHeader + 2ull * size_, 2));
  const uint16_t used_event = __atomic_load_n(p, __ATOMIC_RELAXED);
  return static_cast<uint16_t>(next_used_ - used_event - 1) <
         static_cast<uint16_t>(next_used_ - old);
}

bool Queue::arm_kick() {
  if (!event_idx_ || broken_) return false;
  const uint16_t idx = avail_idx_acquire();
  // avail_event trails the used ring (validated at create()).
  auto* p =
      reinterpret_cast<uint16_t*>(mem_->translate(used_ + kUsedHeader + kUsedElemSize * size_, 2));
  __atomic_store_n(p, idx, __ATOMIC_RELAXED);
  // Full fence: the store must be visible before we look at avail->idx again,
  // or a chain added in between would get neither a kick nor our attention.
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  return avail_idx_acquire() != idx;
}

}  // namespace runvm::vmm::virtio
