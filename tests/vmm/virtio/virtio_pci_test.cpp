// The virtio-pci transport driven the way a guest driver drives it.
#include "vmm/devices/virtio/transport/virtio_pci.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <thread>

#include "tests/vmm/virtio/fake_vm.h"
#include "tests/vmm/virtio/test_guest.h"
#include "vmm/devices/virtio/rng/rng.h"

namespace runvm::vmm::virtio {
namespace {

using testing::DriverQueue;
using testing::FakeVm;
using testing::TestGuest;

constexpr uint64_t kBarAddr = 0xd000'0000;
constexpr int kIntxGsi = 17;

// A device with two queues and 8 bytes of config that records what happens.
class RecordingDevice : public VirtioDevice {
 public:
  std::string name() const override { return "recording"; }
  std::string debug_state() const override { return "recorded state"; }
  uint32_t device_type() const override { return 19; }
  uint64_t device_features() const override { return 1ull << 0 | 1ull << 40; }
  void ack_features(uint64_t f) override { acked = f; }
  std::vector<uint16_t> queue_max_sizes() const override { return {64, 32}; }
  uint32_t config_size() const override { return 8; }
  void read_config(uint32_t offset, std::span<uint8_t> data) override {
    for (size_t i = 0; i < data.size(); ++i) data[i] = config[offset + i];
  }
  void write_config(uint32_t offset, std::span<const uint8_t> data) override {
    for (size_t i = 0; i < data.size(); ++i) config[offset + i] = data[i];
  }
  Status activate(const GuestMemory&, std::vector<std::optional<Queue>> q,
                  std::shared_ptr<VirtioInterrupt> irq) override {
    std::lock_guard lk(mu);
    ++activations;
    queues = std::move(q);
    interrupt = std::move(irq);
    return {};
  }
  void queue_notify(uint16_t index) override {
    std::lock_guard lk(mu);
    ++kicks[index];
  }
  void reset() override {
    std::lock_guard lk(mu);
    ++resets;
    queues.clear();
    interrupt.reset();
  }
  int kick_count(uint16_t q) {
    std::lock_guard lk(mu);
    return kicks[q];
  }

  std::mutex mu;
  uint8_t config[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  uint64_t acked = 0;
  int activations = 0;
  int resets = 0;
  std::map<uint16_t, int> kicks;
  std::vector<std::optional<Queue>> queues;
  std::shared_ptr<VirtioInterrupt> interrupt;
};

// A device that implements EVENT_IDX (calls Queue::arm_kick() before it waits).
class EventIdxDevice : public RecordingDevice {
 public:
  uint64_t device_features() const override {
    return RecordingDevice::device_features() | kFeatureRingEventIdx;
  }
};

class VirtioPciTest : public ::testing::Test {
 protected:
  void SetUp() override { make(std::make_shared<RecordingDevice>()); }
  void make(std::shared_ptr<VirtioDevice> d, EventLoop* loop = nullptr) {
    dev = d;
    pci = std::make_unique<VirtioPciDevice>(d, g.mem(), loop);
    std::pair<int, uint64_t> bars[] = {{0, kBarAddr}};
    pci->placed(bars, kIntxGsi, &vm);
  }
  RecordingDevice& rec() { return static_cast<RecordingDevice&>(*dev); }

  uint32_t cfg32(uint32_t off) {
    uint32_t v;
    pci->config_read(off, std::span(reinterpret_cast<uint8_t*>(&v), 4));
    return v;
  }
  uint16_t cfg16(uint32_t off) {
    uint16_t v;
    pci->config_read(off, std::span(reinterpret_cast<uint8_t*>(&v), 2));
    return v;
  }
  uint8_t cfg8(uint32_t off) {
    uint8_t v;
    pci->config_read(off, std::span(&v, 1));
    return v;
  }
  template <typename T>
  void cfg_write(uint32_t off, T v) {
    pci->config_write(off, std::span(reinterpret_cast<const uint8_t*>(&v), sizeof v));
  }
  template <typename T>
  T bar_rd(uint64_t off) {
    T v;
    pci->bar_read(0, off, std::span(reinterpret_cast<uint8_t*>(&v), sizeof v));
    return v;
  }
  template <typename T>
  void bar_wr(uint64_t off, T v) {
    pci->bar_write(0, off, std::span(reinterpret_cast<const uint8_t*>(&v), sizeof v));
  }

  // Finds the virtio capability of `type` by walking the list; returns its offset.
  std::optional<uint8_t> find_cap(uint8_t id, std::optional<uint8_t> type = std::nullopt) {
    uint8_t at = cfg8(0x34);
    for (int guard = 0; at != 0 && guard < 48; ++guard) {
      if (cfg8(at) == id && (!type || cfg8(at + 3) == *type)) return at;
      at = cfg8(at + 1);
    }
    return std::nullopt;
  }
  uint64_t features() {
    bar_wr<uint32_t>(common::kDeviceFeatureSelect, 0);
    uint64_t lo = bar_rd<uint32_t>(common::kDeviceFeature);
    bar_wr<uint32_t>(common::kDeviceFeatureSelect, 1);
    uint64_t hi = bar_rd<uint32_t>(common::kDeviceFeature);
    return lo | hi << 32;
  }
  void write_driver_features(uint64_t f) {
    bar_wr<uint32_t>(common::kDriverFeatureSelect, 0);
    bar_wr<uint32_t>(common::kDriverFeature, static_cast<uint32_t>(f));
    bar_wr<uint32_t>(common::kDriverFeatureSelect, 1);
    bar_wr<uint32_t>(common::kDriverFeature, static_cast<uint32_t>(f >> 32));
  }
  void set_status(uint8_t s) { bar_wr<uint8_t>(common::kDeviceStatus, s); }
  uint8_t get_status() { return bar_rd<uint8_t>(common::kDeviceStatus); }
  void setup_queue(uint16_t index, const DriverQueue& q, uint16_t vector) {
    bar_wr<uint16_t>(common::kQueueSelect, index);
    bar_wr<uint16_t>(common::kQueueSize, q.size());
    auto c = q.config();
    bar_wr<uint64_t>(common::kQueueDesc, c.desc_addr);
    // The driver ring address as two 32-bit halves, as some drivers do.
    bar_wr<uint32_t>(common::kQueueDriver, static_cast<uint32_t>(c.avail_addr));
    bar_wr<uint32_t>(common::kQueueDriver + 4, static_cast<uint32_t>(c.avail_addr >> 32));
    bar_wr<uint64_t>(common::kQueueDevice, c.used_addr);
    bar_wr<uint16_t>(common::kQueueMsixVector, vector);
    bar_wr<uint16_t>(common::kQueueEnable, 1);
  }
  void enable_msix(uint8_t cap) { cfg_write<uint16_t>(cap + 2, pci::kMsixCtrlEnable); }
  void program_vector(uint16_t v, uint32_t data, bool masked) {
    uint64_t e = kMsixTableOffset + 16ull * v;
    bar_wr<uint32_t>(e, 0xfee00000);
    bar_wr<uint32_t>(e + 4, 0);
    bar_wr<uint32_t>(e + 8, data);
    bar_wr<uint32_t>(e + 12, masked ? 1 : 0);
  }
  // The full driver bring-up: features, queues, MSI-X, DRIVER_OK.
  void bring_up(DriverQueue& q0, DriverQueue& q1) {
    set_status(0);
    set_status(kStatusAcknowledge);
    set_status(kStatusAcknowledge | kStatusDriver);
    write_driver_features(features());
    set_status(kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
    ASSERT_TRUE(get_status() & kStatusFeaturesOk);
    auto msix = find_cap(pci::kCapIdMsix);
    ASSERT_TRUE(msix);
    enable_msix(*msix);
    for (uint16_t v = 0; v < 3; ++v) program_vector(v, 0x40 + v, false);
    bar_wr<uint16_t>(common::kMsixConfig, 0);
    setup_queue(0, q0, 1);
    setup_queue(1, q1, 2);
    set_status(kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
  }

  TestGuest g;
  FakeVm vm;
  std::shared_ptr<VirtioDevice> dev;
  std::unique_ptr<VirtioPciDevice> pci;
};

TEST_F(VirtioPciTest, IdentityAndBar) {
  EXPECT_EQ(cfg16(0x00), 0x1af4);
  EXPECT_EQ(cfg16(0x02), 0x1040 + 19);
  EXPECT_EQ(cfg8(0x08), 1);  // revision 1: non-transitional
  EXPECT_EQ(cfg16(0x2c), 0x1af4);
  EXPECT_GE(cfg16(0x2e), 0x40);
  EXPECT_TRUE(cfg16(0x06) & pci::kStatusCapList);
  EXPECT_EQ(cfg8(0x3d), 1);  // INTA#
  EXPECT_EQ(cfg8(0x3c), kIntxGsi);
  EXPECT_EQ(cfg32(0x10), static_cast<uint32_t>(kBarAddr) | 0x4);
  EXPECT_EQ(cfg32(0x14), 0u);
  // Size probe: all-ones in, size mask out; then the address is restored.
  cfg_write<uint32_t>(0x10, 0xffffffff);
  EXPECT_EQ(cfg32(0x10), static_cast<uint32_t>(~(kBarSize - 1)) | 0x4);
  cfg_write<uint32_t>(0x14, 0xffffffff);
  EXPECT_EQ(cfg32(0x14), 0xffffffffu);
  cfg_write<uint32_t>(0x10, static_cast<uint32_t>(kBarAddr));
  cfg_write<uint32_t>(0x14, 0);
  EXPECT_EQ(cfg32(0x10), static_cast<uint32_t>(kBarAddr) | 0x4);
  EXPECT_EQ(cfg32(0x18), 0u);  // unused BARs read as 0 and stay 0
  cfg_write<uint32_t>(0x18, 0xffffffff);
  EXPECT_EQ(cfg32(0x18), 0u);
  // Read-only identity.
  cfg_write<uint16_t>(0x00, 0x1234);
  EXPECT_EQ(cfg16(0x00), 0x1af4);
}

TEST_F(VirtioPciTest, CapabilityWalk) {
  auto common_cap = find_cap(kCapIdVendor, kPciCapCommonCfg);
  auto notify_cap = find_cap(kCapIdVendor, kPciCapNotifyCfg);
  auto isr_cap = find_cap(kCapIdVendor, kPciCapIsrCfg);
  auto dev_cap = find_cap(kCapIdVendor, kPciCapDeviceCfg);
  auto msix = find_cap(pci::kCapIdMsix);
  EXPECT_TRUE(find_cap(kCapIdVendor, kPciCapPciCfg));
  ASSERT_TRUE(common_cap && notify_cap && isr_cap && dev_cap && msix);
  for (uint8_t c : {*common_cap, *notify_cap, *isr_cap, *dev_cap, *msix}) EXPECT_EQ(c % 4, 0);
  EXPECT_EQ(cfg8(*common_cap + 4), 0);  // BAR 0
  EXPECT_EQ(cfg32(*common_cap + 8), kCommonOffset);
  EXPECT_GE(cfg32(*common_cap + 12), 0x38u);
  EXPECT_EQ(cfg8(*notify_cap + 2), 20);
  EXPECT_EQ(cfg32(*notify_cap + 16), 4u);  // notify_off_multiplier
  EXPECT_GE(cfg32(*notify_cap + 12), 8u);  // two queues * 4
  EXPECT_EQ(cfg32(*dev_cap + 12), 8u);
  // MSI-X: config vector + one per queue, table/PBA in BAR 0.
  EXPECT_EQ(cfg16(*msix + 2) & 0x7ff, 2);
  EXPECT_EQ(cfg32(*msix + 4), kMsixTableOffset);
  EXPECT_EQ(cfg32(*msix + 8), kMsixPbaOffset);
}

// A device asking for more queues than fit gets kMaxQueues: its MSI-X table
// (one vector per queue plus config) must end below the PBA.
class ManyQueuesDevice : public RecordingDevice {
 public:
  std::vector<uint16_t> queue_max_sizes() const override { return std::vector<uint16_t>(1100, 16); }
};

TEST_F(VirtioPciTest, QueuesAreCappedSoTheMsixTableEndsBelowThePba) {
  make(std::make_shared<ManyQueuesDevice>());
  auto msix = find_cap(pci::kCapIdMsix);
  ASSERT_TRUE(msix);
  const uint32_t vectors = (cfg16(*msix + 2) & 0x7ffu) + 1;
  EXPECT_EQ(vectors, kMaxQueues + 1);
  EXPECT_LE(kMsixTableOffset + vectors * 16ull, kMsixPbaOffset);
}

TEST_F(VirtioPciTest, PciCfgWindowReachesTheBar) {
  auto cap = find_cap(kCapIdVendor, kPciCapPciCfg);
  ASSERT_TRUE(cap);
  EXPECT_EQ(cfg8(*cap + 2), 20);
  uint32_t data_at = *cap + 16;
  // Read device_feature (high window) through the config space.
  bar_wr<uint32_t>(common::kDeviceFeatureSelect, 1);
  cfg_write<uint8_t>(*cap + 4, 0);
  cfg_write<uint32_t>(*cap + 8, common::kDeviceFeature);
  cfg_write<uint32_t>(*cap + 12, 4);
  EXPECT_EQ(cfg32(*cap + 8), common::kDeviceFeature);
  EXPECT_EQ(cfg32(data_at), static_cast<uint32_t>((kFeatureVersion1 | (1ull << 40)) >> 32));
  // Write the status byte through it.
  cfg_write<uint32_t>(*cap + 8, common::kDeviceStatus);
  cfg_write<uint32_t>(*cap + 12, 1);
  cfg_write<uint8_t>(data_at, kStatusAcknowledge);
  EXPECT_EQ(get_status(), kStatusAcknowledge);
  EXPECT_EQ(cfg8(data_at), kStatusAcknowledge);
  // Width that does not match cap.length, an odd length, another BAR: dropped.
  cfg_write<uint16_t>(data_at, 0);
  EXPECT_EQ(get_status(), kStatusAcknowledge);
  cfg_write<uint32_t>(*cap + 12, 3);
  cfg_write<uint8_t>(data_at, 0);
  EXPECT_EQ(get_status(), kStatusAcknowledge);
  cfg_write<uint32_t>(*cap + 12, 1);
  cfg_write<uint8_t>(*cap + 4, 2);
  cfg_write<uint8_t>(data_at, 0);
  EXPECT_EQ(get_status(), kStatusAcknowledge);
  EXPECT_EQ(cfg8(data_at), 0);
  // An offset beyond the BAR is harmless.
  cfg_write<uint8_t>(*cap + 4, 0);
  cfg_write<uint32_t>(*cap + 8, 0xfffffff0);
  cfg_write<uint8_t>(data_at, 0xff);
  EXPECT_EQ(cfg8(data_at), 0);
}

TEST_F(VirtioPciTest, DoorbellsAreIoeventfds) {
  ASSERT_EQ(vm.ioevents.size(), 0u);  // no event loop: no doorbells
  EventLoop loop;
  make(std::make_shared<RecordingDevice>(), &loop);
  ASSERT_EQ(vm.ioevents.size(), 2u);
  EXPECT_EQ(vm.ioevents[0].addr, kBarAddr + kNotifyOffset);
  EXPECT_EQ(vm.ioevents[1].addr, kBarAddr + kNotifyOffset + 4);
  EXPECT_EQ(vm.ioevents[1].len, 2u);
  // A doorbell signalled by "KVM" is served on the loop thread.
  std::thread t([&] { (void)loop.run(); });
  uint64_t one = 1;
  ASSERT_EQ(write(vm.ioevents[1].fd, &one, 8), 8);
  for (int i = 0; i < 200 && rec().kick_count(1) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  loop.stop();
  t.join();
  EXPECT_EQ(rec().kick_count(1), 1);
  EXPECT_EQ(rec().kick_count(0), 0);
  pci.reset();  // deregisters
  EXPECT_EQ(vm.ioevents.size(), 0u);
}

TEST_F(VirtioPciTest, FeatureNegotiation) {
  uint64_t f = features();
  EXPECT_TRUE(f & kFeatureVersion1);
  EXPECT_TRUE(f & (1ull << 0));
  EXPECT_TRUE(f & (1ull << 40));
  EXPECT_FALSE(f & kFeatureRingEventIdx);
  bar_wr<uint32_t>(common::kDeviceFeatureSelect, 7);  // out-of-range window reads 0
  EXPECT_EQ(bar_rd<uint32_t>(common::kDeviceFeature), 0u);

  set_status(kStatusAcknowledge | kStatusDriver);
  write_driver_features(1ull << 0);  // legacy driver: no VERSION_1
  set_status(kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  EXPECT_FALSE(get_status() & kStatusFeaturesOk);

  write_driver_features(kFeatureVersion1 | (1ull << 5));  // a bit we never offered
  set_status(kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  EXPECT_FALSE(get_status() & kStatusFeaturesOk);

  write_driver_features(kFeatureVersion1 | (1ull << 40));
  set_status(kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  EXPECT_TRUE(get_status() & kStatusFeaturesOk);
  EXPECT_EQ(rec().acked, kFeatureVersion1 | (1ull << 40));
  // Features are frozen after FEATURES_OK.
  write_driver_features(kFeatureVersion1);
  bar_wr<uint32_t>(common::kDriverFeatureSelect, 1);
  EXPECT_EQ(bar_rd<uint32_t>(common::kDriverFeature), (kFeatureVersion1 | (1ull << 40)) >> 32);
}

// EVENT_IDX is offered only by a device that implements it, and its queues get it
// only when the driver acked it.
TEST_F(VirtioPciTest, EventIdxOnlyForDevicesThatOfferIt) {
  DriverQueue q0(g, 64, TestGuest::kBase), q1(g, 32, TestGuest::kBase + 0x4000);
  bring_up(q0, q1);
  ASSERT_TRUE(pci->activated());
  ASSERT_TRUE(rec().queues[0].has_value());
  EXPECT_FALSE(rec().queues[0]->event_idx());

  make(std::make_shared<EventIdxDevice>());
  EXPECT_TRUE(features() & kFeatureRingEventIdx);
  bring_up(q0, q1);
  ASSERT_TRUE(pci->activated());
  ASSERT_TRUE(rec().queues[0].has_value() && rec().queues[1].has_value());
  EXPECT_TRUE(rec().queues[0]->event_idx());
  EXPECT_TRUE(rec().queues[1]->event_idx());
}

TEST_F(VirtioPciTest, DriverOkWithoutFeaturesOkNeedsReset) {
  set_status(kStatusAcknowledge | kStatusDriver | kStatusDriverOk);
  EXPECT_FALSE(pci->activated());
  EXPECT_TRUE(get_status() & kStatusNeedsReset);
  set_status(0);
  EXPECT_EQ(get_status(), 0);
}

TEST_F(VirtioPciTest, BringUpKickAndMsix) {
  DriverQueue q0(g, 64, TestGuest::kBase), q1(g, 32, TestGuest::kBase + 0x4000);
  bring_up(q0, q1);
  ASSERT_TRUE(pci->activated());
  EXPECT_EQ(rec().activations, 1);
  ASSERT_EQ(rec().queues.size(), 2u);
  EXPECT_TRUE(rec().queues[0].has_value());
  EXPECT_EQ(rec().queues[1]->size(), 32);
  // Queue registers read back; notify offsets are the queue index.
  bar_wr<uint16_t>(common::kQueueSelect, 1);
  EXPECT_EQ(bar_rd<uint16_t>(common::kQueueSize), 32);
  EXPECT_EQ(bar_rd<uint16_t>(common::kQueueEnable), 1);
  EXPECT_EQ(bar_rd<uint16_t>(common::kQueueNotifyOff), 1);
  EXPECT_EQ(bar_rd<uint64_t>(common::kQueueDriver), q1.config().avail_addr);
  EXPECT_EQ(bar_rd<uint16_t>(common::kNumQueues), 2);
  bar_wr<uint16_t>(common::kQueueSelect, 9);
  EXPECT_EQ(bar_rd<uint16_t>(common::kQueueSize), 0);  // no such queue

  // Kick through the notify area (the exit path when no ioeventfd matched).
  bar_wr<uint16_t>(kNotifyOffset + 4, 1);
  EXPECT_EQ(rec().kick_count(1), 1);
  bar_wr<uint16_t>(kNotifyOffset + 2, 1);  // not a doorbell
  bar_wr<uint16_t>(kNotifyOffset + 8, 2);  // queue 2 does not exist
  EXPECT_EQ(rec().kick_count(0) + rec().kick_count(1), 1);

  // Queue 1's interrupt goes out through vector 2's irqfd.
  int gsi = vm.gsi_for(0x42);
  ASSERT_GE(gsi, 0);
  rec().interrupt->notify_queue(1);
  EXPECT_EQ(vm.irqfd_count(gsi), 1u);
  rec().interrupt->notify_config();
  EXPECT_EQ(vm.irqfd_count(vm.gsi_for(0x40)), 1u);
  EXPECT_TRUE(vm.direct_msis.empty());
  EXPECT_EQ(vm.line_changes, 0);  // no INTx while MSI-X is on

  // Device config through the BAR.
  EXPECT_EQ(bar_rd<uint32_t>(kDeviceCfgOffset + 4), 0x08070605u);
  bar_wr<uint16_t>(kDeviceCfgOffset + 6, 0xaabb);
  EXPECT_EQ(rec().config[6], 0xbb);
  EXPECT_EQ(bar_rd<uint32_t>(kDeviceCfgOffset + 6), 0u);  // straddles the end: zeros

  // Queue layout is frozen while running.
  bar_wr<uint16_t>(common::kQueueSelect, 0);
  bar_wr<uint16_t>(common::kQueueSize, 4);
  EXPECT_EQ(bar_rd<uint16_t>(common::kQueueSize), 64);

  // Reset: the device drops its queues, registers return to defaults.
  set_status(0);
  EXPECT_FALSE(pci->activated());
  EXPECT_EQ(rec().resets, 1);
  EXPECT_EQ(get_status(), 0);
  EXPECT_EQ(bar_rd<uint16_t>(common::kQueueEnable), 0);
  EXPECT_EQ(bar_rd<uint16_t>(common::kQueueMsixVector), kMsixNoVector);
  // And it can be brought up again.
  bring_up(q0, q1);
  EXPECT_TRUE(pci->activated());
  EXPECT_EQ(rec().activations, 2);
}

// A device that notes which thread each side effect runs on.
class ThreadNotingDevice : public RecordingDevice {
 public:
  Status activate(const GuestMemory& m, std::vector<std::optional<Queue>> q,
                  std::shared_ptr<VirtioInterrupt> irq) override {
    note("activate");
    return RecordingDevice::activate(m, std::move(q), std::move(irq));
  }
  void queue_notify(uint16_t index) override {
    note("kick");
    RecordingDevice::queue_notify(index);
  }
  void reset() override {
    note("reset");
    RecordingDevice::reset();
  }
  void write_config(uint32_t offset, std::span<const uint8_t> data) override {
    note("config");
    RecordingDevice::write_config(offset, data);
  }
  void note(const std::string& what) {
    std::lock_guard lk(mu);
    threads[what] = std::this_thread::get_id();
  }
  std::map<std::string, std::thread::id> threads;
};

TEST_F(VirtioPciTest, WritesWithSideEffectsRunOnTheLoopThread) {
  // What runvm-vmm does: the loop runs on its own thread and the driver's writes
  // arrive on another (a vCPU); activation, kicks, device config and reset must
  // not run on the writer's thread (vmm/jail/README.md: the vCPU filter).
  EventLoop loop;
  ASSERT_TRUE(loop.ok());
  loop.use_loop_thread_for_calls();
  std::thread::id loop_id;
  std::thread loop_thread([&] {
    loop_id = std::this_thread::get_id();
    loop.run();
  });
  auto d = std::make_shared<ThreadNotingDevice>();
  make(d, &loop);
  DriverQueue q0(g, 64, TestGuest::kBase), q1(g, 32, TestGuest::kBase + 0x4000);
  bring_up(q0, q1);
  EXPECT_TRUE(pci->activated());          // the write returned after the activation ran
  bar_wr<uint8_t>(kNotifyOffset + 4, 1);  // a 1-byte kick: no ioeventfd matches it
  EXPECT_EQ(d->kick_count(1), 1);
  bar_wr<uint16_t>(kDeviceCfgOffset, 0x1234);
  set_status(0);
  EXPECT_EQ(d->resets, 1);
  loop.stop();
  loop_thread.join();
  for (const char* what : {"activate", "kick", "config", "reset"}) {
    ASSERT_TRUE(d->threads.count(what)) << what;
    EXPECT_EQ(d->threads[what], loop_id) << what;
  }
  // Once the loop has ended, such a write is dropped rather than run here or waited on.
  set_status(kStatusAcknowledge);
  EXPECT_EQ(get_status(), 0);
  pci.reset();
}

TEST_F(VirtioPciTest, MaskedVectorLatchesPendingBit) {
  DriverQueue q0(g, 64, TestGuest::kBase), q1(g, 32, TestGuest::kBase + 0x4000);
  bring_up(q0, q1);
  program_vector(1, 0x41, true);  // mask queue 0's vector
  rec().interrupt->notify_queue(0);
  EXPECT_TRUE(pci->msix().pending(1));
  EXPECT_EQ(bar_rd<uint8_t>(kMsixPbaOffset), 1 << 1);
  int gsi = vm.gsi_for(0x41);
  ASSERT_GE(gsi, 0);
  EXPECT_EQ(vm.irqfd_count(gsi), 0u);
  bar_wr<uint32_t>(kMsixTableOffset + 16 + 12, 0);  // unmask: the latched one fires
  EXPECT_FALSE(pci->msix().pending(1));
  EXPECT_EQ(vm.irqfd_count(gsi), 1u);
  // Function mask holds every vector.
  auto msix = find_cap(pci::kCapIdMsix);
  cfg_write<uint16_t>(*msix + 2, pci::kMsixCtrlEnable | pci::kMsixCtrlFunctionMask);
  rec().interrupt->notify_queue(0);
  EXPECT_EQ(vm.irqfd_count(gsi), 0u);
  cfg_write<uint16_t>(*msix + 2, pci::kMsixCtrlEnable);
  EXPECT_EQ(vm.irqfd_count(gsi), 1u);
  // Reprogramming an unmasked vector updates its route.
  program_vector(1, 0x51, false);
  EXPECT_EQ(vm.routes[gsi].data, 0x51u);
  // A queue vector beyond the table reads back as NO_VECTOR.
  bar_wr<uint16_t>(common::kQueueSelect, 0);
  bar_wr<uint16_t>(common::kQueueMsixVector, 3);
  EXPECT_EQ(bar_rd<uint16_t>(common::kQueueMsixVector), kMsixNoVector);
}

TEST_F(VirtioPciTest, DebugStateShowsRingIndicesAndVectorBits) {
  DriverQueue q0(g, 64, TestGuest::kBase), q1(g, 32, TestGuest::kBase + 0x4000);
  EXPECT_NE(pci->debug_state().find("activated=0"), std::string::npos);
  bring_up(q0, q1);
  q0.set_desc(0, TestGuest::kBase + 0x8000, 16, 0, 0);
  q0.publish(0);
  q0.publish(0);
  program_vector(1, 0x41, true);  // queue 0's vector masked: its interrupt latches
  rec().interrupt->notify_queue(0);
  const std::string s = pci->debug_state();
  EXPECT_NE(s.find("activated=1"), std::string::npos) << s;
  EXPECT_NE(s.find("q0 size=64 avail_idx=2 avail_flags=0x0 used_idx=0 vector=1 masked=1 pending=1"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("q1 size=32 avail_idx=0"), std::string::npos) << s;
  EXPECT_NE(s.find(" | recorded state"), std::string::npos) << s;  // the device's own line
}

TEST_F(VirtioPciTest, IntxAndIsrWithoutMsix) {
  DriverQueue q0(g, 64, TestGuest::kBase), q1(g, 32, TestGuest::kBase + 0x4000);
  set_status(kStatusAcknowledge | kStatusDriver);
  write_driver_features(kFeatureVersion1);
  set_status(kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  setup_queue(0, q0, kMsixNoVector);
  setup_queue(1, q1, kMsixNoVector);
  set_status(kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
  ASSERT_TRUE(pci->activated());
  rec().interrupt->notify_queue(0);
  EXPECT_TRUE(vm.lines[kIntxGsi]);
  rec().interrupt->notify_config();
  EXPECT_EQ(bar_rd<uint8_t>(kIsrOffset), 3);  // queue + config bits; read clears
  EXPECT_FALSE(vm.lines[kIntxGsi]);
  EXPECT_EQ(bar_rd<uint8_t>(kIsrOffset), 0);
  // INTx disable in the command register keeps the line low.
  cfg_write<uint16_t>(0x04, pci::kCommandIntxDisable | pci::kCommandMemory);
  rec().interrupt->notify_queue(0);
  EXPECT_FALSE(vm.lines[kIntxGsi]);
}

TEST_F(VirtioPciTest, BadQueueAddressSetsNeedsReset) {
  DriverQueue q0(g, 64, TestGuest::kBase), q1(g, 32, TestGuest::kBase + 0x4000);
  set_status(kStatusAcknowledge | kStatusDriver);
  write_driver_features(kFeatureVersion1);
  set_status(kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  setup_queue(0, q0, kMsixNoVector);
  bar_wr<uint16_t>(common::kQueueSelect, 1);
  bar_wr<uint16_t>(common::kQueueSize, 32);
  bar_wr<uint64_t>(common::kQueueDesc, 0xdead'beef'0000ull);  // not guest memory
  bar_wr<uint16_t>(common::kQueueEnable, 1);
  set_status(kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
  EXPECT_FALSE(pci->activated());
  EXPECT_TRUE(get_status() & kStatusNeedsReset);
  EXPECT_EQ(rec().activations, 0);
}

TEST_F(VirtioPciTest, GarbageEverywhereNeverCrashes) {
  std::mt19937_64 rng(1234);
  DriverQueue q0(g, 64, TestGuest::kBase), q1(g, 32, TestGuest::kBase + 0x4000);
  bring_up(q0, q1);
  const size_t widths[] = {1, 2, 4, 8};
  for (int i = 0; i < 200000; ++i) {
    uint8_t buf[8];
    uint64_t r = rng();
    std::memcpy(buf, &r, 8);
    size_t w = widths[rng() % 4];
    switch (rng() % 4) {
      case 0:
        pci->bar_write(0, rng() % (kBarSize + 64), std::span<const uint8_t>(buf, w));
        break;
      case 1:
        pci->bar_read(static_cast<int>(rng() % 3), rng() % (kBarSize + 64), std::span(buf, w));
        break;
      case 2: {
        uint32_t off = static_cast<uint32_t>(rng() % 256);
        if (w <= 4 && off % w == 0) pci->config_write(off, std::span<const uint8_t>(buf, w));
        break;
      }
      default:
        // Concentrate on the common config where the state machine lives.
        pci->bar_write(0, rng() % 0x40, std::span<const uint8_t>(buf, w));
        break;
    }
  }
  // Far-out offsets and huge widths too.
  uint8_t big[8] = {};
  pci->bar_write(0, ~0ull - 2, std::span<const uint8_t>(big, 8));
  pci->bar_read(0, ~0ull - 2, std::span(big, 8));
  pci->config_read(254, std::span(big, 4));
  EXPECT_EQ(big[2], 0xff);
  // The function still identifies itself and can be brought up cleanly.
  EXPECT_EQ(cfg16(0x00), 0x1af4);
  cfg_write<uint32_t>(0x10, static_cast<uint32_t>(kBarAddr));
  set_status(0);
  bring_up(q0, q1);
  EXPECT_TRUE(pci->activated());
}

TEST_F(VirtioPciTest, RngThroughTheTransport) {
  auto rng = std::make_shared<VirtioRng>();
  make(rng);
  EXPECT_EQ(cfg16(0x02), 0x1044);
  EXPECT_FALSE(find_cap(kCapIdVendor, kPciCapDeviceCfg));  // rng has no config space
  DriverQueue q(g, 256, TestGuest::kBase);
  set_status(kStatusAcknowledge | kStatusDriver);
  write_driver_features(kFeatureVersion1);
  set_status(kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  setup_queue(0, q, kMsixNoVector);
  set_status(kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
  ASSERT_TRUE(pci->activated());
  uint64_t buf = g.alloc(64);
  q.add_chain({{buf, 64, true}});
  bar_wr<uint16_t>(kNotifyOffset, 0);
  auto used = q.take_used();
  ASSERT_TRUE(used);
  EXPECT_EQ(used->second, 64u);
  int nonzero = 0;
  for (int i = 0; i < 64; ++i) nonzero += g.host(buf)[i] != 0;
  EXPECT_GT(nonzero, 32);  // 64 random bytes are not mostly zero
  EXPECT_TRUE(vm.lines[kIntxGsi]);
  // A request with no writable buffer is answered with 0 bytes.
  q.add_chain({{g.alloc(8), 8, false}});
  bar_wr<uint16_t>(kNotifyOffset, 0);
  used = q.take_used();
  ASSERT_TRUE(used);
  EXPECT_EQ(used->second, 0u);
}

}  // namespace
}  // namespace runvm::vmm::virtio
