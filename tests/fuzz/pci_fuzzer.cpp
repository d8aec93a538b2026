// libFuzzer target: PCI as a guest reaches it. A PciRoot serves configuration
// mechanism #1 on a port-I/O bus (0xCF8/0xCFC) and maps BARs on an MMIO bus;
// behind it sit a virtio-pci transport (00:01.0, wrapping the real VirtioRng
// or a small in-file device with config bytes and a fuzzer-chosen queue
// layout) and pvpanic-pci (00:02.0), over real GuestMemory in two regions.
//
// The input picks the machine (device, whether doorbells become ioeventfds,
// KVM-side failures to inject), then up to 128 guest steps: raw and biased
// port/MMIO accesses of 1..8 bytes, config cycles, the VIRTIO_PCI_CAP_PCI_CFG
// window, BAR size probes, MSI-X table/PBA and control, a driver bring-up
// (status, features, queue layout at guest-chosen addresses, DRIVER_OK), chains
// published and kicked, guest memory scribbles and resets.
//
// KVM is replaced by CheckingVm (the PciVmServices seam the unit tests use, as
// tests/vmm/virtio/fake_vm.h); it also plays KVM's ioeventfd match on MMIO
// writes. Checked beyond "no crash, ASan/UBSan clean": the config-space
// identity and capability list survive any guest writes, BAR probes follow the
// size protocol, the device sees config accesses only in bounds and kicks only
// for its queues, FEATURES_OK sticks exactly for acceptable features, the
// transport's activation matches the device's, the ISR read returns what the
// INTx line showed and lowers it, MSI-X never leaves an unmasked vector
// pending, the table reads back what was written, the PCI_CFG window reads
// what the BAR reads, pvpanic reports once, MSI routes stay bounded by the
// vector count, and teardown leaves no irqfd, ioeventfd or file descriptor.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#define FUZZ_TARGET "pci_fuzzer"
#include "tests/fuzz/fuzz_input.h"
#include "vmm/bus/bus.h"
#include "vmm/devices/pvpanic/pvpanic_pci.h"
#include "vmm/devices/virtio/queue.h"
#include "vmm/devices/virtio/rng/rng.h"
#include "vmm/devices/virtio/transport/virtio_pci.h"
#include "vmm/event/event_loop.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/pci/pci_root.h"

using namespace runvm::vmm;
using namespace runvm::vmm::virtio;
using runvm::Status;
using runvm::vmm::pci::kMsixEntrySize;

namespace {

constexpr uint64_t kRamA = 0;
constexpr uint64_t kRamB = 0x100000;  // a second region: rings may straddle the gap
constexpr size_t kRamSize = 64 * 1024;
constexpr int kVirtioSlot = 1;
constexpr int kPanicSlot = 2;
constexpr uint16_t kConfigAddress = 0xcf8;
constexpr uint16_t kConfigData = 0xcfc;
constexpr uint8_t kMsixCap = 0x40;  // where the transport puts it (the walk checks)
constexpr uint32_t kMaxDriverQueues = 8;

bool fd_open(int fd) {
  return fd >= 0 && fcntl(fd, F_GETFD) != -1;
}

// The lowest free descriptor: equal before and after an input means nothing leaked.
int lowest_free_fd() {
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) close(fd);
  return fd;
}

uint64_t all_ones(size_t n) {
  return n >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * n)) - 1;
}

using Reader = runvm::fuzz::FuzzInput;

// PciVmServices without KVM, strict about what a PCI device may ask of it.
class CheckingVm : public PciVmServices {
 public:
  int msi_route_add(uint64_t address, uint32_t data) override {
    if (fail_routes) return -1;
    int gsi = next_gsi_++;
    routes[gsi] = {address, data};
    return gsi;
  }
  bool msi_route_update(int gsi, uint64_t address, uint32_t data) override {
    FUZZ_CHECK(routes.count(gsi) == 1);
    routes[gsi] = {address, data};
    return true;
  }
  bool irqfd_assign(int eventfd, int gsi) override {
    FUZZ_CHECK(routes.count(gsi) == 1 && irqfds.count(gsi) == 0 && fd_open(eventfd));
    if (fail_irqfd) return false;
    irqfds[gsi] = eventfd;
    return true;
  }
  bool irqfd_deassign(int eventfd, int gsi) override {
    auto it = irqfds.find(gsi);
    FUZZ_CHECK(it != irqfds.end() && it->second == eventfd);
    irqfds.erase(it);
    return true;
  }
  bool ioeventfd_assign(int eventfd, uint64_t addr, uint32_t len) override {
    // Doorbells are the 16-bit queue index written at notify_off * multiplier.
    FUZZ_CHECK(len == 2 && fd_open(eventfd));
    FUZZ_CHECK(addr >= notify_base && addr < notify_base + uint64_t{kNotifyMultiplier} * queues);
    FUZZ_CHECK((addr - notify_base) % kNotifyMultiplier == 0 && ioevents.count(addr) == 0);
    if (fail_ioeventfd) return false;
    ioevents[addr] = eventfd;
    return true;
  }
  bool ioeventfd_deassign(int eventfd, uint64_t addr, uint32_t len) override {
    auto it = ioevents.find(addr);
    FUZZ_CHECK(len == 2 && it != ioevents.end() && it->second == eventfd);
    ioevents.erase(it);
    return true;
  }
  bool signal_msi(uint64_t, uint32_t) override {
    ++direct_msis;
    return true;
  }
  bool set_irq_line(int gsi, bool level) override {
    // Level-triggered INTx: only changes are reported, on the wire the root assigned.
    FUZZ_CHECK(gsi == intx_gsi && level != line);
    line = level;
    return true;
  }

  // Injected host-side failures (a full GSI table, KVM refusing an irqfd or ioeventfd).
  bool fail_routes = false, fail_irqfd = false, fail_ioeventfd = false;
  int intx_gsi = -1;
  uint64_t notify_base = 0;
  uint32_t queues = 0;
  std::map<int, std::pair<uint64_t, uint32_t>> routes;
  std::map<int, int> irqfds;         // gsi -> eventfd
  std::map<uint64_t, int> ioevents;  // guest address -> eventfd
  uint64_t direct_msis = 0;
  bool line = false;

 private:
  int next_gsi_ = 24;
};

// A device with fuzzer-chosen features, queue sizes and config size, which
// checks what the transport forwards and answers kicks like a real device
// (consume chains, return them used, interrupt when the driver wants one).
class TestDevice : public VirtioDevice {
 public:
  TestDevice(uint64_t features, std::vector<uint16_t> sizes, uint32_t config_size, bool fail)
      : features_(features), sizes_(std::move(sizes)), config_(config_size), fail_(fail) {}

  std::string name() const override { return "fuzz"; }
  uint32_t device_type() const override { return kDeviceTypeConsole; }
  uint64_t device_features() const override { return features_; }
  void ack_features(uint64_t f) override { acked = f; }
  std::vector<uint16_t> queue_max_sizes() const override { return sizes_; }
  uint32_t config_size() const override { return static_cast<uint32_t>(config_.size()); }
  void read_config(uint32_t offset, std::span<uint8_t> data) override {
    FUZZ_CHECK(uint64_t{offset} + data.size() <= config_.size());
    std::memcpy(data.data(), config_.data() + offset, data.size());
  }
  void write_config(uint32_t offset, std::span<const uint8_t> data) override {
    FUZZ_CHECK(uint64_t{offset} + data.size() <= config_.size());
    std::memcpy(config_.data() + offset, data.data(), data.size());
    // A write to byte 0 stands for a device-side config change.
    if (offset == 0 && interrupt_) interrupt_->notify_config();
  }
  Status activate(const GuestMemory&, std::vector<std::optional<Queue>> queues,
                  std::shared_ptr<VirtioInterrupt> interrupt) override {
    FUZZ_CHECK(!active && queues.size() == sizes_.size());
    for (size_t i = 0; i < queues.size(); ++i)
      FUZZ_CHECK(!queues[i] || queues[i]->size() <= std::min<uint16_t>(sizes_[i], kMaxQueueSize));
    if (fail_) return runvm::Error("fuzz: activation refused");
    active = true;
    queues_ = std::move(queues);
    interrupt_ = std::move(interrupt);
    return {};
  }
  void queue_notify(uint16_t index) override {
    FUZZ_CHECK(index < sizes_.size());
    if (!active || !queues_[index]) return;
    Queue& q = *queues_[index];
    for (int budget = 0; budget < 16; ++budget) {
      auto chain = q.pop();
      if (!chain) break;
      uint32_t len = static_cast<uint32_t>(std::min<uint64_t>(chain->writable_len(), 64));
      q.add_used(std::move(*chain), len);
    }
    if (q.needs_notification()) interrupt_->notify_queue(index);
  }
  void reset() override {
    FUZZ_CHECK(active);
    active = false;
    queues_.clear();
    interrupt_.reset();
  }

  bool active = false;
  uint64_t acked = 0;

 private:
  uint64_t features_;
  std::vector<uint16_t> sizes_;
  std::vector<uint8_t> config_;
  bool fail_;
  std::vector<std::optional<Queue>> queues_;
  std::shared_ptr<VirtioInterrupt> interrupt_;
};

// Where the capability walk found the virtio structures.
struct Layout {
  uint64_t common = 0, isr = 0, device = 0, notify = 0;
  uint32_t device_len = 0, notify_mult = 0;
  uint8_t pci_cfg = 0;
  uint64_t msix_table = 0, msix_pba = 0;
  uint16_t vectors = 0;
  std::vector<std::array<uint8_t, 4>> chain;  // id, next, len, type of each capability
};

// What the driver model programmed for one queue.
struct DriverQueue {
  uint16_t size = 0;
  uint64_t desc = 0, avail = 0, used = 0;
  uint16_t avail_idx = 0, next_desc = 0;
};

struct Machine {
  Bus pio{"pio"};
  Bus mmio{"mmio"};
  std::shared_ptr<PciRoot> root;
  std::shared_ptr<VirtioPciDevice> virtio;
  std::shared_ptr<PvPanicPci> panic;
};

std::vector<uint64_t>& ram_storage() {
  static std::vector<uint64_t> storage(2 * kRamSize / 8);
  return storage;
}

class Harness {
 public:
  Harness(const uint8_t* data, size_t size)
      : in_(data, size),
        mem_(GuestMemory::from_regions(
            {MemoryRegion{kRamA, kRamSize, reinterpret_cast<uint8_t*>(ram_storage().data())},
             MemoryRegion{kRamB, kRamSize,
                          reinterpret_cast<uint8_t*>(ram_storage().data()) + kRamSize}})) {
    std::fill(ram_storage().begin(), ram_storage().end(), 0);
  }

  void build() {
    const uint8_t mode = in_.u8();
    vm_.fail_routes = (mode & 0x0c) == 0x0c;
    vm_.fail_irqfd = (mode & 0x30) == 0x30;
    vm_.fail_ioeventfd = (mode & 0xc0) == 0xc0;
    if (mode & 2) loop_.emplace();
    FUZZ_CHECK(!loop_ || loop_->ok());

    std::shared_ptr<VirtioDevice> dev;
    if (mode & 1) {
      dev = std::make_shared<VirtioRng>();
    } else {
      uint64_t features = in_.u64();
      const uint8_t nsel = in_.u8();
      // Rarely more queues than the transport takes: it keeps kMaxQueues, the
      // most whose MSI-X table still fits below the PBA.
      size_t nq = nsel == 0xff ? 1100 : nsel % 5;
      std::vector<uint16_t> sizes(nq);
      static constexpr uint16_t kSizes[] = {256, 64, 16, 1, 0, 3, 32768, 65535};
      for (auto& s : sizes) {
        uint8_t sel = in_.u8();
        s = sel < 0xc0 ? kSizes[sel % 8] : static_cast<uint16_t>(in_.u16());
      }
      static constexpr uint32_t kConfigSizes[] = {0, 1, 7, 24, 256, 0x1000, 0x1800, 60};
      const uint8_t csel = in_.u8();
      test_ = std::make_shared<TestDevice>(features, std::move(sizes), kConfigSizes[csel % 8],
                                           (csel & 0xf8) == 0xf8);
      dev = test_;
    }
    expected_type_ = dev->device_type();
    auto sizes = dev->queue_max_sizes();
    num_queues_ = static_cast<uint32_t>(std::min<size_t>(sizes.size(), kMaxQueues));
    for (uint32_t i = 0; i < num_queues_; ++i)
      max_sizes_.push_back(std::min<uint16_t>(sizes[i], kMaxQueueSize));
    offered_ = dev->device_features() | kFeatureVersion1 | kFeatureRingIndirectDesc;

    m_.emplace();
    m_->root = std::make_shared<PciRoot>(&m_->mmio, &vm_);
    FUZZ_CHECK(m_->root->attach_pio(m_->pio, m_->root).ok());
    m_->virtio = std::make_shared<VirtioPciDevice>(dev, mem_, loop_ ? &*loop_ : nullptr);
    // The root places BARs in order from its window base, so doorbell
    // addresses are known before placed() registers them.
    const uint64_t bar = m_->root->layout().mmio_base;
    vm_.notify_base = bar + kNotifyOffset;
    vm_.queues = num_queues_;
    vm_.intx_gsi = m_->root->layout().first_intx_gsi;
    auto slot = m_->root->add_device(m_->virtio);
    FUZZ_CHECK(slot.ok() && *slot == kVirtioSlot);
    m_->panic = std::make_shared<PvPanicPci>([this] { ++panics_; });
    slot = m_->root->add_device(m_->panic);
    FUZZ_CHECK(slot.ok() && *slot == kPanicSlot);

    // Find the BARs and structures as a driver does: through config cycles.
    virtio_bar_ = bar_address(kVirtioSlot, true);
    panic_bar_ = bar_address(kPanicSlot, false);
    FUZZ_CHECK(virtio_bar_ == bar && panic_bar_ >= bar + kBarSize);
    FUZZ_CHECK(cfg_read(kVirtioSlot, 0x3c, 1) == static_cast<uint32_t>(vm_.intx_gsi));
    layout_ = walk_caps();
    FUZZ_CHECK(layout_.vectors == num_queues_ + 1);
    driver_.resize(std::min(num_queues_, kMaxDriverQueues));
  }

  void run() {
    for (int step = 0; step < 128 && !in_.empty(); ++step) {
      switch (in_.u8() % 16) {
        case 0:
        case 1:
        case 2:
          mmio_access();
          break;
        case 3:
        case 4:
          config_access();
          break;
        case 5:
          raw_port_access();
          break;
        case 6:
          pci_cfg_window();
          break;
        case 7:
          driver_init();
          break;
        case 8:
          if (!driver_.empty()) setup_queue(in_.u8() % driver_.size(), false);
          break;
        case 9:
          publish_and_kick();
          break;
        case 10:
          scribble();
          break;
        case 11:
          msix_op();
          break;
        case 12:
          isr_and_pba();
          break;
        case 13:
          bar_probe();
          break;
        case 14:
          write_status(in_.u8());
          break;
        case 15:
          pvpanic_access();
          break;
      }
      check_state();
    }
  }

  // Guest-visible identity and structure cannot have been changed by the guest.
  void final_checks() {
    FUZZ_CHECK(cfg_read(0, 0, 4) ==
               (PciRoot::kHostBridgeVendor | uint32_t{PciRoot::kHostBridgeDevice} << 16));
    FUZZ_CHECK(cfg_read(kVirtioSlot, 0, 4) ==
               (kVirtioPciVendor | (kVirtioPciDeviceBase + expected_type_) << 16));
    FUZZ_CHECK(cfg_read(kPanicSlot, 0, 4) ==
               (PvPanicPci::kVendor | uint32_t{PvPanicPci::kDevice} << 16));
    FUZZ_CHECK(cfg_read(3, 0, 4) == 0xffffffff);
    Layout again = walk_caps();
    FUZZ_CHECK(again.chain == layout_.chain);
  }

  // Destroys the machine; every KVM registration must be undone and every fd closed.
  void teardown() {
    m_.reset();
    test_.reset();
    FUZZ_CHECK(vm_.irqfds.empty());
    FUZZ_CHECK(vm_.ioevents.empty());
    loop_.reset();
  }

 private:
  // ---- bus helpers -------------------------------------------------------

  void pio_write(uint16_t port, uint64_t v, size_t n) {
    uint8_t b[8];
    std::memcpy(b, &v, 8);
    (void)m_->pio.write(port, std::span<const uint8_t>(b, n));
  }
  uint64_t pio_read(uint16_t port, size_t n) {
    uint8_t b[8] = {};
    (void)m_->pio.read(port, std::span<uint8_t>(b, n));
    uint64_t v = 0;
    std::memcpy(&v, b, 8);
    return v;
  }

  void cfg_select(int slot, uint32_t reg) {
    pio_write(kConfigAddress, 0x8000'0000u | (uint32_t(slot) << 11) | (reg & 0xfc), 4);
  }
  uint32_t cfg_read(int slot, uint32_t off, size_t n) {
    cfg_select(slot, off);
    return static_cast<uint32_t>(pio_read(static_cast<uint16_t>(kConfigData + (off & 3)), n));
  }
  void cfg_write(int slot, uint32_t off, size_t n, uint32_t v) {
    cfg_select(slot, off);
    pio_write(static_cast<uint16_t>(kConfigData + (off & 3)), v, n);
  }

  // What KVM does with a registered ioeventfd: a matching write signals the
  // eventfd instead of exiting. One pass of the event loop then runs the
  // doorbell's own handler, which must drain the eventfd and kick the queue.
  bool ioeventfd_write(uint64_t addr, size_t n) {
    if (!loop_ || n != 2) return false;
    auto it = vm_.ioevents.find(addr);
    if (it == vm_.ioevents.end()) return false;
    uint64_t one = 1, got = 0;
    FUZZ_CHECK(::write(it->second, &one, sizeof one) == sizeof one);
    FUZZ_CHECK(loop_->run_once(0) >= 1);
    FUZZ_CHECK(::read(it->second, &got, sizeof got) < 0 && errno == EAGAIN);
    return true;
  }

  void mmio_write(uint64_t addr, std::span<const uint8_t> data) {
    if (addr == panic_bar_ && !data.empty() && (data[0] & 3)) panic_expected_ = true;
    if (ioeventfd_write(addr, data.size())) return;
    (void)m_->mmio.write(addr, data);
  }
  void mmio_write_val(uint64_t addr, uint64_t v, size_t n) {
    uint8_t b[8];
    std::memcpy(b, &v, 8);
    mmio_write(addr, std::span<const uint8_t>(b, n));
  }
  uint64_t mmio_read(uint64_t addr, size_t n) {
    uint8_t b[8] = {};
    const bool isr = addr == virtio_bar_ + layout_.isr;
    const bool was_high = vm_.line;
    const bool intx_off = intx_disabled();
    bool hit = m_->mmio.read(addr, std::span<uint8_t>(b, n));
    if (!hit) {
      for (size_t i = 0; i < n; ++i) FUZZ_CHECK(b[i] == 0xff);  // unmapped reads float high
    }
    if (isr) check_isr_read(was_high, intx_off, b[0]);
    uint64_t v = 0;
    std::memcpy(&v, b, 8);
    return v;
  }

  bool intx_disabled() {
    uint8_t cmd[2];
    m_->virtio->config_read(4, cmd);
    return (cmd[1] << 8 | cmd[0]) & 0x400;
  }
  // Reading the ISR returns the pending causes that held the INTx line high
  // (unless INTx is disabled), clears them, and lowers the line.
  void check_isr_read(bool was_high, bool intx_off, uint8_t v) {
    FUZZ_CHECK(was_high == (v != 0 && !intx_off));
    FUZZ_CHECK((v & ~3) == 0);
    FUZZ_CHECK(!vm_.line);
  }

  uint64_t common(uint32_t off) const { return virtio_bar_ + layout_.common + off; }
  uint64_t rd_common(uint32_t off, size_t n) { return mmio_read(common(off), n); }
  void wr_common(uint32_t off, uint64_t v, size_t n) { mmio_write_val(common(off), v, n); }

  // ---- discovery ---------------------------------------------------------

  uint64_t bar_address(int slot, bool is64) {
    uint64_t lo = cfg_read(slot, 0x10, 4);
    uint64_t hi = is64 ? cfg_read(slot, 0x14, 4) : 0;
    FUZZ_CHECK(((lo >> 1) & 3) == (is64 ? 2u : 0u));  // memory BAR type
    return (hi << 32) | (lo & ~0xfull);
  }

  Layout walk_caps() {
    Layout l;
    FUZZ_CHECK(cfg_read(kVirtioSlot, 0x06, 2) & 0x10);  // capability list present
    uint8_t at = static_cast<uint8_t>(cfg_read(kVirtioSlot, 0x34, 1));
    while (at != 0) {
      // Capabilities sit above the header, dword aligned, and the list ends.
      FUZZ_CHECK(at >= 0x40 && at % 4 == 0 && l.chain.size() < 48);
      const uint8_t id = static_cast<uint8_t>(cfg_read(kVirtioSlot, at, 1));
      const uint8_t next = static_cast<uint8_t>(cfg_read(kVirtioSlot, at + 1, 1));
      if (id == pci::kCapIdMsix) {
        FUZZ_CHECK(at == kMsixCap);
        l.vectors = static_cast<uint16_t>((cfg_read(kVirtioSlot, at + 2, 2) & 0x7ff) + 1);
        uint32_t table = cfg_read(kVirtioSlot, at + 4, 4);
        uint32_t pba = cfg_read(kVirtioSlot, at + 8, 4);
        FUZZ_CHECK((table & 7) == 0 && (pba & 7) == 0);  // both in BAR 0
        l.msix_table = table & ~7u;
        l.msix_pba = pba & ~7u;
        l.chain.push_back({id, next, 0, 0});
      } else {
        FUZZ_CHECK(id == kCapIdVendor);
        const uint8_t len = static_cast<uint8_t>(cfg_read(kVirtioSlot, at + 2, 1));
        const uint8_t type = static_cast<uint8_t>(cfg_read(kVirtioSlot, at + 3, 1));
        const uint32_t offset = cfg_read(kVirtioSlot, at + 8, 4);
        const uint32_t length = cfg_read(kVirtioSlot, at + 12, 4);
        FUZZ_CHECK(len >= 16 && at + len <= 256);
        if (type != kPciCapPciCfg) {
          FUZZ_CHECK(cfg_read(kVirtioSlot, at + 4, 1) == kVirtioBar);
          FUZZ_CHECK(uint64_t{offset} + length <= kBarSize);
        }
        switch (type) {
          case kPciCapCommonCfg:
            l.common = offset;
            FUZZ_CHECK(length >= kCommonSize);
            break;
          case kPciCapNotifyCfg:
            l.notify = offset;
            l.notify_mult = cfg_read(kVirtioSlot, at + 16, 4);
            FUZZ_CHECK(uint64_t{length} >= uint64_t{l.notify_mult} * num_queues_);
            break;
          case kPciCapIsrCfg:
            l.isr = offset;
            break;
          case kPciCapDeviceCfg:
            l.device = offset;
            l.device_len = length;
            break;
          case kPciCapPciCfg:
            l.pci_cfg = at;
            break;
          default:
            FUZZ_CHECK(false);
        }
        l.chain.push_back({id, next, len, type});
      }
      at = next;
    }
    FUZZ_CHECK(l.pci_cfg != 0 && l.notify_mult == kNotifyMultiplier && l.vectors != 0);
    // The MSI-X table and PBA lie in the BAR, apart from each other and the rest.
    const uint64_t table_end = l.msix_table + uint64_t{kMsixEntrySize} * l.vectors;
    FUZZ_CHECK(table_end <= l.msix_pba && l.msix_pba + (l.vectors + 63) / 64 * 8 <= kBarSize);
    FUZZ_CHECK(l.notify + uint64_t{kNotifyMultiplier} * num_queues_ <= l.msix_table);
    return l;
  }

  // ---- input-steered values ----------------------------------------------

  size_t access_size() {
    const uint8_t sel = in_.u8();
    if (sel >= 0xf0) return 1 + sel % 8;  // odd widths an MMIO exit can still carry
    return size_t{1} << (sel % 4);
  }

  uint64_t value(size_t n) {
    const uint8_t sel = in_.u8();
    uint64_t v;
    if (sel < 0x60) {
      v = sel % 8;  // small values hit flags, selects and vector numbers
    } else if (sel < 0x80) {
      v = ~uint64_t{0};
    } else {
      v = in_.u64();
    }
    return n >= 8 ? v : v & ((uint64_t{1} << (8 * n)) - 1);
  }

  // An offset in the virtio BAR, mostly inside one of its structures.
  uint64_t bar_offset() {
    const uint8_t sel = in_.u8();
    switch (sel % 8) {
      case 0:
        return layout_.common + in_.u8() % 0x40;
      case 1:
        return layout_.isr + (sel & 0x80 ? in_.u8() % 8 : 0);
      case 2:
        return kDeviceCfgOffset + in_.u16() % (kDeviceCfgMax + 16);
      case 3:
        return layout_.notify + in_.u16() % (kNotifyMultiplier * num_queues_ + 8);
      case 4:
        return layout_.msix_table + in_.u16() % (kMsixEntrySize * layout_.vectors + 16);
      case 5:
        return layout_.msix_pba + in_.u8() % 24;
      case 6:
        return in_.u16();
      default:
        return sel & 0x80 ? in_.u64() : in_.u32();  // anywhere, relative to the BAR
    }
  }

  uint64_t guest_addr(uint64_t len, uint64_t align) {
    const uint8_t sel = in_.u8();
    if (sel >= 0xf8) return in_.u64();
    const uint64_t base = (sel & 1) ? kRamB : kRamA;
    uint64_t off = in_.u16() % kRamSize;
    if (!(sel & 2)) off = off / align * align;
    if (!(sel & 4) && len <= kRamSize && off + len > kRamSize)
      off = (kRamSize - len) / align * align;  // mostly keep it inside the region
    return base + off;
  }

  // ---- operations --------------------------------------------------------

  void mmio_access() {
    const uint8_t sel = in_.u8();
    uint64_t addr;
    if (sel < 0xe0) {
      addr = virtio_bar_ + bar_offset();
    } else if (sel < 0xf0) {
      addr = panic_bar_ + (sel & 1 ? in_.u16() % 4096 : 0);
    } else {
      addr = in_.u64();
    }
    const size_t n = access_size();
    if (sel & 1) {
      mmio_write_val(addr, value(n), n);
    } else {
      (void)mmio_read(addr, n);
    }
  }

  uint32_t config_reg() {
    static constexpr uint8_t kRegs[] = {0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x24,
                                        0x2c, 0x30, 0x34, 0x3c, 0x40, 0x44, 0x48};
    const uint8_t sel = in_.u8();
    if (sel < 0x80) return kRegs[sel % std::size(kRegs)];
    if (sel < 0xc0 && layout_.pci_cfg) return layout_.pci_cfg + (sel % 5) * 4;
    return in_.u8();
  }

  void config_access() {
    const uint8_t sel = in_.u8();
    int slot = sel < 0xa0 ? kVirtioSlot : sel < 0xc0 ? kPanicSlot : sel % 4;
    const uint32_t reg = config_reg();
    uint32_t addr = (uint32_t(slot) << 11) | (reg & 0xfc);
    if ((sel & 0x31) != 0x30) addr |= 0x8000'0000;              // mostly enabled
    if ((sel & 0x0e) == 0x0e) addr |= in_.u32() & 0x7fff'0700;  // other buses, functions
    pio_write(kConfigAddress, addr, 4);
    const uint8_t how = in_.u8();
    const size_t n = size_t{1} << (how % 3);
    const uint16_t port = static_cast<uint16_t>(kConfigData + (how & 0x80 ? (how >> 3) % 4 : 0));
    if (how & 0x40) {
      pio_write(port, value(n), n);
    } else {
      uint64_t v = pio_read(port, n);
      // A disabled or unclaimed cycle, or one that breaks natural alignment, floats high.
      const bool unclaimed = !(addr & 0x8000'0000) || (addr & 0x00ff'0700) || (addr >> 11 & 31) > 2;
      const bool misaligned = ((port - kConfigData) % n) != 0 || (port - kConfigData) + n > 4;
      if (unclaimed || misaligned) FUZZ_CHECK(v == all_ones(n));
    }
  }

  void raw_port_access() {
    const uint16_t port = static_cast<uint16_t>(0xcf0 + in_.u8() % 0x18);
    const size_t n = access_size();
    if (in_.u8() & 1) {
      pio_write(port, value(n), n);
    } else {
      uint64_t v = pio_read(port, n);
      // CONFIG_ADDRESS reads back only as a whole dword; narrower reads float high.
      if (port >= kConfigAddress && port < kConfigData && !(port == kConfigAddress && n == 4) &&
          port + n <= kConfigAddress + 8)
        FUZZ_CHECK(v == all_ones(n));
    }
  }

  // VIRTIO_PCI_CAP_PCI_CFG: the driver programs bar/offset/length in the
  // capability, then reads or writes pci_cfg_data to reach the BAR.
  void pci_cfg_window() {
    const uint8_t cap = layout_.pci_cfg;
    const uint8_t sel = in_.u8();
    const uint8_t bar = (sel & 0xe0) == 0xe0 ? in_.u8() : kVirtioBar;
    const uint32_t off = sel & 0x10 ? in_.u32() : static_cast<uint32_t>(bar_offset());
    static constexpr uint32_t kLens[] = {1, 2, 4, 4, 1, 2, 4, 3};
    const uint32_t len = sel & 0x08 ? in_.u32() : kLens[sel % 8];
    cfg_write(kVirtioSlot, cap + 4, 1, bar);
    cfg_write(kVirtioSlot, cap + 8, 4, off);
    cfg_write(kVirtioSlot, cap + 12, 4, len);
    const uint8_t how = in_.u8();
    const size_t n = how & 0x80 ? size_t{1} << (how % 3) : std::clamp<size_t>(len, 1, 4);
    const uint32_t at = cap + 16 + (how & 0x40 ? (how >> 3) % 4 : 0);
    if (how & 1) {
      cfg_write(kVirtioSlot, at, n, static_cast<uint32_t>(value(n)));
      return;
    }
    const bool was_high = vm_.line;
    const bool intx_off = intx_disabled();
    const uint32_t got = cfg_read(kVirtioSlot, at, n);
    const uint32_t byte = at % 4;
    if (byte % n != 0 || byte + n > 4) {
      FUZZ_CHECK(got == all_ones(n));  // the root drops a cycle that breaks alignment
      return;
    }
    // Only an access of exactly the programmed length at pci_cfg_data reaches the BAR.
    const bool ok = at == cap + 16u && n == len && (len == 1 || len == 2 || len == 4) &&
                    off % len == 0 && bar == kVirtioBar;
    if (!ok) FUZZ_CHECK(got == 0);
    if (ok && off == layout_.isr) check_isr_read(was_high, intx_off, static_cast<uint8_t>(got));
    // Common config reads have no side effects: the window must agree with the BAR.
    if (ok && off >= layout_.common && off + n <= layout_.common + kCommonSize)
      FUZZ_CHECK(got == rd_common(static_cast<uint32_t>(off - layout_.common), n));
  }

  void write_status(uint8_t v) {
    wr_common(common::kDeviceStatus, v, 1);
    if (v == 0) {
      FUZZ_CHECK(m_->virtio->status() == 0 && !m_->virtio->activated());
      FUZZ_CHECK(rd_common(common::kQueueSelect, 2) == 0);
      FUZZ_CHECK(rd_common(common::kMsixConfig, 2) == kMsixNoVector);
    }
  }

  // Driver bring-up (virtio 1.x 3.1.1) with fuzzer-chosen features, queue
  // layout and vectors; every deviation is allowed but checked for its outcome.
  void driver_init() {
    const uint8_t plan = in_.u8();
    write_status(0);
    write_status(kStatusAcknowledge);
    write_status(kStatusAcknowledge | kStatusDriver);
    uint64_t offered = 0;
    for (uint32_t sel = 0; sel < 2; ++sel) {
      wr_common(common::kDeviceFeatureSelect, sel, 4);
      offered |= rd_common(common::kDeviceFeature, 4) << (32 * sel);
    }
    FUZZ_CHECK(offered == offered_);
    uint64_t want = offered & in_.u64();
    if (plan & 1) want |= kFeatureVersion1;
    if ((plan & 6) == 6) want = in_.u64();
    for (uint32_t sel = 0; sel < 2; ++sel) {
      wr_common(common::kDriverFeatureSelect, sel, 4);
      wr_common(common::kDriverFeature, want >> (32 * sel), 4);
    }
    uint8_t status = kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk;
    write_status(status);
    const bool accept = (want & ~offered) == 0 && (want & kFeatureVersion1);
    FUZZ_CHECK(bool(rd_common(common::kDeviceStatus, 1) & kStatusFeaturesOk) == accept);
    if (test_ && accept) FUZZ_CHECK(test_->acked == want);
    for (uint32_t q = 0; q < driver_.size(); ++q) setup_queue(q, true);
    if (plan & 0x10) msix_setup();
    if (plan & 0x20) return;  // leave the device half-initialised
    status = static_cast<uint8_t>(accept ? status | kStatusDriverOk
                                         : kStatusAcknowledge | kStatusDriver | kStatusDriverOk);
    write_status(status);
    if (!accept) {
      // DRIVER_OK without FEATURES_OK is refused.
      FUZZ_CHECK(!m_->virtio->activated());
      FUZZ_CHECK(rd_common(common::kDeviceStatus, 1) & kStatusNeedsReset);
    }
  }

  void setup_queue(uint32_t q, bool fresh) {
    wr_common(common::kQueueSelect, q, 2);
    FUZZ_CHECK(rd_common(common::kQueueSelect, 2) == q);
    FUZZ_CHECK(rd_common(common::kQueueNotifyOff, 2) == q);
    const bool writable = !rd_common(common::kQueueEnable, 2) && !m_->virtio->activated();
    uint16_t size = static_cast<uint16_t>(rd_common(common::kQueueSize, 2));
    if (fresh) FUZZ_CHECK(size == max_sizes_[q]);
    const uint8_t sel = in_.u8();
    switch (sel % 4) {
      case 0:
        break;
      case 1:
        size = static_cast<uint16_t>(size >> (in_.u8() % 9));
        break;
      case 2:
        size = static_cast<uint16_t>(1u << (in_.u8() % 16));
        break;
      default:
        size = in_.u16();
    }
    wr_common(common::kQueueSize, size, 2);
    DriverQueue d;
    d.size = static_cast<uint16_t>(rd_common(common::kQueueSize, 2));
    if (writable) FUZZ_CHECK(d.size == size);
    const uint64_t n = d.size;
    if (sel & 0x10) {
      // The legacy-style contiguous layout in one block.
      d.desc = guest_addr(16 * n + 6 + 2 * n + 4096 + 6 + 8 * n, 4096);
      d.avail = d.desc + 16 * n;
      d.used = (d.avail + 6 + 2 * n + 4095) / 4096 * 4096;
    } else {
      d.desc = guest_addr(16 * n, 16);
      d.avail = guest_addr(6 + 2 * n, 2);
      d.used = guest_addr(6 + 8 * n, 4);
    }
    const bool halves = sel & 0x20;
    const std::pair<uint32_t, uint64_t> rings[] = {{common::kQueueDesc, d.desc},
                                                   {common::kQueueDriver, d.avail},
                                                   {common::kQueueDevice, d.used}};
    for (auto [reg, v] : rings) {
      if (halves) {
        wr_common(reg, v & 0xffffffff, 4);
        wr_common(reg + 4, v >> 32, 4);
      } else {
        wr_common(reg, v, 8);
      }
      // Frozen once enabled or running; otherwise it reads back as written.
      if (writable) FUZZ_CHECK(rd_common(reg, 8) == v);
    }
    const uint16_t vec = static_cast<uint16_t>(in_.u8() % (layout_.vectors + 2));
    wr_common(common::kQueueMsixVector, vec, 2);
    FUZZ_CHECK(rd_common(common::kQueueMsixVector, 2) ==
               (vec < layout_.vectors ? vec : kMsixNoVector));
    if (!(sel & 0x40)) wr_common(common::kQueueEnable, sel & 0x80 ? in_.u16() : 1, 2);
    driver_[q] = d;
  }

  // Programs MSI-X the way Linux does: entries first, then enable, then unmask.
  void msix_setup() {
    wr_common(common::kMsixConfig, 0, 2);
    for (uint16_t v = 0; v < std::min<uint16_t>(layout_.vectors, 9); ++v) {
      const uint64_t e = virtio_bar_ + layout_.msix_table + uint64_t{kMsixEntrySize} * v;
      mmio_write_val(e, 0xfee0'0000 | (uint64_t{in_.u8()} << 12), 8);
      mmio_write_val(e + 8, 0x4000 | v, 4);
      mmio_write_val(e + 12, in_.u8() & 1, 4);
    }
    cfg_write(kVirtioSlot, kMsixCap + 2, 2, pci::kMsixCtrlEnable | (in_.u8() & 0x4000));
  }

  void msix_op() {
    const uint8_t sel = in_.u8();
    switch (sel % 4) {
      case 0: {
        // Message control: only enable and function mask are writable.
        const uint16_t before = static_cast<uint16_t>(cfg_read(kVirtioSlot, kMsixCap + 2, 2));
        const uint16_t v = in_.u16();
        if (sel & 0x80)
          cfg_write(kVirtioSlot, kMsixCap + 3, 1, v >> 8);
        else
          cfg_write(kVirtioSlot, kMsixCap + 2, 2, v);
        const uint16_t after = static_cast<uint16_t>(cfg_read(kVirtioSlot, kMsixCap + 2, 2));
        FUZZ_CHECK((after & 0x3fff) == (before & 0x3fff) && (after & 0xc000) == (v & 0xc000));
        break;
      }
      case 1: {
        // A table dword or qword write reads back (address dword-aligned, only the mask bit).
        const uint16_t vec = static_cast<uint16_t>(in_.u16() % (layout_.vectors + 1));
        const uint32_t word = in_.u8() % 4;
        const size_t n = (sel & 0x10) && word % 2 == 0 ? 8 : 4;
        const uint64_t at = layout_.msix_table + uint64_t{kMsixEntrySize} * vec + 4 * word;
        const uint64_t v = value(n);
        mmio_write_val(virtio_bar_ + at, v, n);
        const uint64_t got = mmio_read(virtio_bar_ + at, n);
        if (vec < layout_.vectors) {
          for (size_t i = 0; i < n / 4; ++i) {
            const uint32_t w = static_cast<uint32_t>(v >> (32 * i));
            const uint32_t g = static_cast<uint32_t>(got >> (32 * i));
            const uint32_t which = word + static_cast<uint32_t>(i);
            FUZZ_CHECK(g == (which == 0 ? w & ~3u : which == 3 ? w & 1 : w));
          }
        } else if (at + n <= layout_.msix_pba) {
          FUZZ_CHECK(got == 0);  // past the table (with 1024 vectors this is the PBA)
        }
        break;
      }
      case 2: {
        const uint16_t vec = sel & 0x80 ? in_.u16() : in_.u8() % (layout_.vectors + 1);
        wr_common(common::kMsixConfig, vec, 2);
        FUZZ_CHECK(rd_common(common::kMsixConfig, 2) ==
                   (vec < layout_.vectors ? vec : kMsixNoVector));
        break;
      }
      default:
        msix_setup();
        break;
    }
  }

  void isr_and_pba() {
    if (in_.u8() & 1) {
      (void)mmio_read(virtio_bar_ + layout_.isr, 1);
      // Cleared by the first read; nothing ran since.
      FUZZ_CHECK(mmio_read(virtio_bar_ + layout_.isr, 1) == 0);
    } else {
      const uint64_t pba = mmio_read(virtio_bar_ + layout_.msix_pba, 8);
      for (uint16_t v = 0; v < std::min<uint16_t>(layout_.vectors, 64); ++v)
        FUZZ_CHECK(bool(pba >> v & 1) == m_->virtio->msix().pending(v));
    }
  }

  // The size probe: all-ones reads back the size mask and type bits; the
  // original value then goes back (the root never moves BARs anyway).
  void bar_probe() {
    const uint8_t sel = in_.u8();
    const int slot = sel & 1 ? kPanicSlot : sel & 2 ? 0 : kVirtioSlot;
    const uint32_t reg = 0x10 + 4 * ((sel >> 2) % 6);
    const uint32_t old = cfg_read(slot, reg, 4);
    cfg_write(slot, reg, 4, 0xffffffff);
    const uint32_t got = cfg_read(slot, reg, 4);
    uint32_t want = 0;
    if (slot == kVirtioSlot && reg == 0x10)
      want = static_cast<uint32_t>(~(kBarSize - 1)) | 0x4;  // 64-bit memory
    if (slot == kVirtioSlot && reg == 0x14) want = 0xffffffff;
    if (slot == kPanicSlot && reg == 0x10)
      want = static_cast<uint32_t>(~(PvPanicPci::kBarSize - 1));
    FUZZ_CHECK(got == want);
    cfg_write(slot, reg, 4, old);
    FUZZ_CHECK(cfg_read(slot, reg, 4) == old);
  }

  // Lays out chains in the programmed rings (valid or not) and rings the doorbell.
  void publish_and_kick() {
    if (driver_.empty()) return;
    const uint32_t q = in_.u8() % driver_.size();
    DriverQueue& d = driver_[q];
    if (d.size != 0) {
      const int chains = 1 + in_.u8() % 4;
      for (int c = 0; c < chains; ++c) {
        const uint16_t head = d.next_desc % d.size;
        const int nbufs = 1 + in_.u8() % 3;
        for (int i = 0; i < nbufs; ++i) {
          const uint16_t idx = static_cast<uint16_t>((head + i) % d.size);
          const uint8_t bsel = in_.u8();
          const uint32_t len = bsel < 0xf0 ? in_.u16() % 4096 : in_.u32();
          uint16_t flags = static_cast<uint16_t>((bsel & 1 ? kDescFWrite : 0) |
                                                 (i + 1 < nbufs ? kDescFNext : 0));
          if ((bsel & 0x0e) == 0x0e) flags = in_.u16();
          const uint16_t next = static_cast<uint16_t>((idx + 1) % d.size);
          uint8_t desc[16];
          const uint64_t addr = guest_addr(len, 1);
          std::memcpy(desc, &addr, 8);
          std::memcpy(desc + 8, &len, 4);
          std::memcpy(desc + 12, &flags, 2);
          std::memcpy(desc + 14, &next, 2);
          (void)mem_.write(d.desc + 16ull * idx, desc, sizeof desc);
        }
        d.next_desc = static_cast<uint16_t>(head + nbufs);
        (void)mem_.write_obj<uint16_t>(d.avail + 4 + 2ull * (d.avail_idx % d.size), head);
        ++d.avail_idx;
      }
      if (in_.u8() == 0xff) d.avail_idx = in_.u16();  // an impossible jump
      (void)mem_.write_obj<uint16_t>(d.avail + 2, d.avail_idx);
    }
    const uint8_t how = in_.u8();
    const uint64_t at = virtio_bar_ + layout_.notify + uint64_t{layout_.notify_mult} * q;
    if (how < 0xe0)
      mmio_write_val(at, q, 2);  // what Linux writes: the queue index, 16 bits
    else
      mmio_write_val(at, q, access_size());
  }

  void scribble() {
    const uint8_t n = in_.u8() % 65;
    uint64_t at;
    if (!driver_.empty() && (n & 1)) {
      const DriverQueue& d = driver_[in_.u8() % driver_.size()];
      const uint64_t rings[] = {d.desc, d.avail, d.used};
      at = rings[in_.u8() % 3] + in_.u8();
    } else {
      at = guest_addr(n, 1);
    }
    uint8_t buf[64];
    for (uint8_t i = 0; i < n; ++i) buf[i] = in_.u8();
    (void)mem_.write(at, buf, n);
  }

  void pvpanic_access() {
    const uint8_t sel = in_.u8();
    const uint64_t off = sel & 0x80 ? in_.u16() % (PvPanicPci::kBarSize - 8) : 0;
    const size_t n = access_size();
    if (sel & 1) {
      mmio_write_val(panic_bar_ + off, value(n), n);
    } else {
      const uint64_t v = mmio_read(panic_bar_ + off, n);
      FUZZ_CHECK(v == (off == 0 ? 3u : 0u));  // events supported, at offset 0 only
    }
  }

  // Invariants that hold between any two guest accesses.
  void check_state() {
    if (test_) FUZZ_CHECK(m_->virtio->activated() == test_->active);
    if (m_->virtio->activated()) FUZZ_CHECK(m_->virtio->status() != 0);
    const pci::Msix& msix = m_->virtio->msix();
    for (uint16_t v = 0; v < std::min<uint16_t>(layout_.vectors, 16); ++v)
      FUZZ_CHECK(!(msix.pending(v) && !msix.masked(v)));  // unmasking delivers
    // One route per vector at most, however often the guest reprograms it,
    // also when irqfd_assign fails (msix.cpp used to leak a GSI per write then).
    FUZZ_CHECK(vm_.routes.size() <= layout_.vectors);
    for (auto& [addr, fd] : vm_.ioevents) FUZZ_CHECK(fd_open(fd));
    for (auto& [gsi, fd] : vm_.irqfds) FUZZ_CHECK(fd_open(fd));
    FUZZ_CHECK(panics_ == (panic_expected_ ? 1 : 0));
    FUZZ_CHECK(m_->panic->panicked() == panic_expected_);
  }

  Reader in_;
  GuestMemory mem_;
  CheckingVm vm_;                  // outlives the machine (Msix deregisters in its destructor)
  std::optional<EventLoop> loop_;  // likewise, for the doorbells
  std::optional<Machine> m_;
  std::shared_ptr<TestDevice> test_;
  uint32_t expected_type_ = 0;
  uint32_t num_queues_ = 0;
  std::vector<uint16_t> max_sizes_;
  uint64_t offered_ = 0;
  uint64_t virtio_bar_ = 0, panic_bar_ = 0;
  Layout layout_;
  std::vector<DriverQueue> driver_;
  int panics_ = 0;
  bool panic_expected_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd_mark = lowest_free_fd();
  {
    Harness h(data, size);
    h.build();
    h.run();
    h.final_checks();
    h.teardown();
  }
  FUZZ_CHECK(lowest_free_fd() == fd_mark);
  return 0;
}
