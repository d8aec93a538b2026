#include "vmm/pci/pci_root.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace runvm::vmm {

namespace {

// 00:00.0: a host bridge with a read-only config space and no BARs.
class HostBridge : public PciDevice {
 public:
  HostBridge() {
    put16(0x00, PciRoot::kHostBridgeVendor);
    put16(0x02, PciRoot::kHostBridgeDevice);
    put16(0x06, 0x0000);  // status
    cfg_[0x08] = 0;       // revision
    cfg_[0x0a] = 0x00;    // subclass: host bridge
    cfg_[0x0b] = 0x06;    // class: bridge
    cfg_[0x0e] = 0x00;    // header type 0, single function
  }
  std::string name() const override { return "host-bridge"; }
  std::vector<std::pair<int, PciBarRequest>> bar_requests() const override { return {}; }
  void placed(std::span<const std::pair<int, uint64_t>>, int, PciVmServices*) override {}
  void config_read(uint32_t offset, std::span<uint8_t> data) override {
    for (size_t i = 0; i < data.size(); ++i)
      data[i] = offset + i < cfg_.size() ? cfg_[offset + i] : 0;
  }
  void config_write(uint32_t, std::span<const uint8_t>) override {}
  void bar_read(int, uint64_t, std::span<uint8_t> data) override {
    std::fill(data.begin(), data.end(), 0xff);
  }
  void bar_write(int, uint64_t, std::span<const uint8_t>) override {}

 private:
  void put16(size_t off, uint16_t v) {
    cfg_[off] = v & 0xff;
    cfg_[off + 1] = v >> 8;
  }
  std::array<uint8_t, 256> cfg_{};
};

// Forwards MMIO in one BAR to its device.
class BarWindow : public BusDevice {
 public:
  BarWindow(std::shared_ptr<PciDevice> dev, int bar) : dev_(std::move(dev)), bar_(bar) {}
  void bus_read(uint64_t offset, std::span<uint8_t> data) override {
    dev_->bar_read(bar_, offset, data);
  }
  void bus_write(uint64_t offset, std::span<const uint8_t> data) override {
    dev_->bar_write(bar_, offset, data);
  }

 private:
  std::shared_ptr<PciDevice> dev_;
  int bar_;
};

constexpr uint32_t kEnableBit = 0x8000'0000;
constexpr int kMaxSlots = 32;

}  // namespace

PciRoot::PciRoot(Bus* mmio, PciVmServices* vm, PciRootLayout layout)
    : mmio_(mmio), vm_(vm), layout_(layout), next_mmio_(layout.mmio_base) {
  host_bridge_ = std::make_shared<HostBridge>();
  slots_.push_back({host_bridge_, -1});
}

Result<int> PciRoot::add_device(std::shared_ptr<PciDevice> dev) {
  if (!dev) return Error("pci: null device");
  const std::string who = "pci: add " + dev->name();
  if (slots_.size() >= kMaxSlots) return Error(who + ": no free slot on bus 0");
  const int slot = static_cast<int>(slots_.size());

  // Place BARs (naturally aligned, as the size-probe protocol implies).
  std::vector<std::pair<int, uint64_t>> addrs;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // (base, size) to map
  uint64_t next = next_mmio_;
  bool used[6] = {};
  for (const auto& [bar, req] : dev->bar_requests()) {
    if (req.size == 0) continue;
    if (bar < 0 || bar > 5 || (req.is_64bit && bar > 4))
      return Error(who + ": bad BAR index " + std::to_string(bar));
    if (used[bar] || (req.is_64bit && used[bar + 1]))
      return Error(who + ": BAR " + std::to_string(bar) + " requested twice");
    if (req.size < 4096 || (req.size & (req.size - 1)) != 0)
      return Error(who + ": BAR " + std::to_string(bar) + " size must be a power of two >= 4096");
    used[bar] = true;
    if (req.is_64bit) used[bar + 1] = true;
    uint64_t base = (next + req.size - 1) & ~(req.size - 1);
    if (base < next || base + req.size > layout_.mmio_end || base + req.size < base)
      return Error(who + ": MMIO window exhausted");
    addrs.push_back({bar, base});
    ranges.push_back({base, req.size});
    next = base + req.size;
  }
  for (size_t i = 0; i < addrs.size(); ++i) {
    auto win = std::make_shared<BarWindow>(dev, addrs[i].first);
    if (!mmio_->insert(win, ranges[i].first, ranges[i].second)) {
      for (size_t j = 0; j < i; ++j) mmio_->remove(ranges[j].first);
      return Error(who + ": BAR range overlaps another MMIO device");
    }
  }
  next_mmio_ = next;
  const int gsi = layout_.first_intx_gsi + (slot - 1) % layout_.num_intx_gsis;
  slots_.push_back({dev, gsi});
  dev->placed(addrs, gsi, vm_);
  return slot;
}

Status PciRoot::attach_pio(Bus& pio, std::shared_ptr<PciRoot> self) {
  if (self.get() != this) return Error("pci: attach_pio needs this root's own shared_ptr");
  if (!pio.insert(std::move(self), kConfigAddressPort, 8))
    return Error("pci: ports 0xcf8-0xcff already in use");
  return {};
}

std::vector<PciIntxRoute> PciRoot::intx_routes() const {
  std::vector<PciIntxRoute> out;
  for (size_t s = 1; s < slots_.size(); ++s) out.push_back({static_cast<int>(s), 0, slots_[s].gsi});
  return out;
}

std::string PciRoot::debug_state() const {
  std::string out;
  for (size_t s = 1; s < slots_.size(); ++s) {
    std::string d = slots_[s].dev->debug_state();
    if (!d.empty()) out += "slot " + std::to_string(s) + ": " + d + "\n";
  }
  return out;
}

Status PciRoot::start_device_threads(const ThreadStartHook& on_start) {
  for (size_t s = 1; s < slots_.size(); ++s) {
    if (auto st = slots_[s].dev->start_threads(on_start); !st)
      return st.error().wrap("pci slot " + std::to_string(s) + " (" + slots_[s].dev->name() + ")");
  }
  return {};
}

PciDevice* PciRoot::target(uint32_t addr, uint32_t* reg) {
  if (!(addr & kEnableBit)) return nullptr;
  const uint32_t bus = (addr >> 16) & 0xff;
  const uint32_t dev = (addr >> 11) & 0x1f;
  const uint32_t fn = (addr >> 8) & 0x7;
  if (bus != 0 || fn != 0 || dev >= slots_.size()) return nullptr;
  *reg = addr & 0xfc;
  return slots_[dev].dev.get();
}

void PciRoot::bus_read(uint64_t offset, std::span<uint8_t> data) {
  std::lock_guard lk(mu_);
  if (offset < 4) {
    // CONFIG_ADDRESS is only a 32-bit register; narrower reads see all-ones.
    if (offset == 0 && data.size() == 4) {
      std::memcpy(data.data(), &config_address_, 4);
    } else {
      std::fill(data.begin(), data.end(), 0xff);
    }
    return;
  }
  const uint32_t byte = static_cast<uint32_t>(offset - 4);
  uint32_t reg = 0;
  PciDevice* dev = target(config_address_, &reg);
  // Natural alignment inside the dword is what the device contract promises.
  if (!dev || (byte % data.size()) != 0 || byte + data.size() > 4) {
    std::fill(data.begin(), data.end(), 0xff);
    return;
  }
  dev->config_read(reg + byte, data);
}

void PciRoot::bus_write(uint64_t offset, std::span<const uint8_t> data) {
  std::lock_guard lk(mu_);
  if (offset < 4) {
    if (offset == 0 && data.size() == 4) std::memcpy(&config_address_, data.data(), 4);
    return;
  }
  const uint32_t byte = static_cast<uint32_t>(offset - 4);
  uint32_t reg = 0;
  PciDevice* dev = target(config_address_, &reg);
  if (!dev || (byte % data.size()) != 0 || byte + data.size() > 4) return;
  dev->config_write(reg + byte, data);
}

std::string PciRoot::snapshot_blocker() const {
  for (const Slot& s : slots_)
    if (s.dev)
      if (std::string why = s.dev->snapshot_blocker(); !why.empty()) return why;
  return {};
}

void PciRoot::save_state(snapshot::StateWriter& w) const {
  {
    std::lock_guard lk(mu_);
    w.put(config_address_);
  }
  w.put<uint32_t>(static_cast<uint32_t>(slots_.size()));
  for (const Slot& s : slots_) {
    snapshot::StateWriter dev;
    if (s.dev) s.dev->save_state(dev);
    w.put_string(s.dev ? s.dev->name() : "");
    w.put_blob(dev.bytes());
  }
}

Status PciRoot::restore_devices(snapshot::StateReader& r) {
  uint32_t addr = 0, n = 0;
  if (!r.get(&addr) || !r.get(&n)) return Error("PCI root: truncated state", EINVAL);
  if (n != slots_.size())
    return Error("the snapshot has " + std::to_string(n) + " PCI slots in use, this VM " +
                     std::to_string(slots_.size()),
                 EINVAL);
  {
    std::lock_guard lk(mu_);
    config_address_ = addr;
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    std::string name;
    std::vector<uint8_t> blob;
    if (!r.get_string(&name, 128) || !r.get_blob(&blob, 1 << 20))
      return Error("PCI slot " + std::to_string(i) + ": truncated state", EINVAL);
    const std::string here = slots_[i].dev ? slots_[i].dev->name() : "";
    if (name != here)
      return Error("PCI slot " + std::to_string(i) + " holds " + name + " in the snapshot, " +
                       here + " in this VM",
                   EINVAL);
    if (!slots_[i].dev) continue;
    snapshot::StateReader dev(blob);
    if (auto s = slots_[i].dev->restore_state(dev); !s)
      return s.error().wrap("PCI slot " + std::to_string(i));
    if (!dev.finished())
      return Error("PCI slot " + std::to_string(i) + " (" + name + "): state does not fit", EINVAL);
  }
  return {};
}

}  // namespace runvm::vmm
