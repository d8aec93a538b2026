#include "vmm/devices/legacy/serial.h"

#include <unistd.h>

namespace runvm::vmm {

namespace {
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kIerRdi = 0x01, kIerThri = 0x02;
constexpr uint8_t kIirNone = 0x01, kIirThri = 0x02, kIirRdi = 0x04, kIirFifo = 0xc0;
constexpr uint8_t kFcrEnable = 0x01, kFcrClearRx = 0x02;
constexpr uint8_t kLsrDr = 0x01, kLsrThre = 0x20, kLsrTemt = 0x40;
constexpr uint8_t kMcrLoop = 0x10;
}  // namespace

Serial8250::Serial8250(IrqFn set_irq, SinkFn sink)
    : set_irq_(std::move(set_irq)), sink_(std::move(sink)) {}

Serial8250::Serial8250(IrqFn set_irq, int out_fd) : set_irq_(std::move(set_irq)) {
  if (out_fd < 0) return;
  // A failing sink loses output only. EINTR is not retried: on a vCPU thread
  // it means the VM is stopping, and a full pipe must not keep the vCPU.
  sink_ = [out_fd](uint8_t b) { [[maybe_unused]] ssize_t n = ::write(out_fd, &b, 1); };
}

void Serial8250::set_space_callback(std::function<void()> cb) {
  std::lock_guard lk(mu_);
  space_cb_ = std::move(cb);
}

size_t Serial8250::input_space() const {
  std::lock_guard lk(mu_);
  return kFifoSize - rx_.size();
}

size_t Serial8250::enqueue_input(std::span<const uint8_t> bytes) {
  std::lock_guard lk(mu_);
  size_t n = 0;
  while (n < bytes.size() && rx_.size() < kFifoSize) rx_.push_back(bytes[n++]);
  if (rx_.size() == kFifoSize) rx_was_full_ = true;
  update_irq_locked();
  return n;
}

uint8_t Serial8250::iir_locked() const {
  uint8_t fifo = (fcr_ & kFcrEnable) ? kIirFifo : 0;
  if ((ier_ & kIerRdi) && !rx_.empty()) return fifo | kIirRdi;
  if ((ier_ & kIerThri) && thr_pending_) return fifo | kIirThri;
  return fifo | kIirNone;
}

void Serial8250::update_irq_locked() {
  bool level = (iir_locked() & kIirNone) == 0;
  if (level != irq_level_) {
    irq_level_ = level;
    if (set_irq_) set_irq_(level);
  }
}

void Serial8250::transmit_locked(uint8_t b) {
  if (mcr_ & kMcrLoop) {
    if (rx_.size() < kFifoSize) rx_.push_back(b);
    return;
  }
  if (sink_) sink_(b);
}

uint8_t Serial8250::read_reg(uint64_t reg) {
  switch (reg) {
    case 0: {
      if (lcr_ & kLcrDlab) return dll_;
      if (rx_.empty()) return 0;
      uint8_t b = rx_.front();
      rx_.pop_front();
      if (rx_was_full_) {
        rx_was_full_ = false;
        notify_space_ = true;  // called back once the lock is dropped
      }
      return b;
    }
    case 1:
      return (lcr_ & kLcrDlab) ? dlm_ : ier_;
    case 2: {
      uint8_t iir = iir_locked();
      // Reading IIR acknowledges a THR-empty interrupt.
      if ((iir & 0x0f) == kIirThri) thr_pending_ = false;
      return iir;
    }
    case 3:
      return lcr_;
    case 4:
      return mcr_;
    case 5:
      return static_cast<uint8_t>(kLsrThre | kLsrTemt | (rx_.empty() ? 0 : kLsrDr));
    case 6:
      if (mcr_ & kMcrLoop) {
        // Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
        return static_cast<uint8_t>(((mcr_ & 0x01) << 5) | ((mcr_ & 0x02) << 3) |
                                    ((mcr_ & 0x04) << 4) | ((mcr_ & 0x08) << 4));
      }
      return 0xb0;  // DCD, DSR, CTS
    case 7:
      return scr_;
  }
  return 0xff;
}

void Serial8250::write_reg(uint64_t reg, uint8_t v) {
  switch (reg) {
    case 0:
      if (lcr_ & kLcrDlab) {
        dll_ = v;
      } else {
        transmit_locked(v);
        // The byte leaves at once, so THR is empty again.
        thr_pending_ = true;
      }
      break;
    case 1:
      if (lcr_ & kLcrDlab) {
        dlm_ = v;
      } else {
        // Enabling THRI while THR is empty raises the interrupt immediately.
        if ((v & kIerThri) && !(ier_ & kIerThri)) thr_pending_ = true;
        ier_ = v & 0x0f;
      }
      break;
    case 2:
      fcr_ = v & 0xc9;
      if (v & kFcrClearRx) rx_.clear();
      break;
    case 3:
      lcr_ = v;
      break;
    case 4:
      mcr_ = v & 0x1f;
      break;
    case 7:
      scr_ = v;
      break;
    default:
      break;  // LSR/MSR writes are ignored
  }
}

void Serial8250::bus_read(uint64_t offset, std::span<uint8_t> data) {
  std::function<void()> cb;
  {
    std::lock_guard lk(mu_);
    for (size_t i = 0; i < data.size(); ++i) data[i] = read_reg(offset + i);
    update_irq_locked();
    if (notify_space_) {
      notify_space_ = false;
      cb = space_cb_;
    }
  }
  if (cb) cb();
}

void Serial8250::bus_write(uint64_t offset, std::span<const uint8_t> data) {
  std::lock_guard lk(mu_);
  for (size_t i = 0; i < data.size(); ++i) write_reg(offset + i, data[i]);
  update_irq_locked();
}

void Serial8250::save_state(snapshot::StateWriter& w) const {
  std::lock_guard lk(mu_);
  for (uint8_t v : {ier_, lcr_, mcr_, scr_, fcr_, dll_, dlm_, uint8_t{thr_pending_}}) w.put(v);
}

bool Serial8250::restore_state(snapshot::StateReader& r) {
  std::lock_guard lk(mu_);
  uint8_t thr = 0;
  if (!r.get(&ier_) || !r.get(&lcr_) || !r.get(&mcr_) || !r.get(&scr_) || !r.get(&fcr_) ||
      !r.get(&dll_) || !r.get(&dlm_) || !r.get(&thr))
    return false;
  thr_pending_ = thr != 0;
  irq_level_ = false;
  update_irq_locked();
  return true;
}

}  // namespace runvm::vmm
