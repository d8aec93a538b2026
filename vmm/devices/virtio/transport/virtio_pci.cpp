#include "vmm/devices/virtio/transport/virtio_pci.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace runvm::vmm::virtio {

namespace {
constexpr uint8_t kMsixCapOffset = 0x40;
constexpr uint8_t kFirstVirtioCap = 0x4c;
constexpr uint8_t kIsrQueue = 1;
constexpr uint8_t kIsrConfig = 2;

uint32_t class_code_for(uint32_t type) {
  switch (type) {
    case kDeviceTypeNet:
      return 0x020000;  // network controller
    case kDeviceTypeBlock:
      return 0x010000;  // SCSI storage (what drivers expect for virtio-blk)
    case kDeviceTypeFs:
    case kDeviceType9p:
      return 0x018000;  // other mass storage
    default:
      return 0xff0000;  // unassigned class
  }
}

uint64_t load_le(std::span<const uint8_t> d) {
  uint64_t v = 0;
  std::memcpy(&v, d.data(), std::min<size_t>(d.size(), 8));
  return v;
}
}  // namespace

// Interrupt delivery for one transport: MSI-X vectors when enabled, otherwise
// INTx with the ISR status byte. Shared with the device (which may outlive a
// reset), so it has its own lock and never calls into the transport.
class VirtioPciInterrupt : public VirtioInterrupt {
 public:
  VirtioPciInterrupt(std::shared_ptr<pci::Msix> msix, uint32_t num_queues)
      : msix_(std::move(msix)), queue_vectors_(num_queues, kMsixNoVector) {}

  void notify_queue(uint16_t index) override {
    std::lock_guard lk(mu_);
    if (index >= queue_vectors_.size()) return;
    raise_locked(queue_vectors_[index], kIsrQueue);
  }
  void notify_config() override {
    std::lock_guard lk(mu_);
    raise_locked(config_vector_, kIsrConfig);
  }

  void set_intx(PciVmServices* vm, int gsi) {
    std::lock_guard lk(mu_);
    vm_ = vm;
    gsi_ = gsi;
  }
  void set_intx_disabled(bool disabled) {
    std::lock_guard lk(mu_);
    intx_disabled_ = disabled;
    update_line_locked();
  }
  void set_queue_vector(uint16_t q, uint16_t v) {
    std::lock_guard lk(mu_);
    if (q < queue_vectors_.size()) queue_vectors_[q] = v;
  }
  void set_config_vector(uint16_t v) {
    std::lock_guard lk(mu_);
    config_vector_ = v;
  }
  uint16_t config_vector() const {
    std::lock_guard lk(mu_);
    return config_vector_;
  }
  // Reading the ISR returns and clears it, lowering INTx (virtio 1.x 4.1.4.5).
  uint8_t read_clear_isr() {
    std::lock_guard lk(mu_);
    uint8_t v = isr_;
    isr_ = 0;
    update_line_locked();
    return v;
  }
  void reset() {
    std::lock_guard lk(mu_);
    std::fill(queue_vectors_.begin(), queue_vectors_.end(), kMsixNoVector);
    config_vector_ = kMsixNoVector;
    isr_ = 0;
    update_line_locked();
  }

 private:
  void raise_locked(uint16_t vector, uint8_t isr_bit) {
    if (msix_->enabled()) {
      if (vector != kMsixNoVector) msix_->fire(vector);
      return;
    }
    isr_ |= isr_bit;
    update_line_locked();
  }
  void update_line_locked() {
    bool level = isr_ != 0 && !intx_disabled_;
    if (vm_ && gsi_ >= 0 && level != line_) {
      vm_->set_irq_line(gsi_, level);
      line_ = level;
    }
  }

  mutable std::mutex mu_;
  std::shared_ptr<pci::Msix> msix_;
  std::vector<uint16_t> queue_vectors_;
  uint16_t config_vector_ = kMsixNoVector;
  uint8_t isr_ = 0;
  bool intx_disabled_ = false;
  bool line_ = false;
  PciVmServices* vm_ = nullptr;
  int gsi_ = -1;
};

VirtioPciDevice::VirtioPciDevice(std::shared_ptr<VirtioDevice> device, const GuestMemory& mem,
                                 EventLoop* loop)
    : device_(std::move(device)),
      mem_(mem),
      loop_(loop),
      cfg_(kVirtioPciVendor, static_cast<uint16_t>(kVirtioPciDeviceBase + device_->device_type()),
           1, class_code_for(device_->device_type())) {
  std::vector<uint16_t> sizes = device_->queue_max_sizes();
  if (sizes.size() > kMaxQueues) sizes.resize(kMaxQueues);
  num_queues_ = static_cast<uint32_t>(sizes.size());
  for (uint16_t s : sizes) {
    QueueRegs q;
    q.max_size = std::min<uint16_t>(s, kMaxQueueSize);
    q.size = q.max_size;
    queues_.push_back(q);
  }
  offered_ = device_->device_features() | kFeatureVersion1 | kFeatureRingIndirectDesc;
  // One vector for config changes plus one per queue.
  msix_ = std::make_shared<pci::Msix>(static_cast<uint16_t>(num_queues_ + 1));
  interrupt_ = std::make_shared<VirtioPciInterrupt>(msix_, num_queues_);
  doorbells_.assign(num_queues_, -1);
  build_config_space();
}

VirtioPciDevice::~VirtioPciDevice() {
  std::lock_guard lk(mu_);
  unregister_doorbells();
}

std::string VirtioPciDevice::name() const {
  return "virtio-pci-" + device_->name();
}

std::vector<std::pair<int, PciBarRequest>> VirtioPciDevice::bar_requests() const {
  return {{kVirtioBar, PciBarRequest{kBarSize, true, false}}};
}

void VirtioPciDevice::build_config_space() {
  cfg_.set_u16(pci::kCfgSubsysVendor, kVirtioPciVendor);
  cfg_.set_u16(pci::kCfgSubsysId, 0x40);  // non-transitional devices use >= 0x40
  cfg_.set_u16(pci::kCfgStatus, pci::kStatusCapList);
  cfg_.set_u8(pci::kCfgCapPtr, kMsixCapOffset);

  // MSI-X capability: table and PBA in the virtio BAR.
  cfg_.set_u8(kMsixCapOffset, pci::kCapIdMsix);
  cfg_.set_u8(kMsixCapOffset + 1, kFirstVirtioCap);
  cfg_.set_u16(kMsixCapOffset + 2, static_cast<uint16_t>(msix_->num_vectors() - 1));
  cfg_.set_writable(kMsixCapOffset + 3, 1, 0xc0);  // enable + function mask
  cfg_.set_u32(kMsixCapOffset + 4, static_cast<uint32_t>(kMsixTableOffset) | kVirtioBar);
  cfg_.set_u32(kMsixCapOffset + 8, static_cast<uint32_t>(kMsixPbaOffset) | kVirtioBar);

  struct Cap {
    uint8_t type;
    uint64_t offset;
    uint64_t length;
  };
  std::vector<Cap> caps = {
      {kPciCapCommonCfg, kCommonOffset, kCommonSize},
      {kPciCapIsrCfg, kIsrOffset, 1},
      {kPciCapNotifyCfg, kNotifyOffset, std::max<uint64_t>(kNotifyMultiplier * num_queues_, 2)}};
  uint32_t dev_cfg = std::min<uint32_t>(device_->config_size(), kDeviceCfgMax);
  if (dev_cfg > 0) caps.push_back({kPciCapDeviceCfg, kDeviceCfgOffset, dev_cfg});
  // The config-space window onto the BAR (virtio 1.x 4.1.4.9); bar/offset/length
  // are programmed by the driver, so they start zero.
  caps.push_back({kPciCapPciCfg, 0, 0});

  uint8_t at = kFirstVirtioCap;
  for (size_t i = 0; i < caps.size(); ++i) {
    uint8_t len = caps[i].type == kPciCapNotifyCfg || caps[i].type == kPciCapPciCfg ? 20 : 16;
    uint8_t next = i + 1 < caps.size() ? static_cast<uint8_t>(at + len) : 0;
    cfg_.set_u8(at, kCapIdVendor);
    cfg_.set_u8(at + 1, next);
    cfg_.set_u8(at + 2, len);
    cfg_.set_u8(at + 3, caps[i].type);
    cfg_.set_u8(at + 4, kVirtioBar);
    cfg_.set_u8(at + 5, 0);
    cfg_.set_u32(at + 8, static_cast<uint32_t>(caps[i].offset));
    cfg_.set_u32(at + 12, static_cast<uint32_t>(caps[i].length));
    if (caps[i].type == kPciCapNotifyCfg) cfg_.set_u32(at + 16, kNotifyMultiplier);
    if (caps[i].type == kPciCapPciCfg) {
      pci_cfg_cap_ = at;
      cfg_.set_u8(at + 4, 0);
      cfg_.set_writable(at + 4, 1);  // bar
      cfg_.set_writable(at + 8, 8);  // offset, length
    }
    at = static_cast<uint8_t>(at + len);
  }
}

void VirtioPciDevice::placed(std::span<const std::pair<int, uint64_t>> bar_addrs, int intx_gsi,
                             PciVmServices* vm) {
  std::lock_guard lk(mu_);
  for (auto [index, addr] : bar_addrs) {
    if (index != kVirtioBar) continue;
    bar_addr_ = addr;
    cfg_.set_bar(kVirtioBar, PciBarRequest{kBarSize, true, false}, addr);
  }
  cfg_.set_interrupt(intx_gsi);
  vm_ = vm;
  msix_->set_vm(vm);
  interrupt_->set_intx(vm, intx_gsi);
  register_doorbells();
}

void VirtioPciDevice::register_doorbells() {
  if (!loop_ || !vm_ || bar_addr_ == 0) return;
  for (uint32_t q = 0; q < num_queues_; ++q) {
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) continue;
    uint64_t addr = bar_addr_ + kNotifyOffset + uint64_t{kNotifyMultiplier} * q;
    // Drivers write the 16-bit queue index; other widths exit to bar_write().
    if (!vm_->ioeventfd_assign(fd, addr, 2)) {
      close(fd);
      continue;
    }
    std::weak_ptr<VirtioDevice> weak = device_;
    bool added = loop_->add(fd, EPOLLIN, [fd, q, weak](uint32_t) {
      uint64_t n;
      if (::read(fd, &n, sizeof n) != sizeof n) return;
      if (auto dev = weak.lock()) dev->queue_notify(static_cast<uint16_t>(q));
    });
    if (!added) {
      vm_->ioeventfd_deassign(fd, addr, 2);
      close(fd);
      continue;
    }
    doorbells_[q] = fd;
  }
}

void VirtioPciDevice::unregister_doorbells() {
  for (uint32_t q = 0; q < doorbells_.size(); ++q) {
    int fd = doorbells_[q];
    if (fd < 0) continue;
    if (loop_) loop_->remove(fd);
    if (vm_)
      vm_->ioeventfd_deassign(fd, bar_addr_ + kNotifyOffset + uint64_t{kNotifyMultiplier} * q, 2);
    close(fd);
    doorbells_[q] = -1;
  }
}

bool VirtioPciDevice::pci_cfg_window(uint32_t offset, size_t size, uint64_t* bar_offset,
                                     size_t* len) const {
  uint32_t data_at = pci_cfg_cap_ + 16u;
  if (pci_cfg_cap_ == 0 || offset + size <= data_at || offset >= data_at + 4) return false;
  // Only a naturally aligned access of exactly cap.length bytes at the start of
  // pci_cfg_data goes through; anything else touching the window is dropped.
  uint8_t bar = cfg_.u8(pci_cfg_cap_ + 4);
  uint32_t off = cfg_.u32(pci_cfg_cap_ + 8);
  uint32_t length = cfg_.u32(pci_cfg_cap_ + 12);
  bool ok = offset == data_at && size == length && (length == 1 || length == 2 || length == 4) &&
            off % length == 0 && bar == kVirtioBar;
  *bar_offset = off;
  *len = ok ? length : 0;
  return true;
}

void VirtioPciDevice::config_read(uint32_t offset, std::span<uint8_t> data) {
  uint64_t bar_off;
  size_t len;
  {
    std::lock_guard lk(mu_);
    if (!pci_cfg_window(offset, data.size(), &bar_off, &len)) {
      cfg_.read(offset, data);
      return;
    }
  }
  std::fill(data.begin(), data.end(), 0);
  if (len) bar_read(kVirtioBar, bar_off, data.first(len));  // takes mu_ itself
}

// A vCPU's write that may create fds or change KVM's interrupt plumbing (MSI-X
// enable, BARs, the PCI_CFG window) runs on the event loop (on_loop_thread).
void VirtioPciDevice::config_write(uint32_t offset, std::span<const uint8_t> data) {
  on_loop_thread([&] { config_write_here(offset, data); });
}

void VirtioPciDevice::on_loop_thread(const std::function<void()>& fn) {
  if (loop_)
    loop_->call(fn);  // false only while the VM stops: the write is dropped
  else
    fn();
}

void VirtioPciDevice::config_write_here(uint32_t offset, std::span<const uint8_t> data) {
  uint64_t bar_off;
  size_t len;
  {
    std::lock_guard lk(mu_);
    if (!pci_cfg_window(offset, data.size(), &bar_off, &len)) {
      apply_config_write_locked(offset, data);
      return;
    }
  }
  if (len) bar_write_here(bar_off, data.first(len));
}

void VirtioPciDevice::apply_config_write_locked(uint32_t offset, std::span<const uint8_t> data) {
  cfg_.write(offset, data);
  uint16_t ctrl = cfg_.u16(kMsixCapOffset + 2);
  msix_->set_control(ctrl & pci::kMsixCtrlEnable, ctrl & pci::kMsixCtrlFunctionMask);
  interrupt_->set_intx_disabled(cfg_.u16(pci::kCfgCommand) & pci::kCommandIntxDisable);
}

std::string VirtioPciDevice::debug_state() const {
  std::lock_guard lk(mu_);
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s status=0x%02x activated=%d", name().c_str(), status_,
                activated_.load() ? 1 : 0);
  std::string out = buf;
  for (size_t i = 0; i < queues_.size(); ++i) {
    const QueueRegs& q = queues_[i];
    if (!q.enabled) continue;
    // Guest memory reads are bounds-checked; a ring outside RAM shows as -1.
    uint16_t flags = 0, avail = 0, used = 0;
    const bool ok = mem_.read(q.driver, &flags, 2) && mem_.read(q.driver + 2, &avail, 2) &&
                    mem_.read(q.device + 2, &used, 2);
    std::snprintf(buf, sizeof buf,
                  " | q%zu size=%u avail_idx=%d avail_flags=0x%x used_idx=%d vector=%u masked=%d "
                  "pending=%d",
                  i, q.size, ok ? avail : -1, ok ? flags : 0, ok ? used : -1, q.msix_vector,
                  msix_->masked(q.msix_vector) ? 1 : 0, msix_->pending(q.msix_vector) ? 1 : 0);
    out += buf;
  }
  if (std::string d = device_->debug_state(); !d.empty()) out += " | " + d;
  return out;
}

uint8_t VirtioPciDevice::status() const {
  std::lock_guard lk(mu_);
  return status_;
}

void VirtioPciDevice::bar_read(int bar, uint64_t offset, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), 0);
  if (bar != kVirtioBar || offset >= kBarSize || data.size() > kBarSize - offset) return;
  uint64_t end = offset + data.size();
  if (end <= kCommonOffset + kCommonSize) {
    common_read(offset - kCommonOffset, data);
  } else if (offset == kIsrOffset) {
    data[0] = interrupt_->read_clear_isr();
  } else if (offset >= kDeviceCfgOffset && end <= kDeviceCfgOffset + kDeviceCfgMax) {
    uint64_t rel = offset - kDeviceCfgOffset;
    if (rel + data.size() <= device_->config_size())
      device_->read_config(static_cast<uint32_t>(rel), data);
  } else if (offset >= kMsixTableOffset && offset < kMsixPbaOffset) {
    msix_->table_read(offset - kMsixTableOffset, data);
  } else if (offset >= kMsixPbaOffset) {
    msix_->pba_read(offset - kMsixPbaOffset, data);
  }
}

void VirtioPciDevice::bar_write(int bar, uint64_t offset, std::span<const uint8_t> data) {
  if (bar != kVirtioBar || offset >= kBarSize || data.size() > kBarSize - offset) return;
  // Plain register writes stay on the vCPU; a status write (activation, reset),
  // a kick, device config and the MSI-X table (irqfds, routes) go to the loop.
  const bool register_only = offset + data.size() <= kCommonOffset + kCommonSize &&
                             offset - kCommonOffset != common::kDeviceStatus;
  if (register_only)
    bar_write_here(offset, data);
  else
    on_loop_thread([&] { bar_write_here(offset, data); });
}

void VirtioPciDevice::bar_write_here(uint64_t offset, std::span<const uint8_t> data) {
  if (offset >= kBarSize || data.size() > kBarSize - offset) return;
  uint64_t end = offset + data.size();
  if (end <= kCommonOffset + kCommonSize) {
    common_write(offset - kCommonOffset, data);
  } else if (offset >= kDeviceCfgOffset && end <= kDeviceCfgOffset + kDeviceCfgMax) {
    uint64_t rel = offset - kDeviceCfgOffset;
    if (rel + data.size() <= device_->config_size())
      device_->write_config(static_cast<uint32_t>(rel), data);
  } else if (offset >= kNotifyOffset && offset < kNotifyOffset + 0x1000) {
    uint64_t rel = offset - kNotifyOffset;
    if (rel % kNotifyMultiplier == 0 && rel / kNotifyMultiplier < num_queues_)
      kick(static_cast<uint16_t>(rel / kNotifyMultiplier));
  } else if (offset >= kMsixTableOffset && offset < kMsixPbaOffset) {
    msix_->table_write(offset - kMsixTableOffset, data);
  }
  // ISR and PBA are read-only.
}

void VirtioPciDevice::kick(uint16_t queue) {
  device_->queue_notify(queue);
}

void VirtioPciDevice::common_read(uint64_t offset, std::span<uint8_t> data) {
  std::lock_guard lk(mu_);
  uint8_t img[0x40] = {};
  auto put16 = [&](uint32_t off, uint16_t v) { std::memcpy(img + off, &v, 2); };
  auto put32 = [&](uint32_t off, uint32_t v) { std::memcpy(img + off, &v, 4); };
  auto put64 = [&](uint32_t off, uint64_t v) { std::memcpy(img + off, &v, 8); };
  put32(common::kDeviceFeatureSelect, device_feature_select_);
  uint32_t window = 0;
  if (device_feature_select_ == 0) window = static_cast<uint32_t>(offered_);
  if (device_feature_select_ == 1) window = static_cast<uint32_t>(offered_ >> 32);
  put32(common::kDeviceFeature, window);
  put32(common::kDriverFeatureSelect, driver_feature_select_);
  uint32_t drv = 0;
  if (driver_feature_select_ == 0) drv = static_cast<uint32_t>(driver_features_);
  if (driver_feature_select_ == 1) drv = static_cast<uint32_t>(driver_features_ >> 32);
  put32(common::kDriverFeature, drv);
  put16(common::kMsixConfig, interrupt_->config_vector());
  put16(common::kNumQueues, static_cast<uint16_t>(num_queues_));
  img[common::kDeviceStatus] = status_;
  img[common::kConfigGeneration] = config_generation_;
  put16(common::kQueueSelect, queue_select_);
  if (queue_select_ < num_queues_) {
    const QueueRegs& q = queues_[queue_select_];
    put16(common::kQueueSize, q.size);
    put16(common::kQueueMsixVector, q.msix_vector);
    put16(common::kQueueEnable, q.enabled ? 1 : 0);
    put16(common::kQueueNotifyOff, queue_select_);
    put64(common::kQueueDesc, q.desc);
    put64(common::kQueueDriver, q.driver);
    put64(common::kQueueDevice, q.device);
  }
  // Callers guarantee offset + size <= kCommonSize < sizeof img.
  std::memcpy(data.data(), img + offset, data.size());
}

void VirtioPciDevice::common_write(uint64_t offset, std::span<const uint8_t> data) {
  std::lock_guard lk(mu_);
  const size_t n = data.size();
  const uint64_t v = load_le(data);
  // A 64-bit field may be written whole or as two 32-bit halves.
  auto set_addr = [&](uint64_t base, uint64_t* field) {
    if (offset == base && (n == 8 || n == 4)) {
      *field = n == 8 ? v : ((*field & 0xffffffff00000000ull) | v);
    } else if (offset == base + 4 && n == 4) {
      *field = (*field & 0xffffffffull) | (v << 32);
    }
  };
  QueueRegs* q = queue_select_ < num_queues_ ? &queues_[queue_select_] : nullptr;
  // Queue layout is frozen once the queue is enabled or the device runs.
  bool q_writable = q && !q->enabled && !activated_.load();

  if (offset == common::kDeviceFeatureSelect && n == 4) {
    device_feature_select_ = static_cast<uint32_t>(v);
  } else if (offset == common::kDriverFeatureSelect && n == 4) {
    driver_feature_select_ = static_cast<uint32_t>(v);
  } else if (offset == common::kDriverFeature && n == 4) {
    if (status_ & kStatusFeaturesOk) return;
    if (driver_feature_select_ == 0)
      driver_features_ = (driver_features_ & 0xffffffff00000000ull) | v;
    else if (driver_feature_select_ == 1)
      driver_features_ = (driver_features_ & 0xffffffffull) | (v << 32);
  } else if (offset == common::kMsixConfig && n == 2) {
    interrupt_->set_config_vector(v < msix_->num_vectors() ? static_cast<uint16_t>(v)
                                                           : kMsixNoVector);
  } else if (offset == common::kDeviceStatus && n == 1) {
    set_status(static_cast<uint8_t>(v));
  } else if (offset == common::kQueueSelect && n == 2) {
    queue_select_ = static_cast<uint16_t>(v);
  } else if (offset == common::kQueueSize && n == 2) {
    // Validated (power of two, <= max) when the device is activated.
    if (q_writable) q->size = static_cast<uint16_t>(v);
  } else if (offset == common::kQueueMsixVector && n == 2) {
    if (!q) return;
    // An invalid vector reads back as NO_VECTOR (virtio 1.x 4.1.5.1.2).
    q->msix_vector = v < msix_->num_vectors() ? static_cast<uint16_t>(v) : kMsixNoVector;
    interrupt_->set_queue_vector(queue_select_, q->msix_vector);
  } else if (offset == common::kQueueEnable && n == 2) {
    if (q_writable && v == 1) q->enabled = true;
  } else if (q_writable && offset >= common::kQueueDesc && offset < common::kQueueDevice + 8) {
    set_addr(common::kQueueDesc, &q->desc);
    set_addr(common::kQueueDriver, &q->driver);
    set_addr(common::kQueueDevice, &q->device);
  }
  // Everything else (read-only fields, odd widths) is dropped.
}

void VirtioPciDevice::set_status(uint8_t v) {
  if (v == 0) {
    reset_locked();
    return;
  }
  uint8_t old = status_;
  if ((v & kStatusFeaturesOk) && !(old & kStatusFeaturesOk)) {
    // Accept only features we offered, and only modern (VERSION_1) drivers.
    bool ok = (driver_features_ & ~offered_) == 0 && (driver_features_ & kFeatureVersion1);
    if (ok)
      device_->ack_features(driver_features_);
    else
      v &= static_cast<uint8_t>(~kStatusFeaturesOk);  // the driver sees it did not stick
  }
  status_ = static_cast<uint8_t>(v | (old & kStatusNeedsReset));
  if ((v & kStatusDriverOk) && !activated_.load() && !(status_ & kStatusFailed)) {
    if (!(status_ & kStatusFeaturesOk)) {
      status_ |= kStatusNeedsReset;
      return;
    }
    activate_locked();
  }
}

bool VirtioPciDevice::activate_locked(bool resume) {
  std::vector<std::optional<Queue>> queues;
  for (uint32_t i = 0; i < num_queues_; ++i) {
    const QueueRegs& r = queues_[i];
    if (!r.enabled) {
      queues.emplace_back();
      continue;
    }
    auto q = Queue::create(mem_, QueueConfig{r.size, r.desc, r.driver, r.device}, r.max_size);
    if (!q) {
      log_error("queue " + std::to_string(i) + ": " + q.error().what());
      status_ |= kStatusNeedsReset;
      interrupt_->notify_config();
      return false;
    }
    if (resume) q->resume_from_used_ring();
    // Only devices that offer EVENT_IDX get it: they call Queue::arm_kick()
    // before waiting for a kick (a device that does not could wait forever).
    if (driver_features_ & kFeatureRingEventIdx) q->enable_event_idx();
    queues.emplace_back(std::move(*q));
  }
  Status st = device_->activate(mem_, std::move(queues), interrupt_);
  if (!st) {
    log_error("activate: " + st.error().what());
    status_ |= kStatusNeedsReset;
    interrupt_->notify_config();
    return false;
  }
  activated_ = true;
  return true;
}

void VirtioPciDevice::save_state(snapshot::StateWriter& w) const {
  std::lock_guard lk(mu_);
  w.put_string(device_->name());
  cfg_.save(w);
  w.put(device_feature_select_);
  w.put(driver_feature_select_);
  w.put(driver_features_);
  w.put(status_);
  w.put(config_generation_);
  w.put(queue_select_);
  w.put<uint8_t>(activated_.load() ? 1 : 0);
  w.put(interrupt_->config_vector());
  w.put(num_queues_);
  for (const QueueRegs& q : queues_) {
    w.put(q.size);
    w.put(q.msix_vector);
    w.put<uint8_t>(q.enabled ? 1 : 0);
    w.put(q.desc);
    w.put(q.driver);
    w.put(q.device);
  }
  msix_->save(w);
}

Status VirtioPciDevice::restore_state(snapshot::StateReader& r) {
  std::lock_guard lk(mu_);
  std::string dev;
  uint8_t activated = 0;
  uint16_t config_vector = 0;
  uint32_t nq = 0;
  if (!r.get_string(&dev, 64) || dev != device_->name())
    return Error("the snapshot has a " + dev + " device here, this VM a " + device_->name(),
                 EINVAL);
  if (!cfg_.restore(r) || !r.get(&device_feature_select_) || !r.get(&driver_feature_select_) ||
      !r.get(&driver_features_) || !r.get(&status_) || !r.get(&config_generation_) ||
      !r.get(&queue_select_) || !r.get(&activated) || !r.get(&config_vector) || !r.get(&nq))
    return Error(name() + ": truncated state", EINVAL);
  if (nq != num_queues_)
    return Error(name() + ": " + std::to_string(nq) + " queues in the snapshot, " +
                     std::to_string(num_queues_) + " here",
                 EINVAL);
  interrupt_->set_config_vector(config_vector < msix_->num_vectors() ? config_vector
                                                                     : kMsixNoVector);
  for (uint32_t i = 0; i < num_queues_; ++i) {
    QueueRegs& q = queues_[i];
    uint8_t enabled = 0;
    if (!r.get(&q.size) || !r.get(&q.msix_vector) || !r.get(&enabled) || !r.get(&q.desc) ||
        !r.get(&q.driver) || !r.get(&q.device))
      return Error(name() + ": truncated queue state", EINVAL);
    q.enabled = enabled != 0;
    if (q.msix_vector >= msix_->num_vectors()) q.msix_vector = kMsixNoVector;
    interrupt_->set_queue_vector(static_cast<uint16_t>(i), q.msix_vector);
  }
  if (!msix_->restore(r)) return Error(name() + ": bad MSI-X state", EINVAL);
  uint16_t ctrl = cfg_.u16(kMsixCapOffset + 2);
  msix_->set_control(ctrl & pci::kMsixCtrlEnable, ctrl & pci::kMsixCtrlFunctionMask);
  interrupt_->set_intx_disabled(cfg_.u16(pci::kCfgCommand) & pci::kCommandIntxDisable);
  if (status_ & kStatusFeaturesOk) device_->ack_features(driver_features_);
  if (activated && !activate_locked(/*resume=*/true))
    return Error(name() + ": could not resume the device", EIO);
  return {};
}

void VirtioPciDevice::log_error(const std::string& msg) {
  // A hostile guest can fail activation in a loop: only the first few are logged.
  if (logged_errors_ >= 8) return;
  ++logged_errors_;
  std::fprintf(stderr, "%s: %s\n", name().c_str(), msg.c_str());
}

void VirtioPciDevice::reset_locked() {
  if (activated_.load()) device_->reset();
  activated_ = false;
  status_ = 0;
  device_feature_select_ = 0;
  driver_feature_select_ = 0;
  driver_features_ = 0;
  queue_select_ = 0;
  for (QueueRegs& q : queues_) {
    q.size = q.max_size;
    q.msix_vector = kMsixNoVector;
    q.enabled = false;
    q.desc = q.driver = q.device = 0;
  }
  interrupt_->reset();
}

}  // namespace runvm::vmm::virtio
