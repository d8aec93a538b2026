// A 16550A-compatible UART (COM1 at 0x3F8, IRQ 4): enough of
// RBR/THR/IER/IIR/FCR/LCR/MCR/LSR/MSR/SCR and the divisor latch for the Linux
// 8250 driver. Transmitted bytes go to an output fd or sink (or nowhere); received
// bytes are queued by the event loop through enqueue_input(). The IRQ output
// is level: high while an enabled interrupt is pending (like a real 8250),
// and the set_irq callback is called only on changes. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>

#include "vmm/bus/bus.h"

namespace runvm::vmm {

class Serial8250 : public BusDevice {
 public:
  using IrqFn = std::function<void(bool level)>;
  // Takes each transmitted byte; called with the UART's lock held.
  using SinkFn = std::function<void(uint8_t)>;
  // out_fd < 0 discards output. The fd is not owned.
  Serial8250(IrqFn set_irq, int out_fd);
  // An empty sink discards output.
  Serial8250(IrqFn set_irq, SinkFn sink);

  void bus_read(uint64_t offset, std::span<uint8_t> data) override;
  void bus_write(uint64_t offset, std::span<const uint8_t> data) override;
  // The registers the driver programmed; queued input is not carried.
  void save_state(snapshot::StateWriter& w) const override;
  [[nodiscard]] bool restore_state(snapshot::StateReader& r) override;

  // Queues guest input; returns how many bytes fit (the FIFO holds kFifoSize).
  size_t enqueue_input(std::span<const uint8_t> bytes);
  size_t input_space() const;
  // Called (from a vCPU thread, without the UART's lock held) when the guest
  // frees FIFO space after it was full.
  void set_space_callback(std::function<void()> cb);

  static constexpr uint16_t kCom1Port = 0x3f8;
  static constexpr int kCom1Irq = 4;
  static constexpr size_t kFifoSize = 64;

 private:
  uint8_t read_reg(uint64_t reg);
  void write_reg(uint64_t reg, uint8_t v);
  uint8_t iir_locked() const;
  void update_irq_locked();
  void transmit_locked(uint8_t b);

  IrqFn set_irq_;
  SinkFn sink_;
  std::function<void()> space_cb_;
  mutable std::mutex mu_;
  std::deque<uint8_t> rx_;
  bool rx_was_full_ = false;
  bool notify_space_ = false;
  bool thr_pending_ = false;  // THR-empty interrupt armed
  bool irq_level_ = false;
  uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, fcr_ = 0;
  uint8_t dll_ = 0x0c, dlm_ = 0;  // 9600 baud
};

}  // namespace runvm::vmm
