#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "vmm/devices/device_manager.h"

namespace runvm::vmm {
namespace {

class NullServices : public PciVmServices {
 public:
  int msi_route_add(uint64_t, uint32_t) override { return -1; }
  bool msi_route_update(int, uint64_t, uint32_t) override { return false; }
  bool irqfd_assign(int, int) override { return false; }
  bool irqfd_deassign(int, int) override { return false; }
  bool ioeventfd_assign(int, uint64_t, uint32_t) override { return false; }
  bool ioeventfd_deassign(int, uint64_t, uint32_t) override { return false; }
  bool signal_msi(uint64_t, uint32_t) override { return false; }
  bool set_irq_line(int gsi, bool level) override {
    last_gsi = gsi;
    last_level = level;
    return true;
  }
  int last_gsi = -1;
  bool last_level = false;
};

uint8_t inb(Bus& pio, uint16_t port) {
  uint8_t v = 0;
  pio.read(port, std::span<uint8_t>(&v, 1));
  return v;
}
void outb(Bus& pio, uint16_t port, uint8_t v) {
  pio.write(port, std::span<const uint8_t>(&v, 1));
}

class DeviceManagerTest : public ::testing::Test {
 protected:
  std::vector<uint8_t> ram = std::vector<uint8_t>(1 << 20);
  GuestMemory mem = GuestMemory::from_regions({{0, ram.size(), ram.data()}});
  Bus pio{"pio"}, mmio{"mmio"};
  EventLoop loop;
  NullServices svc;
  VmStop stop;
};

TEST_F(DeviceManagerTest, LegacyPortsAreWired) {
  DeviceManager dm(mem, pio, mmio, loop, svc, stop);
  VmConfig cfg;
  cfg.console.kind = ConsoleConfig::Kind::None;
  ASSERT_TRUE(dm.add_legacy_devices(cfg));
  EXPECT_EQ(inb(pio, 0x3fd) & 0x60, 0x60);  // COM1 LSR
  outb(pio, 0x3f9, 0x02);                   // IER THRI -> IRQ 4 raised
  EXPECT_EQ(svc.last_gsi, 4);
  EXPECT_TRUE(svc.last_level);
  outb(pio, 0x70, 0x0d);
  EXPECT_EQ(inb(pio, 0x71), 0x80);    // CMOS register D
  EXPECT_EQ(inb(pio, 0x1234), 0xff);  // nothing there
  outb(pio, 0x80, 0x12);              // POST code: ignored
  EXPECT_FALSE(stop.requested());
  outb(pio, 0x600, 0x20 | (5 << 2));  // ACPI S5
  EXPECT_EQ(stop.reason(), StopReason::GuestShutdown);
  EXPECT_EQ(VmStop::exit_status(stop.reason()), 0);
}

TEST_F(DeviceManagerTest, I8042ResetRequestsStop) {
  DeviceManager dm(mem, pio, mmio, loop, svc, stop);
  VmConfig cfg;
  cfg.console.kind = ConsoleConfig::Kind::None;
  ASSERT_TRUE(dm.add_legacy_devices(cfg));
  outb(pio, 0x64, 0xfe);
  EXPECT_EQ(stop.reason(), StopReason::GuestReset);
  // The first reason wins.
  stop.request(StopReason::TripleFault, "later");
  EXPECT_EQ(stop.reason(), StopReason::GuestReset);
}

TEST_F(DeviceManagerTest, ConsoleFileReceivesOutput) {
  char path[] = "/tmp/runvm-console-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    DeviceManager dm(mem, pio, mmio, loop, svc, stop);
    VmConfig cfg;
    cfg.console.kind = ConsoleConfig::Kind::File;
    cfg.console.path = path;
    ASSERT_TRUE(dm.add_legacy_devices(cfg));
    for (char c : std::string("boot ok\n")) outb(pio, 0x3f8, static_cast<uint8_t>(c));
  }
  char buf[64] = {};
  fd = open(path, O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(read(fd, buf, sizeof buf), 8);
  close(fd);
  unlink(path);
  EXPECT_EQ(std::string(buf), "boot ok\n");
}

// Guest input from stdin: more bytes than the UART FIFO holds arrive in order
// (the stdin watch pauses while the FIFO is full and resumes when drained).
TEST_F(DeviceManagerTest, StdinFlowsIntoTheUartWithBackpressure) {
  int saved = dup(STDIN_FILENO);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
  close(p[0]);
  std::string input;
  for (int i = 0; i < 300; ++i) input.push_back(static_cast<char>('a' + i % 26));
  ASSERT_EQ(write(p[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
  close(p[1]);  // EOF after the data
  std::string got;
  {
    DeviceManager dm(mem, pio, mmio, loop, svc, stop);
    VmConfig cfg;
    cfg.console.kind = ConsoleConfig::Kind::Stdio;
    ASSERT_TRUE(dm.add_legacy_devices(cfg));
    std::thread t([&] { (void)loop.run(); });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (got.size() < input.size() && std::chrono::steady_clock::now() < deadline) {
      if (inb(pio, 0x3fd) & 0x01)
        got.push_back(static_cast<char>(inb(pio, 0x3f8)));
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    loop.stop();
    t.join();
  }
  dup2(saved, STDIN_FILENO);
  close(saved);
  EXPECT_EQ(got, input);
}

}  // namespace
}  // namespace runvm::vmm
