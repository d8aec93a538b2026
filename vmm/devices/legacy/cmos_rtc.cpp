#include <ctime>

#include "vmm/devices/legacy/cmos_rtc.h"

namespace runvm::vmm {

namespace {
constexpr uint8_t kRegA = 0x0a, kRegB = 0x0b, kRegC = 0x0c, kRegD = 0x0d;
constexpr uint8_t kRegBBinary = 0x04, kRegB24h = 0x02;
uint8_t to_bcd(int v) {
  return static_cast<uint8_t>(((v / 10) << 4) | (v % 10));
}
}  // namespace

CmosRtc::CmosRtc() {
  ram_[kRegA] = 0x26;      // 32.768 kHz base, 1024 Hz rate, no update in progress
  ram_[kRegB] = kRegB24h;  // 24-hour, BCD
  ram_[kRegD] = 0x80;      // RAM and time valid
}

uint8_t CmosRtc::read_data(uint8_t index) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  const bool binary = ram_[kRegB] & kRegBBinary;
  auto enc = [&](int v) { return binary ? static_cast<uint8_t>(v) : to_bcd(v); };
  switch (index) {
    case 0x00:
      return enc(tm.tm_sec);
    case 0x02:
      return enc(tm.tm_min);
    case 0x04:
      return enc(tm.tm_hour);
    case 0x06:
      return enc(tm.tm_wday + 1);
    case 0x07:
      return enc(tm.tm_mday);
    case 0x08:
      return enc(tm.tm_mon + 1);
    case 0x09:
      return enc(tm.tm_year % 100);
    case 0x32:
      return enc((tm.tm_year + 1900) / 100);
    case kRegC:
      return 0;  // no interrupt flags
    default:
      return ram_[index & 0x7f];
  }
}

void CmosRtc::bus_read(uint64_t offset, std::span<uint8_t> data) {
  std::lock_guard lk(mu_);
  for (size_t i = 0; i < data.size(); ++i) {
    if (offset + i == 1)
      data[i] = read_data(index_);
    else
      data[i] = index_;  // the index port reads back the last index
  }
}

void CmosRtc::bus_write(uint64_t offset, std::span<const uint8_t> data) {
  std::lock_guard lk(mu_);
  for (size_t i = 0; i < data.size(); ++i) {
    if (offset + i == 0) {
      index_ = data[i] & 0x7f;  // bit 7 masks NMIs; nothing to mask here
    } else if (offset + i == 1) {
      uint8_t idx = index_;
      if (idx <= 0x09 || idx == 0x32 || idx == kRegC || idx == kRegD)
        continue;  // clock is read-only
      if (idx == kRegA) {
        ram_[idx] = data[i] & 0x7f;  // UIP is read-only
      } else {
        ram_[idx] = data[i];
      }
    }
  }
}

void CmosRtc::save_state(snapshot::StateWriter& w) const {
  std::lock_guard lk(mu_);
  w.put(index_);
  w.put(ram_);
}

bool CmosRtc::restore_state(snapshot::StateReader& r) {
  std::lock_guard lk(mu_);
  return r.get(&index_) && r.get(&ram_);
}

}  // namespace runvm::vmm
