// Whole-machine runs on the host's /dev/kvm with a synthetic bzImage whose
// 64-bit entry is a few hand-assembled instructions: the real boot path
// (tables, long mode, vCPU threads, devices, event loop) up to the VM's end.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include "tests/vmm/core/synthetic_kernel.h"
#include "vmm/machine/machine.h"

namespace runvm::vmm {
namespace {

class MachineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/dev/kvm", R_OK | W_OK) != 0) GTEST_SKIP() << "/dev/kvm not available";
    char tmpl[] = "/tmp/runvm-kernel-XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = tmpl;
  }
  void TearDown() override {
    if (!path_.empty()) unlink(path_.c_str());
  }

  // Writes a bzImage whose 64-bit entry (payload offset 0x200) runs `code`.
  VmConfig config_with_entry(const std::vector<uint8_t>& code, unsigned cpus = 1) {
    test::write_synthetic_bzimage(path_, code);
    VmConfig cfg;
    cfg.kernel = path_;
    cfg.cmdline = "console=ttyS0";
    cfg.memory_mib = 64;
    cfg.cpus = cpus;
    cfg.console.kind = ConsoleConfig::Kind::None;
    return cfg;
  }
  std::string path_;
};

TEST_F(MachineTest, I8042ResetEndsTheVmWithStatusZero) {
  // mov al, 0xfe; out 0x64, al; jmp $
  auto cfg = config_with_entry({0xb0, 0xfe, 0xe6, 0x64, 0xeb, 0xfe}, 2);
  auto r = run_machine(cfg, nullptr);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->reason, StopReason::GuestReset) << r->detail;
  EXPECT_EQ(r->exit_status, 0);
}

TEST_F(MachineTest, AcpiPowerOffEndsTheVmWithStatusZero) {
  // mov dx, 0x600; mov al, SLP_EN | S5 << 2; out dx, al; jmp $
  auto cfg = config_with_entry({0x66, 0xba, 0x00, 0x06, 0xb0, 0x34, 0xee, 0xeb, 0xfe});
  auto r = run_machine(cfg, nullptr);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->reason, StopReason::GuestShutdown) << r->detail;
  EXPECT_EQ(r->exit_status, 0);
}

TEST_F(MachineTest, TripleFaultIsNonZero) {
  // ud2 with an empty IDT: #UD -> #DF -> triple fault.
  auto cfg = config_with_entry({0x0f, 0x0b});
  auto r = run_machine(cfg, nullptr);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->reason, StopReason::TripleFault) << r->detail;
  EXPECT_NE(r->exit_status, 0);
}

TEST_F(MachineTest, SigtermStopsASpinningGuest) {
  auto cfg = config_with_entry({0xeb, 0xfe});  // jmp $
  // Block SIGTERM process-wide first, so it stays pending for the VMM's signalfd.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread killer([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    kill(getpid(), SIGTERM);
  });
  auto start = std::chrono::steady_clock::now();
  auto r = run_machine(cfg, nullptr);
  killer.join();
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->reason, StopReason::HostSignal) << r->detail;
  EXPECT_EQ(r->exit_status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST_F(MachineTest, AddDevicesErrorAbortsSetUp) {
  auto cfg = config_with_entry({0xeb, 0xfe});
  auto r = run_machine(
      cfg, [](DeviceManager&, const VmConfig&) -> Status { return Error("no such device"); });
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("no such device"), std::string::npos);
}

TEST_F(MachineTest, BogusKernelIsRejected) {
  std::ofstream(path_) << "not a kernel";
  VmConfig cfg;
  cfg.kernel = path_;
  cfg.memory_mib = 64;
  cfg.console.kind = ConsoleConfig::Kind::None;
  auto r = run_machine(cfg, nullptr);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("bzImage"), std::string::npos) << r.error().what();
}

}  // namespace
}  // namespace runvm::vmm
