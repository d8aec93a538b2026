// Snapshots of whole machines on the host's /dev/kvm (vmm/snapshot/README.md): a
// synthetic guest sets a register and a memory byte, reaches the snapshot point,
// and prints both once it runs again; a VM restored from the files must print
// what the saved one held. Plus the state file's codec and the refusals.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/vmm/core/synthetic_kernel.h"
#include "vmm/machine/machine.h"
#include "vmm/snapshot/snapshot_file.h"
#include "vmm/snapshot/vm_snapshot.h"

namespace runvm::vmm {
namespace {

namespace fs = std::filesystem;

// bl = 'B'; [0x3000] = 'C'; the snapshot point; then COM1 gets bl and [0x3000]; i8042 reset.
const std::vector<uint8_t> kGuest = {
    0xbb, 0x42, 0x00, 0x00, 0x00,                    // mov ebx, 'B'
    0xc6, 0x04, 0x25, 0x00, 0x30, 0x00, 0x00, 0x43,  // mov byte [0x3000], 'C'
    0x66, 0xba, 0xf0, 0x05,                          // mov dx, 0x5f0
    0xb0, 0x5a,                                      // mov al, 0x5a
    0xee,                                            // out dx, al: the snapshot point
    0x66, 0xba, 0xf8, 0x03,                          // mov dx, 0x3f8
    0x88, 0xd8,                                      // mov al, bl
    0xee,                                            // out dx, al
    0x8a, 0x04, 0x25, 0x00, 0x30, 0x00, 0x00,        // mov al, [0x3000]
    0xee,                                            // out dx, al
    0xb0, 0xfe, 0xe6, 0x64,                          // i8042 reset
    0xeb, 0xfe,                                      // jmp $
};

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/dev/kvm", R_OK | W_OK) != 0) GTEST_SKIP() << "/dev/kvm not available";
    char tmpl[] = "/tmp/runvm-snapshot-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directory(dir_ + "/snap");
    test::write_synthetic_bzimage(dir_ + "/kernel", kGuest);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  VmConfig base(const std::string& console) {
    VmConfig cfg;
    cfg.memory_mib = 64;
    cfg.cpus = 2;
    cfg.console.kind = ConsoleConfig::Kind::File;
    cfg.console.path = dir_ + "/" + console;
    return cfg;
  }
  VmConfig saving() {
    VmConfig cfg = base("template.log");
    cfg.kernel = dir_ + "/kernel";
    cfg.cmdline = "console=ttyS0";
    cfg.snapshot.save_dir = dir_ + "/snap";
    return cfg;
  }
  VmConfig restoring(const std::string& console = "restored.log") {
    VmConfig cfg = base(console);
    cfg.snapshot.restore_dir = dir_ + "/snap";
    return cfg;
  }
  void save() {
    auto r = run_machine(saving(), nullptr);
    ASSERT_TRUE(r) << r.error().what();
    ASSERT_EQ(r->reason, StopReason::SnapshotPoint) << r->detail;
    ASSERT_EQ(r->exit_status, 0);
  }
  std::string dir_;
};

TEST_F(SnapshotTest, ARestoredVmGoesOnWithTheSavedRegistersAndMemory) {
  save();
  // The template stopped at the point: nothing after it ran.
  EXPECT_EQ(slurp(dir_ + "/template.log"), "");
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/snap/memory").c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), uint64_t{64} << 20);
  // Sparse: only the pages the boot wrote take space.
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, uint64_t{8} << 20);
  // Twice from one snapshot: each VM is the saved one going on.
  for (const char* log : {"one.log", "two.log"}) {
    auto r = run_machine(restoring(log), nullptr);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->reason, StopReason::GuestReset) << r->detail;
    EXPECT_EQ(slurp(dir_ + "/" + log), "BC");
  }
}

TEST_F(SnapshotTest, WithoutSnapshotSaveThePointIsAnUnassignedPort) {
  VmConfig cfg = saving();
  cfg.snapshot.save_dir.clear();
  auto r = run_machine(cfg, nullptr);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->reason, StopReason::GuestReset) << r->detail;
  EXPECT_EQ(slurp(dir_ + "/template.log"), "BC");
}

TEST_F(SnapshotTest, ASnapshotOfAnotherShapeOrDamagedIsRefusedWithItsReason) {
  save();
  VmConfig other = restoring();
  other.cpus = 1;
  auto r = run_machine(other, nullptr);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("2 vCPUs"), std::string::npos) << r.error().what();

  const std::string state = dir_ + "/snap/vm.state";
  std::string bytes = slurp(state);
  ASSERT_GT(bytes.size(), 100u);
  std::ofstream(state, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 9);
  r = run_machine(restoring(), nullptr);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("checksum"), std::string::npos) << r.error().what();

  std::ofstream(state, std::ios::binary | std::ios::trunc) << bytes;
  ASSERT_EQ(truncate((dir_ + "/snap/memory").c_str(), 4096), 0);
  r = run_machine(restoring(), nullptr);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("truncated"), std::string::npos) << r.error().what();
}

TEST(SnapshotFile, SectionsRoundTripAndEveryTruncationIsAnError) {
  snapshot::Sections s = {{"a", {1, 2, 3}}, {"vcpu0", std::vector<uint8_t>(300, 7)}, {"e", {}}};
  auto bytes = snapshot::encode_sections(s);
  auto back = snapshot::decode_sections(bytes);
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_EQ(*back, s);
  for (size_t n = 0; n < bytes.size(); n += 7) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(n));
    EXPECT_FALSE(snapshot::decode_sections(cut)) << "accepted a file cut to " << n << " bytes";
  }
  bytes[20] ^= 1;
  EXPECT_FALSE(snapshot::decode_sections(bytes));
}

}  // namespace
}  // namespace runvm::vmm
