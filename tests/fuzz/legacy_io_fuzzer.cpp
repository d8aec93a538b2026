// libFuzzer target: the legacy PC devices on the port-I/O bus, mapped as
// DeviceManager::add_legacy_devices maps them: COM1 8250 (0x3F8), i8042
// (0x60-0x64), CMOS/RTC (0x70-0x71), POST port 0x80, ACPI sleep control and
// status (0x600-0x601) and the PCI root's config ports (0xCF8-0xCFF). The
// input picks the console sink (a counting memory sink, /dev/null, a small
// rotating ConsoleLog file, or none), then up to 256 steps: port reads and
// writes of 1..8 bytes at ports biased towards the devices and their edges,
// host input queued to the UART, and output bursts.
//
// Each device is checked against a small model of the register behaviour its
// header promises: every byte the UART, i8042, CMOS or root returns is the
// one the model predicts (clock registers: valid BCD/binary in range), the
// UART's IRQ line and FIFO space follow the model and the FIFO never exceeds
// kFifoSize, transmitted bytes reach the sink exactly once, reset and
// power-off requests fire exactly for the commands that ask for them,
// unclaimed ports float high, and a ConsoleLog file stays within its bound
// however much the guest prints.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#define FUZZ_TARGET "legacy_io_fuzzer"
#include "tests/fuzz/fuzz_input.h"
#include "vmm/arch/x86_64/acpi.h"
#include "vmm/bus/bus.h"
#include "vmm/devices/legacy/acpi_sleep.h"
#include "vmm/devices/legacy/cmos_rtc.h"
#include "vmm/devices/legacy/console_log.h"
#include "vmm/devices/legacy/i8042.h"
#include "vmm/devices/legacy/ignored_ports.h"
#include "vmm/devices/legacy/serial.h"
#include "vmm/pci/pci_root.h"

using namespace runvm::vmm;

namespace {

constexpr uint16_t kCom1 = Serial8250::kCom1Port;
constexpr uint16_t kSleep = x86_64::kSleepControlPort;
constexpr uint16_t kPciConfig = PciRoot::kConfigAddressPort;

struct PortRange {
  uint16_t base, len;
};
// The port map of add_legacy_devices; everything else is unclaimed.
constexpr PortRange kMap[] = {{kCom1, 8},
                              {I8042::kBase, I8042::kLen},
                              {CmosRtc::kBase, CmosRtc::kLen},
                              {0x80, 1},
                              {kSleep, 2},
                              {kPciConfig, 8}};

const PortRange* claim(uint32_t port, size_t n) {
  for (const PortRange& r : kMap)
    if (port >= r.base && port + n <= uint32_t{r.base} + r.len) return &r;
  return nullptr;
}

using Reader = runvm::fuzz::FuzzInput;

// Where the ConsoleLog sink writes; one private directory per process.
std::string& log_dir() {
  static std::string dir;
  return dir;
}
void remove_logs() {
  if (log_dir().empty()) return;
  unlink((log_dir() + "/console").c_str());
  unlink((log_dir() + "/console.1").c_str());
}
int64_t file_size(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}
int dev_null() {
  static int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  return fd;
}

// The 16550A as serial.h describes it: registers, divisor latch, a 64-byte
// receive FIFO, level IRQ for "data ready" and "THR empty".
struct UartModel {
  uint8_t ier = 0, lcr = 0, mcr = 0, scr = 0, fcr = 0, dll = 0x0c, dlm = 0;
  std::deque<uint8_t> rx;
  bool thr_pending = false;
  bool was_full = false;
  uint64_t space_callbacks = 0;  // expected
  uint64_t transmitted = 0;      // bytes that must have reached the sink
  uint8_t last_tx = 0;

  bool dlab() const { return lcr & 0x80; }
  uint8_t iir() const {
    uint8_t fifo = (fcr & 1) ? 0xc0 : 0;
    if ((ier & 1) && !rx.empty()) return fifo | 0x04;
    if ((ier & 2) && thr_pending) return fifo | 0x02;
    return fifo | 0x01;
  }
  bool irq() const { return (iir() & 1) == 0; }

  uint8_t read(unsigned reg) {
    switch (reg) {
      case 0: {
        if (dlab()) return dll;
        if (rx.empty()) return 0;
        uint8_t b = rx.front();
        rx.pop_front();
        if (was_full) {
          was_full = false;
          ++space_callbacks;
        }
        return b;
      }
      case 1:
        return dlab() ? dlm : ier;
      case 2: {
        uint8_t v = iir();
        if ((v & 0x0f) == 0x02) thr_pending = false;
        return v;
      }
      case 3:
        return lcr;
      case 4:
        return mcr;
      case 5:
        return static_cast<uint8_t>(0x60 | (rx.empty() ? 0 : 1));
      case 6:
        if (mcr & 0x10) {
          // Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
          return static_cast<uint8_t>((mcr & 1 ? 0x20 : 0) | (mcr & 2 ? 0x10 : 0) |
                                      (mcr & 4 ? 0x40 : 0) | (mcr & 8 ? 0x80 : 0));
        }
        return 0xb0;
      default:
        return scr;
    }
  }
  void write(unsigned reg, uint8_t v) {
    switch (reg) {
      case 0:
        if (dlab()) {
          dll = v;
          break;
        }
        if (mcr & 0x10) {
          if (rx.size() < Serial8250::kFifoSize) rx.push_back(v);
        } else {
          ++transmitted;
          last_tx = v;
        }
        thr_pending = true;
        break;
      case 1:
        if (dlab()) {
          dlm = v;
        } else {
          if ((v & 2) && !(ier & 2)) thr_pending = true;
          ier = v & 0x0f;
        }
        break;
      case 2:
        fcr = v & 0xc9;
        if (v & 2) rx.clear();
        break;
      case 3:
        lcr = v;
        break;
      case 4:
        mcr = v & 0x1f;
        break;
      case 7:
        scr = v;
        break;
      default:
        break;
    }
  }
  size_t enqueue(size_t n) {
    size_t take = std::min(n, Serial8250::kFifoSize - rx.size());
    if (rx.size() + take == Serial8250::kFifoSize) was_full = true;
    return take;
  }
};

struct I8042Model {
  std::optional<uint8_t> out;
  uint8_t ctr = 0x30, pending = 0;
  uint64_t resets = 0;

  uint8_t read(uint64_t offset) {
    if (offset == 0) {
      uint8_t v = out.value_or(0);
      out.reset();
      return v;
    }
    if (offset == 4) return static_cast<uint8_t>(0x1c | (out ? 1 : 0));
    return 0xff;
  }
  void write(uint64_t offset, uint8_t v) {
    if (offset == 0) {
      if (pending == 0x60) ctr = v;
      if (pending == 0xd3) out = static_cast<uint8_t>(v ^ 0xff);
      pending = 0;
    } else if (offset == 4) {
      pending = 0;
      switch (v) {
        case 0x20:
          out = ctr;
          break;
        case 0x60:
        case 0xd1:
        case 0xd2:
        case 0xd3:
        case 0xd4:
          pending = v;
          break;
        case 0xaa:
          out = 0x55;
          break;
        case 0xa9:
          out = 0xff;
          break;
        case 0xab:
          out = 0x00;
          break;
        case 0xa7:
          ctr |= 0x20;
          break;
        case 0xa8:
          ctr &= ~0x20;
          break;
        case 0xad:
          ctr |= 0x10;
          break;
        case 0xae:
          ctr &= ~0x10;
          break;
        case 0xfe:
          ++resets;
          break;
        default:
          break;
      }
    }
  }
};

bool valid_bcd(uint8_t v) {
  return (v & 0x0f) <= 9 && (v >> 4) <= 9;
}

struct CmosModel {
  uint8_t index = 0;
  uint8_t ram[128] = {};
  CmosModel() {
    ram[0x0a] = 0x26;
    ram[0x0b] = 0x02;
    ram[0x0d] = 0x80;
  }
  static bool clock(uint8_t i) { return i <= 0x09 || i == 0x32; }

  // Clock registers follow the host's clock: only their encoding and range are checked.
  void check_data(uint8_t got) const {
    const uint8_t i = index;
    if (i == 0x0c) {
      FUZZ_CHECK(got == 0);
      return;
    }
    if (!clock(i) || i == 0x01 || i == 0x03 || i == 0x05) {
      FUZZ_CHECK(got == ram[i]);
      return;
    }
    const bool binary = ram[0x0b] & 0x04;
    if (!binary) FUZZ_CHECK(valid_bcd(got));
    const int v = binary ? got : (got >> 4) * 10 + (got & 0x0f);
    switch (i) {
      case 0x00:
      case 0x02:
        FUZZ_CHECK(v < 61);  // a leap second reads as 60
        break;
      case 0x04:
        FUZZ_CHECK(v < 24);
        break;
      case 0x06:
        FUZZ_CHECK(v >= 1 && v <= 7);
        break;
      case 0x07:
        FUZZ_CHECK(v >= 1 && v <= 31);
        break;
      case 0x08:
        FUZZ_CHECK(v >= 1 && v <= 12);
        break;
      case 0x09:
        FUZZ_CHECK(v < 100);
        break;
      default:  // 0x32: century
        FUZZ_CHECK(v >= 19 && v <= 99);
        break;
    }
  }
  void write_data(uint8_t v) {
    const uint8_t i = index;
    if (clock(i) || i == 0x0c || i == 0x0d) return;
    ram[i] = i == 0x0a ? v & 0x7f : v;
  }
};

class Harness {
 public:
  Harness(const uint8_t* data, size_t size) : in_(data, size) {}

  void build() {
    const uint8_t mode = in_.u8();
    auto irq = [this](bool level) {
      // Level-triggered: only changes are reported.
      FUZZ_CHECK(level != irq_level_);
      irq_level_ = level;
    };
    switch (mode % 4) {
      case 0:
        serial_ = std::make_shared<Serial8250>(irq, [this](uint8_t b) {
          ++sunk_;
          last_sunk_ = b;
        });
        counted_ = true;
        break;
      case 1:
        serial_ = std::make_shared<Serial8250>(irq, dev_null());
        break;
      case 2: {
        remove_logs();
        log_max_ = uint64_t{64} << ((mode >> 2) % 6);
        auto log = ConsoleLog::open(log_dir() + "/console", log_max_);
        FUZZ_CHECK(log.ok());
        log_ = std::shared_ptr<ConsoleLog>(std::move(*log));
        serial_ = std::make_shared<Serial8250>(irq, [log = log_](uint8_t b) { log->write(b); });
        break;
      }
      default:
        serial_ = std::make_shared<Serial8250>(irq, Serial8250::SinkFn{});
        break;
    }
    serial_->set_space_callback([this] { ++space_callbacks_; });
    root_ = std::make_shared<PciRoot>(&mmio_, nullptr);

    FUZZ_CHECK(pio_.insert(serial_, kCom1, 8));
    FUZZ_CHECK(
        pio_.insert(std::make_shared<I8042>([this] { ++resets_; }), I8042::kBase, I8042::kLen));
    FUZZ_CHECK(pio_.insert(std::make_shared<CmosRtc>(), CmosRtc::kBase, CmosRtc::kLen));
    FUZZ_CHECK(pio_.insert(std::make_shared<IgnoredPorts>(0), 0x80, 1));
    FUZZ_CHECK(pio_.insert(std::make_shared<AcpiSleepPorts>([this] { ++poweroffs_; }), kSleep, 2));
    FUZZ_CHECK(root_->attach_pio(pio_, root_).ok());
  }

  void run() {
    for (int step = 0; step < 256 && !in_.empty(); ++step) {
      const uint8_t op = in_.u8();
      if (op < 0xe0) {
        port_access(op);
      } else if (op < 0xf0) {
        host_input();
      } else {
        output_burst();
      }
      check_state();
    }
  }

  void final_checks() {
    if (!log_) return;
    // However much was printed, at most two files of log_max_ bytes stay.
    const std::string path = log_dir() + "/console";
    const int64_t cur = file_size(path), old = file_size(path + ".1");
    FUZZ_CHECK(cur >= 0 && static_cast<uint64_t>(cur) <= log_max_);
    FUZZ_CHECK(old >= 0 && static_cast<uint64_t>(old) <= log_max_);
    FUZZ_CHECK(static_cast<uint64_t>(cur + old) <= uart_.transmitted);
    // Nothing is lost before the first rotation.
    if (uart_.transmitted <= log_max_) FUZZ_CHECK(static_cast<uint64_t>(cur) == uart_.transmitted);
  }

 private:
  uint16_t pick_port(uint8_t op) {
    const uint8_t sel = in_.u8();
    switch (op % 8) {
      case 0:
      case 1:
      case 2:
        return static_cast<uint16_t>(kCom1 + sel % 8);
      case 3:
        return sel & 0x80 ? I8042::kBase + sel % I8042::kLen : (sel & 1 ? 0x64 : 0x60);
      case 4:
        return static_cast<uint16_t>(CmosRtc::kBase + sel % 2);
      case 5:
        return static_cast<uint16_t>(sel & 0x80 ? kSleep + sel % 2 : 0x80);
      case 6: {
        // Just outside and across the edges of every range.
        const PortRange& r = kMap[sel % std::size(kMap)];
        return static_cast<uint16_t>(sel & 0x40 ? r.base - 1 - (sel >> 7) : r.base + r.len - 1);
      }
      default:
        return sel & 0x80 ? static_cast<uint16_t>(kPciConfig + sel % 8) : in_.u16();
    }
  }

  size_t access_size() {
    const uint8_t sel = in_.u8();
    if (sel < 0xa0) return 1;  // what the devices mostly see
    if (sel < 0xf0) return size_t{1} << (sel % 3);
    return 1 + sel % 8;  // the bus carries up to 8
  }

  void port_access(uint8_t op) {
    const uint16_t port = pick_port(op);
    const size_t n = access_size();
    const bool write = in_.u8() & 1;
    uint8_t buf[8] = {};
    const PortRange* r = claim(port, n);
    if (write) {
      for (size_t i = 0; i < n; ++i) buf[i] = in_.u8();
      if (in_.u8() == 0xfe) buf[0] = 0xfe;  // make the reset command likely
      FUZZ_CHECK(pio_.write(port, std::span<const uint8_t>(buf, n)) == (r != nullptr));
      if (r) model_write(*r, port - r->base, buf, n);
    } else {
      const bool claimed = pio_.read(port, std::span<uint8_t>(buf, n));
      FUZZ_CHECK(claimed == (r != nullptr));
      if (!r) {
        for (size_t i = 0; i < n; ++i) FUZZ_CHECK(buf[i] == 0xff);
      } else {
        model_read(*r, port - r->base, buf, n);
      }
    }
  }

  void model_write(const PortRange& r, uint64_t off, const uint8_t* b, size_t n) {
    if (r.base == kCom1) {
      for (size_t i = 0; i < n; ++i) uart_.write(static_cast<unsigned>(off + i), b[i]);
    } else if (r.base == I8042::kBase) {
      if (n == 1) i8042_.write(off, b[0]);  // wider accesses are dropped
    } else if (r.base == CmosRtc::kBase) {
      for (size_t i = 0; i < n; ++i) {
        if (off + i == 0) cmos_.index = b[i] & 0x7f;
        if (off + i == 1) cmos_.write_data(b[i]);
      }
    } else if (r.base == kSleep) {
      if (off == 0 && n == 1 && (b[0] & 0x20) && ((b[0] >> 2) & 7) == x86_64::kS5SleepType)
        ++expected_poweroffs_;
    } else if (r.base == kPciConfig) {
      if (off == 0 && n == 4) std::memcpy(&config_address_, b, 4);
    }
  }

  void model_read(const PortRange& r, uint64_t off, const uint8_t* b, size_t n) {
    if (r.base == kCom1) {
      for (size_t i = 0; i < n; ++i) FUZZ_CHECK(b[i] == uart_.read(static_cast<unsigned>(off + i)));
    } else if (r.base == I8042::kBase) {
      // One register read, replicated across the access.
      const uint8_t v = i8042_.read(off);
      for (size_t i = 0; i < n; ++i) FUZZ_CHECK(b[i] == v);
    } else if (r.base == CmosRtc::kBase) {
      for (size_t i = 0; i < n; ++i) {
        if (off + i == 1)
          cmos_.check_data(b[i]);
        else
          FUZZ_CHECK(b[i] == cmos_.index);  // the index port reads back the index
      }
    } else if (r.base == 0x80 || r.base == kSleep) {
      for (size_t i = 0; i < n; ++i) FUZZ_CHECK(b[i] == 0);
    } else if (r.base == kPciConfig && off < 4) {
      uint32_t v;
      std::memcpy(&v, b, std::min<size_t>(n, 4));
      if (off == 0 && n == 4) {
        FUZZ_CHECK(v == config_address_);
      } else {
        for (size_t i = 0; i < n; ++i) FUZZ_CHECK(b[i] == 0xff);
      }
    } else if (r.base == kPciConfig) {
      // CONFIG_DATA: only the host bridge (00:00.0) answers; it is read-only.
      const bool enabled = config_address_ & 0x8000'0000;
      const bool bridge = (config_address_ & 0x00ff'ff00) == 0;
      const uint64_t byte = off - 4;
      if (!enabled || !bridge || byte % n != 0 || byte + n > 4) {
        for (size_t i = 0; i < n; ++i) FUZZ_CHECK(b[i] == 0xff);
      } else if ((config_address_ & 0xfc) == 0) {
        const uint32_t id = PciRoot::kHostBridgeVendor | uint32_t{PciRoot::kHostBridgeDevice} << 16;
        for (size_t i = 0; i < n; ++i) FUZZ_CHECK(b[i] == uint8_t(id >> (8 * (byte + i))));
      }
    }
  }

  // What the event loop does with console input: queue what fits.
  void host_input() {
    uint8_t buf[80];
    const size_t n = in_.u8() % sizeof buf;
    for (size_t i = 0; i < n; ++i) buf[i] = in_.u8();
    const size_t want = uart_.enqueue(n);
    FUZZ_CHECK(serial_->enqueue_input(std::span<const uint8_t>(buf, n)) == want);
    for (size_t i = 0; i < want; ++i) uart_.rx.push_back(buf[i]);
  }

  // A guest printing a lot: output must flow (or be dropped) without growing.
  void output_burst() {
    const size_t n = in_.u16() % 512;
    const uint8_t b = in_.u8();
    for (size_t i = 0; i < n; ++i) {
      const uint8_t v = static_cast<uint8_t>(b + i);
      FUZZ_CHECK(pio_.write(kCom1, std::span<const uint8_t>(&v, 1)));
      uart_.write(0, v);
    }
  }

  void check_state() {
    FUZZ_CHECK(irq_level_ == uart_.irq());
    FUZZ_CHECK(serial_->input_space() == Serial8250::kFifoSize - uart_.rx.size());
    FUZZ_CHECK(space_callbacks_ == uart_.space_callbacks);
    if (counted_) {
      FUZZ_CHECK(sunk_ == uart_.transmitted);
      if (sunk_) FUZZ_CHECK(last_sunk_ == uart_.last_tx);
    }
    FUZZ_CHECK(resets_ == i8042_.resets);
    FUZZ_CHECK(poweroffs_ == expected_poweroffs_);
  }

  Reader in_;
  Bus pio_{"pio"};
  Bus mmio_{"mmio"};
  std::shared_ptr<Serial8250> serial_;
  std::shared_ptr<ConsoleLog> log_;
  std::shared_ptr<PciRoot> root_;
  uint64_t log_max_ = 0;
  bool counted_ = false;
  uint64_t sunk_ = 0;
  uint8_t last_sunk_ = 0;
  bool irq_level_ = false;
  uint64_t space_callbacks_ = 0;
  uint64_t resets_ = 0;
  uint64_t poweroffs_ = 0;
  uint64_t expected_poweroffs_ = 0;
  uint32_t config_address_ = 0;
  UartModel uart_;
  I8042Model i8042_;
  CmosModel cmos_;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // tmpfs when there is one: the log sink writes a byte per syscall and rotates often.
  const char* tmp = std::getenv("TMPDIR");
  std::string base = tmp && *tmp ? tmp : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  std::string tmpl = base + "/legacy_io_fuzzer.XXXXXX";
  if (mkdtemp(tmpl.data())) {
    log_dir() = tmpl;
    std::atexit([] {
      remove_logs();
      rmdir(log_dir().c_str());
    });
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FUZZ_CHECK(!log_dir().empty());
  Harness h(data, size);
  h.build();
  h.run();
  h.final_checks();
  return 0;
}
