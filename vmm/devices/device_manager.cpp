#include "vmm/devices/device_manager.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "vmm/arch/x86_64/acpi.h"
#include "vmm/devices/legacy/acpi_sleep.h"
#include "vmm/devices/legacy/cmos_rtc.h"
#include "vmm/devices/legacy/i8042.h"
#include "vmm/devices/legacy/ignored_ports.h"
#include "vmm/devices/legacy/serial.h"

namespace runvm::vmm {

DeviceManager::DeviceManager(const GuestMemory& memory, Bus& pio, Bus& mmio, EventLoop& loop,
                             PciVmServices& vm, VmStop& stop)
    : memory_(memory), pio_(pio), mmio_(mmio), loop_(loop), vm_(vm), stop_(stop) {
  pci_ = std::make_shared<PciRoot>(&mmio_, &vm_);
}

DeviceManager::~DeviceManager() {
  if (stdin_watched_) loop_.remove(STDIN_FILENO);
  if (stdin_flags_ >= 0) fcntl(STDIN_FILENO, F_SETFL, stdin_flags_);
}

Status DeviceManager::open_console(const ConsoleConfig& c, int* out_fd) {
  switch (c.kind) {
    case ConsoleConfig::Kind::Stdio:
      *out_fd = STDOUT_FILENO;
      return {};
    case ConsoleConfig::Kind::None:
      *out_fd = -1;
      return {};
    case ConsoleConfig::Kind::File: {
      auto log = ConsoleLog::open(c.path, c.max_bytes);
      if (!log) return std::move(log).error();
      console_log_ = std::move(*log);
      *out_fd = -1;
      return {};
    }
  }
  return Error("unknown console kind");
}

bool DeviceManager::add_stdin_handler() {
  return loop_.add(STDIN_FILENO, EPOLLIN, [this](uint32_t) {
    uint8_t buf[Serial8250::kFifoSize];
    size_t room = serial_->input_space();
    if (room > 0) {
      ssize_t n = ::read(STDIN_FILENO, buf, room);
      if (n > 0) {
        serial_->enqueue_input(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        loop_.remove(STDIN_FILENO);  // EOF: no more input
        return;
      }
    }
    // FIFO full: stop polling (also silences EPOLLHUP) until the guest drains it.
    std::lock_guard lk(stdin_mu_);
    if (serial_->input_space() == 0) {
      loop_.remove(STDIN_FILENO);
      stdin_paused_ = true;
    }
  });
}

void DeviceManager::watch_stdin() {
  // Regular files and /dev/null cannot be polled; such a console has no input.
  if (!add_stdin_handler()) return;
  stdin_watched_ = true;
  stdin_flags_ = fcntl(STDIN_FILENO, F_GETFL);
  if (stdin_flags_ >= 0) fcntl(STDIN_FILENO, F_SETFL, stdin_flags_ | O_NONBLOCK);
  // Called on a vCPU thread (outside the UART's lock) when the guest frees
  // FIFO space after it was full; the watch is added back on the loop thread
  // (a vCPU's seccomp filter has no epoll_ctl).
  serial_->set_space_callback([this] {
    loop_.call([this] {
      std::lock_guard lk(stdin_mu_);
      if (stdin_paused_) {
        stdin_paused_ = false;
        (void)add_stdin_handler();
      }
    });
  });
}

Status DeviceManager::add_legacy_devices(const VmConfig& cfg) {
  int out_fd = -1;
  if (auto s = open_console(cfg.console, &out_fd); !s) return s;
  PciVmServices* vm = &vm_;
  auto irq = [vm](bool level) { vm->set_irq_line(Serial8250::kCom1Irq, level); };
  if (console_log_) {
    serial_ = std::make_shared<Serial8250>(irq, [log = console_log_](uint8_t b) { log->write(b); });
  } else {
    serial_ = std::make_shared<Serial8250>(irq, out_fd);
  }
  if (!pio_.insert(serial_, Serial8250::kCom1Port, 8)) return Error("COM1 ports in use");
  if (cfg.console.kind == ConsoleConfig::Kind::Stdio) watch_stdin();

  VmStop* stop = &stop_;
  auto kbd = std::make_shared<I8042>(
      [stop] { stop->request(StopReason::GuestReset, "i8042 reset (guest reboot)"); });
  if (!pio_.insert(kbd, I8042::kBase, I8042::kLen)) return Error("i8042 ports in use");
  auto cmos = std::make_shared<CmosRtc>();
  if (!pio_.insert(cmos, CmosRtc::kBase, CmosRtc::kLen)) return Error("CMOS ports in use");
  stateful_ = {{"serial", serial_}, {"i8042", kbd}, {"cmos", cmos}};
  if (!pio_.insert(std::make_shared<IgnoredPorts>(0), 0x80, 1)) return Error("port 0x80 in use");
  auto sleep = std::make_shared<AcpiSleepPorts>(
      [stop] { stop->request(StopReason::GuestShutdown, "ACPI S5 (guest power-off)"); });
  if (!pio_.insert(sleep, x86_64::kSleepControlPort, 2)) return Error("ACPI sleep ports in use");
  if (auto s = pci_->attach_pio(pio_, pci_); !s) return s;
  return {};
}

void DeviceManager::save_state(snapshot::StateWriter& w) const {
  for (const auto& [name, dev] : stateful_) {
    snapshot::StateWriter d;
    dev->save_state(d);
    w.put_string(name);
    w.put_blob(d.bytes());
  }
  pci_->save_state(w);
}

Status DeviceManager::restore_state(snapshot::StateReader& r) {
  for (const auto& [name, dev] : stateful_) {
    std::string saved;
    std::vector<uint8_t> blob;
    if (!r.get_string(&saved, 64) || saved != name || !r.get_blob(&blob, 1 << 16))
      return Error("legacy device " + name + ": missing from the snapshot", EINVAL);
    snapshot::StateReader d(blob);
    if (!dev->restore_state(d) || !d.finished())
      return Error("legacy device " + name + ": state does not fit", EINVAL);
  }
  return pci_->restore_devices(r);
}

}  // namespace runvm::vmm
