#include "vmm/pci/msix.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

namespace runvm::vmm::pci {

Msix::Msix(uint16_t num_vectors) : entries_(num_vectors) {}

Msix::~Msix() {
  for (Entry& e : entries_) {
    if (e.eventfd >= 0) {
      if (vm_ && e.gsi >= 0) vm_->irqfd_deassign(e.eventfd, e.gsi);
      close(e.eventfd);
    }
  }
}

void Msix::set_vm(PciVmServices* vm) {
  std::lock_guard lk(mu_);
  vm_ = vm;
}

bool Msix::enabled() const {
  std::lock_guard lk(mu_);
  return enabled_;
}

bool Msix::pending(uint16_t v) const {
  std::lock_guard lk(mu_);
  return v < entries_.size() && entries_[v].pending;
}

bool Msix::masked(uint16_t v) const {
  std::lock_guard lk(mu_);
  return v >= entries_.size() || !active_locked(entries_[v]);
}

bool Msix::active_locked(const Entry& e) const {
  return enabled_ && !function_mask_ && !(e.ctrl & kMsixEntryMasked);
}

void Msix::set_control(bool enabled, bool function_mask) {
  std::lock_guard lk(mu_);
  enabled_ = enabled;
  function_mask_ = function_mask;
  for (Entry& e : entries_) sync_locked(e);
}

void Msix::sync_locked(Entry& e) {
  if (!active_locked(e) || !vm_) return;
  uint64_t addr = address(e);
  if (e.gsi < 0) {
    // First unmask: one GSI and one irqfd per vector, so firing from the event
    // loop is a single eventfd write.
    int gsi = vm_->msi_route_add(addr, e.data);
    if (gsi >= 0) {
      // The route is kept even without an irqfd (delivery then takes the
      // signal_msi path): dropping it would allocate a new GSI on every later
      // table write, until KVM's routing table is full.
      e.gsi = gsi;
      e.routed_addr = addr;
      e.routed_data = e.data;
      int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (fd >= 0 && vm_->irqfd_assign(fd, gsi)) {
        e.eventfd = fd;
      } else if (fd >= 0) {
        close(fd);
      }
    }
  } else if (e.routed_addr != addr || e.routed_data != e.data) {
    if (vm_->msi_route_update(e.gsi, addr, e.data)) {
      e.routed_addr = addr;
      e.routed_data = e.data;
    }
  }
  if (e.pending) {
    e.pending = false;
    deliver_locked(e);
  }
}

void Msix::deliver_locked(Entry& e) {
  if (!vm_) return;
  if (e.eventfd >= 0 && e.routed_addr == address(e) && e.routed_data == e.data) {
    uint64_t one = 1;
    if (::write(e.eventfd, &one, sizeof one) == sizeof one) return;
  }
  vm_->signal_msi(address(e), e.data);
}

void Msix::fire(uint16_t v) {
  std::lock_guard lk(mu_);
  if (v >= entries_.size() || !enabled_) return;
  Entry& e = entries_[v];
  if (!active_locked(e)) {
    e.pending = true;
    return;
  }
  deliver_locked(e);
}

void Msix::table_read(uint64_t offset, std::span<uint8_t> data) const {
  std::lock_guard lk(mu_);
  for (size_t i = 0; i < data.size(); ++i) {
    uint64_t o = offset + i;
    data[i] = 0;
    if (o < offset || o >= table_bytes()) continue;
    const Entry& e = entries_[o / kMsixEntrySize];
    uint32_t words[4] = {e.addr_lo, e.addr_hi, e.data, e.ctrl};
    uint32_t in = o % kMsixEntrySize;
    data[i] = static_cast<uint8_t>(words[in / 4] >> (8 * (in % 4)));
  }
}

void Msix::table_write(uint64_t offset, std::span<const uint8_t> data) {
  // The PCI spec allows dword and qword accesses to the table; drop the rest.
  if ((data.size() != 4 && data.size() != 8) || offset % data.size()) return;
  if (offset >= table_bytes() || data.size() > table_bytes() - offset) return;
  std::lock_guard lk(mu_);
  for (size_t done = 0; done < data.size(); done += 4) {
    uint64_t o = offset + done;
    Entry& e = entries_[o / kMsixEntrySize];
    uint32_t v;
    std::memcpy(&v, data.data() + done, 4);
    switch ((o % kMsixEntrySize) / 4) {
      case 0:
        e.addr_lo = v & ~3u;  // dword aligned
        break;
      case 1:
        e.addr_hi = v;
        break;
      case 2:
        e.data = v;
        break;
      case 3:
        e.ctrl = v & kMsixEntryMasked;
        break;
    }
    sync_locked(e);
  }
}

void Msix::save(snapshot::StateWriter& w) const {
  std::lock_guard lk(mu_);
  w.put<uint16_t>(static_cast<uint16_t>(entries_.size()));
  for (const Entry& e : entries_) {
    w.put(e.addr_lo);
    w.put(e.addr_hi);
    w.put(e.data);
    w.put(e.ctrl);
    w.put<uint8_t>(e.pending ? 1 : 0);
  }
}

bool Msix::restore(snapshot::StateReader& r) {
  std::lock_guard lk(mu_);
  uint16_t n = 0;
  if (!r.get(&n) || n != entries_.size()) return false;
  for (Entry& e : entries_) {
    uint8_t pending = 0;
    if (!r.get(&e.addr_lo) || !r.get(&e.addr_hi) || !r.get(&e.data) || !r.get(&e.ctrl) ||
        !r.get(&pending))
      return false;
    e.addr_lo &= ~3u;
    e.ctrl &= kMsixEntryMasked;
    e.pending = pending != 0;
  }
  return true;
}

void Msix::pba_read(uint64_t offset, std::span<uint8_t> data) const {
  std::lock_guard lk(mu_);
  for (size_t i = 0; i < data.size(); ++i) {
    uint64_t byte = offset + i;
    data[i] = 0;
    if (byte < offset || byte >= pba_bytes()) continue;
    for (unsigned bit = 0; bit < 8; ++bit) {
      uint64_t v = byte * 8 + bit;
      if (v < entries_.size() && entries_[v].pending) data[i] |= static_cast<uint8_t>(1u << bit);
    }
  }
}

}  // namespace runvm::vmm::pci
