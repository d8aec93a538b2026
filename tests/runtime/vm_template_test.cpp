// Template VMs (runtime/vm/vm_template.h): which arguments make a VM's shape, how a
// restore's arguments are made, and a template VM that fails leaves nothing behind.
#include "runtime/vm/vm_template.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace runvm::runtime::vm {
namespace {

namespace fs = std::filesystem;

class VmTemplateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/runvm-template-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/kernel") << "k";
    std::ofstream(dir_ + "/initrd") << "i";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> args(const std::string& vmm, const std::string& id,
                                const std::string& memory = "512") {
    return {vmm,
            "--kernel",
            dir_ + "/kernel",
            "--initrd",
            dir_ + "/initrd",
            "--cmdline",
            "console=ttyS0",
            "--memory",
            memory,
            "--vsock-uds",
            "/run/" + id + "/vsock.sock",
            "--console",
            "file:/run/" + id + "/console.log",
            "--fs",
            "runvm-rootfs=/run/" + id + "/rootfs:rootfs:cache=always",
            "--no-seccomp"};
  }
  std::string dir_;
};

TEST_F(VmTemplateTest, TheShapeIsWhatTheGuestSawNotWhereThisVmLives) {
  const std::string a = template_key(args("/bin/true", "c1"));
  EXPECT_EQ(a, template_key(args("/bin/true", "c2")));  // other dirs, sockets, console
  EXPECT_NE(a, template_key(args("/bin/true", "c1", "1024")));
  auto more = args("/bin/true", "c1");
  more.insert(more.end(), {"--fs", "runvm-vol0=/srv:cache=auto"});
  EXPECT_NE(a, template_key(more));
  // A NIC is part of the shape, its tap and MAC are not; its MTU is.
  auto nic = args("/bin/true", "c1");
  nic.insert(nic.end(), {"--net", "tap-fd=3,mac=02:00:00:00:00:01"});
  auto nic2 = args("/bin/true", "c2");
  nic2.insert(nic2.end(), {"--net", "tap-fd=5,mac=02:00:00:00:00:02"});
  EXPECT_NE(a, template_key(nic));
  EXPECT_EQ(template_key(nic), template_key(nic2));
  nic2.back() += ",mtu=1400";
  EXPECT_NE(template_key(nic), template_key(nic2));
  // A new kernel (another size or mtime) is another shape: the old template is never used.
  std::ofstream(dir_ + "/kernel") << "kernel v2";
  EXPECT_NE(a, template_key(args("/bin/true", "c1")));
}

TEST_F(VmTemplateTest, ARestoreKeepsTheDevicesAndDropsTheBoot) {
  auto r = restore_args(args("/bin/true", "c1"), "/t/x");
  const std::vector<std::string> want = {"/bin/true",
                                         "--memory",
                                         "512",
                                         "--vsock-uds",
                                         "/run/c1/vsock.sock",
                                         "--console",
                                         "file:/run/c1/console.log",
                                         "--fs",
                                         "runvm-rootfs=/run/c1/rootfs:rootfs:cache=always",
                                         "--no-seccomp",
                                         "--restore",
                                         "/t/x"};
  EXPECT_EQ(r, want);
}

TEST_F(VmTemplateTest, AFailedTemplateVmIsAnErrorAndLeavesNothing) {
  // The snapshot directory's parents are made too (/var/lib/runvm may not exist yet).
  auto t = ensure_template(dir_ + "/var/templates", args("/bin/false", "c1"), 10);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().what().find("template VM failed (exit 1)"), std::string::npos)
      << t.error().what();
  // A VMM that exits 0 without saving is refused too.
  t = ensure_template(dir_ + "/var/templates", args("/bin/true", "c1"), 10);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().what().find("ended without saving"), std::string::npos) << t.error().what();
  for (const auto& e : fs::directory_iterator(dir_ + "/var/templates"))
    EXPECT_EQ(e.path().extension(), ".lock") << e.path();
}

}  // namespace
}  // namespace runvm::runtime::vm
