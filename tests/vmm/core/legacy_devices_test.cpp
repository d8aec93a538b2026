#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <string>
#include <vector>

#include "vmm/devices/legacy/acpi_sleep.h"
#include "vmm/devices/legacy/cmos_rtc.h"
#include "vmm/devices/legacy/i8042.h"
#include "vmm/devices/legacy/ignored_ports.h"
#include "vmm/devices/legacy/serial.h"
#include "vmm/kvm/vcpu.h"

namespace runvm::vmm {
namespace {

uint8_t rd(BusDevice& d, uint64_t off) {
  uint8_t v = 0;
  d.bus_read(off, std::span<uint8_t>(&v, 1));
  return v;
}
void wr(BusDevice& d, uint64_t off, uint8_t v) {
  d.bus_write(off, std::span<const uint8_t>(&v, 1));
}

class SerialTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(pipe(fds), 0); }
  void TearDown() override {
    close(fds[0]);
    close(fds[1]);
  }
  std::string drain() {
    char buf[256];
    ssize_t n = read(fds[0], buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
  int fds[2];
  std::vector<bool> irqs;
};

TEST_F(SerialTest, TransmitsToSink) {
  Serial8250 s([&](bool l) { irqs.push_back(l); }, fds[1]);
  for (char c : std::string("hi\n")) wr(s, 0, static_cast<uint8_t>(c));
  EXPECT_EQ(drain(), "hi\n");
  EXPECT_EQ(rd(s, 5) & 0x60, 0x60);  // THR empty, transmitter empty
  EXPECT_TRUE(irqs.empty());         // no interrupt enabled
}

TEST_F(SerialTest, ThrInterruptRaisedAndAcknowledgedByIir) {
  Serial8250 s([&](bool l) { irqs.push_back(l); }, fds[1]);
  wr(s, 1, 0x02);  // IER: THRI
  ASSERT_EQ(irqs, std::vector<bool>{true});
  EXPECT_EQ(rd(s, 2) & 0x0f, 0x02);  // IIR: THR empty (and this read acknowledges it)
  EXPECT_EQ(irqs, (std::vector<bool>{true, false}));
  EXPECT_EQ(rd(s, 2) & 0x0f, 0x01);  // nothing pending
  wr(s, 0, 'x');                     // after a transmit, THRE fires again
  EXPECT_EQ(irqs.back(), true);
}

TEST_F(SerialTest, ReceiveFifoAndDataReadyInterrupt) {
  Serial8250 s([&](bool l) { irqs.push_back(l); }, fds[1]);
  wr(s, 1, 0x01);  // IER: RDI
  const uint8_t in[] = {'a', 'b'};
  EXPECT_EQ(s.enqueue_input(in), 2u);
  EXPECT_EQ(irqs.back(), true);
  EXPECT_EQ(rd(s, 2) & 0x0f, 0x04);
  EXPECT_EQ(rd(s, 5) & 0x01, 0x01);  // data ready
  EXPECT_EQ(rd(s, 0), 'a');
  EXPECT_EQ(rd(s, 0), 'b');
  EXPECT_EQ(rd(s, 5) & 0x01, 0x00);
  EXPECT_EQ(irqs.back(), false);
  EXPECT_EQ(rd(s, 0), 0);  // empty FIFO reads 0, no crash
}

TEST_F(SerialTest, FifoFullAcceptsNoMoreAndCallsBackWhenDrained) {
  Serial8250 s(nullptr, -1);
  int called = 0;
  s.set_space_callback([&] { ++called; });
  std::vector<uint8_t> lots(100, 'z');
  EXPECT_EQ(s.enqueue_input(lots), Serial8250::kFifoSize);
  EXPECT_EQ(s.input_space(), 0u);
  EXPECT_EQ(rd(s, 0), 'z');
  EXPECT_EQ(called, 1);
  EXPECT_EQ(s.input_space(), 1u);
}

TEST_F(SerialTest, DivisorLatchScratchAndLoopback) {
  Serial8250 s(nullptr, fds[1]);
  wr(s, 3, 0x80);  // DLAB
  wr(s, 0, 0x01);
  wr(s, 1, 0x00);
  EXPECT_EQ(rd(s, 0), 0x01);
  wr(s, 3, 0x03);
  wr(s, 7, 0x5a);
  EXPECT_EQ(rd(s, 7), 0x5a);
  wr(s, 4, 0x10 | 0x0a);             // loopback, RTS, OUT2
  EXPECT_EQ(rd(s, 6) & 0xf0, 0x90);  // CTS, DCD
  wr(s, 0, 'L');                     // looped back, not sent
  EXPECT_EQ(rd(s, 0), 'L');
  wr(s, 4, 0);
  wr(s, 0, 'k');
  EXPECT_EQ(drain(), "k");
}

// A console sink that stopped reading must not keep a vCPU thread forever:
// the stop kick (a signal) interrupts the blocked write.
TEST_F(SerialTest, BlockedSinkReleasedByTheStopSignal) {
  int fl = fcntl(fds[1], F_GETFL);
  ASSERT_EQ(fcntl(fds[1], F_SETFL, fl | O_NONBLOCK), 0);
  std::vector<char> junk(1 << 16, 'j');
  while (write(fds[1], junk.data(), junk.size()) > 0) {
  }
  ASSERT_EQ(fcntl(fds[1], F_SETFL, fl), 0);  // blocking again, and full
  kvm::Vcpu::install_kick_handler();
  Serial8250 s(nullptr, fds[1]);
  std::atomic<bool> done{false};
  std::thread t([&] {
    wr(s, 0, 'x');
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(done.load());
  for (int i = 0; i < 100 && !done.load(); ++i) {
    pthread_kill(t.native_handle(), kvm::Vcpu::kick_signal());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  t.join();
  EXPECT_TRUE(done.load());
}

TEST(I8042, ResetCommandAndProbeAnswers) {
  int resets = 0;
  I8042 k([&] { ++resets; });
  EXPECT_EQ(rd(k, 4) & 0x01, 0);  // nothing to read
  wr(k, 4, 0xaa);                 // self test
  EXPECT_EQ(rd(k, 4) & 0x01, 1);
  EXPECT_EQ(rd(k, 0), 0x55);
  EXPECT_EQ(rd(k, 4) & 0x01, 0);
  wr(k, 4, 0x60);  // write CTR
  wr(k, 0, 0x47);
  wr(k, 4, 0x20);  // read CTR
  EXPECT_EQ(rd(k, 0), 0x47);
  EXPECT_EQ(rd(k, 4) & 0x02, 0);  // input buffer never full: reboot's kb_wait ends
  EXPECT_EQ(resets, 0);
  wr(k, 4, 0xfe);
  EXPECT_EQ(resets, 1);
  EXPECT_EQ(rd(k, 2), 0xff);  // offsets between the two ports
}

uint8_t bcd(int v) {
  return static_cast<uint8_t>((v / 10) << 4 | (v % 10));
}

TEST(CmosRtc, ReadsHostTimeInBcdAndBinary) {
  CmosRtc rtc;
  time_t now = time(nullptr);
  tm t{};
  gmtime_r(&now, &t);
  wr(rtc, 0, 0x09);
  EXPECT_EQ(rd(rtc, 1), bcd(t.tm_year % 100));
  wr(rtc, 0, 0x32);
  EXPECT_EQ(rd(rtc, 1), bcd((t.tm_year + 1900) / 100));
  wr(rtc, 0, 0x0a);
  EXPECT_EQ(rd(rtc, 1) & 0x80, 0);  // no update in progress
  wr(rtc, 0, 0x0d);
  EXPECT_EQ(rd(rtc, 1), 0x80);
  wr(rtc, 0, 0x0b);
  wr(rtc, 1, 0x06);  // binary, 24h
  wr(rtc, 0, 0x08);
  EXPECT_EQ(rd(rtc, 1), t.tm_mon + 1);
  wr(rtc, 0, 0x8e);  // NMI-mask bit ignored; CMOS RAM byte
  wr(rtc, 1, 0x33);
  wr(rtc, 0, 0x0e);
  EXPECT_EQ(rd(rtc, 1), 0x33);
  wr(rtc, 0, 0x00);  // seconds are read-only
  wr(rtc, 1, 0x99);
  EXPECT_NE(rd(rtc, 1), 0x99);
}

TEST(AcpiSleep, OnlyS5WithEnableBitPowersOff) {
  int off = 0;
  AcpiSleepPorts p([&] { ++off; });
  wr(p, 0, 5 << 2);  // SLP_TYP without SLP_EN
  wr(p, 0, 0x20 | (3 << 2));
  EXPECT_EQ(off, 0);
  wr(p, 0, 0x20 | (5 << 2));
  EXPECT_EQ(off, 1);
}

}  // namespace
}  // namespace runvm::vmm
