// Runs tiny guest programs on the host's /dev/kvm through the real vCPU loop
// and buses. Skipped where /dev/kvm is missing.
#include <gtest/gtest.h>
#include <linux/kvm.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "vmm/kvm/kvm.h"
#include "vmm/kvm/kvm_pci_services.h"
#include "vmm/kvm/vcpu.h"

namespace runvm::vmm::kvm {
namespace {

class Recorder : public BusDevice {
 public:
  void bus_read(uint64_t offset, std::span<uint8_t> data) override {
    std::lock_guard lk(mu);
    reads.push_back(offset);
    for (auto& b : data) b = 0x11;
  }
  void bus_write(uint64_t offset, std::span<const uint8_t> data) override {
    std::lock_guard lk(mu);
    writes.push_back({offset, std::vector<uint8_t>(data.begin(), data.end())});
  }
  std::mutex mu;
  std::vector<uint64_t> reads;
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> writes;
};

class KvmSmoke : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/dev/kvm", R_OK | W_OK) != 0) GTEST_SKIP() << "/dev/kvm not available";
    auto k = Kvm::open();
    ASSERT_TRUE(k) << k.error().what();
    kvm = std::make_unique<Kvm>(std::move(*k));
    auto v = Vm::create(*kvm);
    ASSERT_TRUE(v) << v.error().what();
    vm = std::make_unique<Vm>(std::move(*v));
    std::string err;
    auto m = GuestMemory::create(0x10000, &err);
    ASSERT_TRUE(m) << err;
    mem = std::make_unique<GuestMemory>(std::move(*m));
    ASSERT_TRUE(vm->set_memory(*mem));
  }

  // Real mode, CS:IP = 0:0x1000, code copied there.
  std::unique_ptr<Vcpu> real_mode_vcpu(const std::vector<uint8_t>& code) {
    EXPECT_TRUE(mem->write(0x1000, code.data(), code.size()));
    auto size = kvm->vcpu_mmap_size();
    EXPECT_TRUE(size);
    auto v = Vcpu::create(vm->fd(), 0, *size);
    EXPECT_TRUE(v) << v.error().what();
    kvm_sregs s{};
    EXPECT_EQ(ioctl((*v)->fd(), KVM_GET_SREGS, &s), 0);
    s.cs.base = 0;
    s.cs.selector = 0;
    EXPECT_EQ(ioctl((*v)->fd(), KVM_SET_SREGS, &s), 0);
    kvm_regs r{};
    r.rip = 0x1000;
    r.rflags = 2;
    EXPECT_EQ(ioctl((*v)->fd(), KVM_SET_REGS, &r), 0);
    return std::move(*v);
  }

  std::unique_ptr<Kvm> kvm;
  std::unique_ptr<Vm> vm;
  std::unique_ptr<GuestMemory> mem;
  Bus pio{"pio"}, mmio{"mmio"};
};

TEST_F(KvmSmoke, PortAndMmioExitsReachTheBuses) {
  auto port_dev = std::make_shared<Recorder>();
  auto mmio_dev = std::make_shared<Recorder>();
  ASSERT_TRUE(pio.insert(port_dev, 0x10, 4));
  ASSERT_TRUE(mmio.insert(mmio_dev, 0x20000, 0x1000));
  // mov al,0x42; out 0x11,al; in al,0x12; mov [0x0010],al (ds = 0x2000 -> 0x20010); hlt
  std::vector<uint8_t> code = {
      0xb0, 0x42,        // mov al, 0x42
      0xe6, 0x11,        // out 0x11, al
      0xe4, 0x12,        // in al, 0x12  (device answers 0x11)
      0xbb, 0x00, 0x20,  // mov bx, 0x2000
      0x8e, 0xdb,        // mov ds, bx
      0xa2, 0x10, 0x00,  // mov [0x0010], al  -> guest physical 0x20010 (unbacked: MMIO)
      0xf4,              // hlt
  };
  auto vcpu = real_mode_vcpu(code);
  ASSERT_TRUE(vcpu);
  auto exit = vcpu->run(pio, mmio, /*exit_on_hlt=*/true);
  EXPECT_TRUE(exit.halted) << exit.detail;
  ASSERT_EQ(port_dev->writes.size(), 1u);
  EXPECT_EQ(port_dev->writes[0].first, 1u);
  EXPECT_EQ(port_dev->writes[0].second, std::vector<uint8_t>{0x42});
  ASSERT_EQ(port_dev->reads.size(), 1u);
  EXPECT_EQ(port_dev->reads[0], 2u);
  ASSERT_EQ(mmio_dev->writes.size(), 1u);
  EXPECT_EQ(mmio_dev->writes[0].first, 0x10u);
  EXPECT_EQ(mmio_dev->writes[0].second, std::vector<uint8_t>{0x11});
}

TEST_F(KvmSmoke, UnhandledPortsDoNotStopTheGuest) {
  // out 0x99,al (nothing there); in al,0x98 (reads 0xff); out 0x10,al; hlt
  std::vector<uint8_t> code = {0xe6, 0x99, 0xe4, 0x98, 0xe6, 0x10, 0xf4};
  auto dev = std::make_shared<Recorder>();
  ASSERT_TRUE(pio.insert(dev, 0x10, 1));
  auto vcpu = real_mode_vcpu(code);
  ASSERT_TRUE(vcpu);
  auto exit = vcpu->run(pio, mmio, true);
  EXPECT_TRUE(exit.halted) << exit.detail;
  ASSERT_EQ(dev->writes.size(), 1u);
  EXPECT_EQ(dev->writes[0].second, std::vector<uint8_t>{0xff});
}

TEST_F(KvmSmoke, RequestStopEndsAGuestThatNeverExits) {
  std::vector<uint8_t> code = {0xe6, 0x10, 0xeb, 0xfc};  // loop: out 0x10,al; jmp loop
  auto dev = std::make_shared<Recorder>();
  ASSERT_TRUE(pio.insert(dev, 0x10, 1));
  auto vcpu = real_mode_vcpu(code);
  ASSERT_TRUE(vcpu);
  Vcpu::install_kick_handler();
  VcpuExit exit;
  std::thread t([&] { exit = vcpu->run(pio, mmio, true); });
  // Wait until the guest is visibly running, then stop it.
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lk(dev->mu);
      if (!dev->writes.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  vcpu->request_stop();
  t.join();
  EXPECT_EQ(exit.kind, VcpuExitKind::Stopped) << exit.detail;
  std::lock_guard lk(dev->mu);
  EXPECT_FALSE(dev->writes.empty());
}

TEST_F(KvmSmoke, IrqchipAndVmServices) {
  ASSERT_TRUE(vm->setup_x86_irqchip());
  KvmPciServices svc(vm->fd());
  EXPECT_TRUE(svc.set_irq_line(4, true));
  EXPECT_TRUE(svc.set_irq_line(4, false));
  EXPECT_FALSE(svc.set_irq_line(24, true));  // not an IOAPIC pin
  int gsi = svc.msi_route_add(0xfee00000, 0x4041);
  ASSERT_GE(gsi, KvmPciServices::kIoapicPins);
  EXPECT_TRUE(svc.msi_route_update(gsi, 0xfee00000, 0x4042));
  EXPECT_FALSE(svc.msi_route_update(gsi + 100, 0xfee00000, 0x4042));
  int gsi2 = svc.msi_route_add(0xfee00000, 0x4043);
  EXPECT_EQ(gsi2, gsi + 1);
  int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ASSERT_GE(efd, 0);
  EXPECT_TRUE(svc.irqfd_assign(efd, gsi));
  EXPECT_TRUE(svc.irqfd_deassign(efd, gsi));
  EXPECT_FALSE(svc.irqfd_assign(efd, -1));
  EXPECT_TRUE(svc.ioeventfd_assign(efd, 0xc0001000, 2));
  EXPECT_FALSE(svc.ioeventfd_assign(efd, 0xc0001000, 2));  // already assigned
  EXPECT_TRUE(svc.ioeventfd_deassign(efd, 0xc0001000, 2));
  auto size = kvm->vcpu_mmap_size();
  ASSERT_TRUE(size);
  auto vcpu = Vcpu::create(vm->fd(), 0, *size);  // an MSI needs a destination CPU
  ASSERT_TRUE(vcpu) << vcpu.error().what();
  EXPECT_TRUE(svc.signal_msi(0xfee00000, 0x4041));
  close(efd);
  auto cpuid = kvm->supported_cpuid();
  ASSERT_TRUE(cpuid) << cpuid.error().what();
  EXPECT_GT(cpuid->size(), 10u);
}

}  // namespace
}  // namespace runvm::vmm::kvm
