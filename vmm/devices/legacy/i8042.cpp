#include "vmm/devices/legacy/i8042.h"

namespace runvm::vmm {

namespace {
constexpr uint8_t kStatusObf = 0x01;
constexpr uint8_t kStatusSys = 0x04;       // system flag: self test passed
constexpr uint8_t kStatusCmd = 0x08;       // last write was a command
constexpr uint8_t kStatusUnlocked = 0x10;  // keyboard not inhibited (no keylock)
}  // namespace

void I8042::bus_read(uint64_t offset, std::span<uint8_t> data) {
  std::lock_guard lk(mu_);
  uint8_t v = 0xff;
  if (offset == 0) {  // port 0x60: data
    v = out_.value_or(0);
    out_.reset();
  } else if (offset == 4) {  // port 0x64: status
    v = static_cast<uint8_t>(kStatusSys | kStatusCmd | kStatusUnlocked | (out_ ? kStatusObf : 0));
  }
  for (auto& b : data) b = v;
}

void I8042::bus_write(uint64_t offset, std::span<const uint8_t> data) {
  if (data.size() != 1) return;
  const uint8_t v = data[0];
  bool reset = false;
  {
    std::lock_guard lk(mu_);
    if (offset == 0) {  // data byte
      if (pending_cmd_ == 0x60) ctr_ = v;
      // 0xD3 (aux loopback) echoes a byte that is not what was sent, so the
      // probe moves on to the aux test, which fails: no mouse port. Data for
      // the keyboard goes nowhere: no keyboard is attached.
      if (pending_cmd_ == 0xd3) out_ = static_cast<uint8_t>(v ^ 0xff);
      pending_cmd_ = 0;
    } else if (offset == 4) {  // command
      pending_cmd_ = 0;
      switch (v) {
        case 0x20:
          out_ = ctr_;
          break;  // read CTR
        case 0x60:
          pending_cmd_ = v;
          break;  // write CTR (next data byte)
        case 0xaa:
          out_ = 0x55;
          break;  // controller self test: passed
        case 0xa9:
          out_ = 0xff;
          break;  // aux interface test: no mouse port
        case 0xab:
          out_ = 0x00;
          break;  // keyboard interface test: ok
        case 0xa7:
          ctr_ |= 0x20;
          break;  // disable aux
        case 0xa8:
          ctr_ &= ~0x20;
          break;  // enable aux
        case 0xad:
          ctr_ |= 0x10;
          break;  // disable keyboard
        case 0xae:
          ctr_ &= ~0x10;
          break;  // enable keyboard
        case 0xd1:
        case 0xd2:
        case 0xd3:
        case 0xd4:
          pending_cmd_ = v;
          break;
        case 0xfe:
          reset = true;
          break;  // pulse the CPU reset line
        default:
          break;
      }
    }
  }
  if (reset && on_reset_) on_reset_();
}

void I8042::save_state(snapshot::StateWriter& w) const {
  std::lock_guard lk(mu_);
  w.put<uint8_t>(out_ ? 1 : 0);
  w.put<uint8_t>(out_.value_or(0));
  w.put(ctr_);
  w.put(pending_cmd_);
}

bool I8042::restore_state(snapshot::StateReader& r) {
  std::lock_guard lk(mu_);
  uint8_t has = 0, out = 0;
  if (!r.get(&has) || !r.get(&out) || !r.get(&ctr_) || !r.get(&pending_cmd_)) return false;
  out_ = has ? std::optional<uint8_t>(out) : std::nullopt;
  return true;
}

}  // namespace runvm::vmm
