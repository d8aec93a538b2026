#include "vmm/bus/bus.h"

#include <cstring>

namespace runvm::vmm {

bool Bus::insert(std::shared_ptr<BusDevice> dev, uint64_t base, uint64_t len) {
  if (!dev || len == 0 || base + len < base) return false;
  std::lock_guard lk(mu_);
  auto next = ranges_.lower_bound(base);
  if (next != ranges_.end() && next->first < base + len) return false;
  if (next != ranges_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.len > base) return false;
  }
  ranges_.emplace(base, Range{len, std::move(dev)});
  return true;
}

bool Bus::remove(uint64_t base) {
  std::lock_guard lk(mu_);
  return ranges_.erase(base) > 0;
}

const Bus::Range* Bus::find(uint64_t addr, uint64_t size, uint64_t* base) const {
  auto it = ranges_.upper_bound(addr);
  if (it == ranges_.begin()) return nullptr;
  --it;
  uint64_t off = addr - it->first;
  if (off >= it->second.len || size > it->second.len - off) return nullptr;
  *base = it->first;
  return &it->second;
}

bool Bus::read(uint64_t addr, std::span<uint8_t> data) const {
  std::shared_ptr<BusDevice> dev;
  uint64_t base = 0;
  {
    std::lock_guard lk(mu_);
    if (const Range* r = find(addr, data.size(), &base)) dev = r->dev;
  }
  if (!dev) {
    std::memset(data.data(), 0xff, data.size());
    return false;
  }
  dev->bus_read(addr - base, data);
  return true;
}

bool Bus::write(uint64_t addr, std::span<const uint8_t> data) const {
  std::shared_ptr<BusDevice> dev;
  uint64_t base = 0;
  {
    std::lock_guard lk(mu_);
    if (const Range* r = find(addr, data.size(), &base)) dev = r->dev;
  }
  if (!dev) return false;
  dev->bus_write(addr - base, data);
  return true;
}

}  // namespace runvm::vmm
