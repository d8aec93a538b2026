#include "vmm/devices/pvpanic/pvpanic_pci.h"

#include <algorithm>

namespace runvm::vmm {

namespace {
constexpr uint32_t kClassSystemOther = 0x088000;
constexpr PciBarRequest kBar{PvPanicPci::kBarSize, false, false};
}  // namespace

PvPanicPci::PvPanicPci(std::function<void()> on_panic)
    : on_panic_(std::move(on_panic)), cfg_(kVendor, kDevice, 1, kClassSystemOther) {
  cfg_.set_u16(pci::kCfgSubsysVendor, kVendor);
  cfg_.set_u16(pci::kCfgSubsysId, kDevice);
}

std::vector<std::pair<int, PciBarRequest>> PvPanicPci::bar_requests() const {
  return {{0, kBar}};
}

void PvPanicPci::placed(std::span<const std::pair<int, uint64_t>> bar_addrs, int intx_gsi,
                        PciVmServices*) {
  std::lock_guard lk(mu_);
  for (auto [index, addr] : bar_addrs)
    if (index == 0) cfg_.set_bar(0, kBar, addr);
  cfg_.set_u8(pci::kCfgIntLine, static_cast<uint8_t>(intx_gsi));
}

void PvPanicPci::config_read(uint32_t offset, std::span<uint8_t> data) {
  std::lock_guard lk(mu_);
  cfg_.read(offset, data);
}

void PvPanicPci::config_write(uint32_t offset, std::span<const uint8_t> data) {
  std::lock_guard lk(mu_);
  cfg_.write(offset, data);
}

void PvPanicPci::bar_read(int bar, uint64_t offset, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), 0);
  if (bar == 0 && offset == 0 && !data.empty()) data[0] = kEventPanicked | kEventCrashLoaded;
}

void PvPanicPci::bar_write(int bar, uint64_t offset, std::span<const uint8_t> data) {
  if (bar != 0 || offset != 0 || data.empty()) return;
  if (!(data[0] & (kEventPanicked | kEventCrashLoaded))) return;
  // Report once: a panicking kernel may write again (e.g. from another CPU).
  if (!panicked_.exchange(true) && on_panic_) on_panic_();
}

void PvPanicPci::save_state(snapshot::StateWriter& w) const {
  std::lock_guard lk(mu_);
  cfg_.save(w);
}

Status PvPanicPci::restore_state(snapshot::StateReader& r) {
  std::lock_guard lk(mu_);
  if (!cfg_.restore(r)) return Error("pvpanic-pci: truncated state", EINVAL);
  return {};
}

}  // namespace runvm::vmm
