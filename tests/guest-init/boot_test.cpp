// PID 1 bring-up helpers that can run on the host: command line, module list,
// module loading errors, the vsock listener.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>

#include "guest-init/boot.h"
#include "tests/support/temp_dir.h"

namespace runvm::guest {
namespace {

TEST(Cmdline, DefaultsAndOverrides) {
  auto d = parse_cmdline("console=ttyS0 quiet\n");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->rootfs_fstype, "virtiofs");
  EXPECT_EQ(d->rootfs_tag, "runvm-rootfs");
  EXPECT_EQ(d->agent_port, 1024u);
  auto c = parse_cmdline(
      "console=ttyS0 runvm.rootfs=9p:vol0 runvm.agent_port=2000 runvm.modules=/m.list panic=-1 "
      "runvm.share=runvm-files runvm.share=runvm-files-ro");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->rootfs_fstype, "9p");
  EXPECT_EQ(c->rootfs_tag, "vol0");
  EXPECT_EQ(c->agent_port, 2000u);
  EXPECT_EQ(c->modules_list, "/m.list");
  EXPECT_EQ(c->shares, (std::vector<std::string>{"runvm-files", "runvm-files-ro"}));
  EXPECT_TRUE(d->shares.empty());
}

TEST(Cmdline, RejectsMalformedRunvmParameters) {
  for (const char* bad :
       {"runvm.rootfs=virtiofs", "runvm.rootfs=ext4:x", "runvm.rootfs=:tag", "runvm.agent_port=abc",
        "runvm.agent_port=0", "runvm.modules=rel", "runvm.share=", "runvm.share=../etc",
        "runvm.share=a/b", "runvm.share=..", "runvm.share=0123456789012345678901234567890123456"}) {
    auto r = parse_cmdline(bad);
    ASSERT_FALSE(r) << bad;
    std::string key = std::string(bad).substr(0, std::string(bad).find('='));
    EXPECT_EQ(r.error().message.rfind(key, 0), 0u) << r.error().message;
  }
}

TEST(Modules, ListKeepsOrderAndSkipsCommentsAndBlanks) {
  auto l = parse_module_list(
      "# virtio first\n/lib/modules/a/virtio.ko\n\n  /lib/modules/a/virtio_pci.ko  \r\n#x\n"
      "/lib/modules/a/vsock.ko");
  EXPECT_EQ(l, (std::vector<ModuleEntry>{{"/lib/modules/a/virtio.ko", {}},
                                         {"/lib/modules/a/virtio_pci.ko", {}},
                                         {"/lib/modules/a/vsock.ko", {}}}));
}

TEST(Modules, DeviceDriversLoadOnlyForTheirDevices) {
  auto l = parse_module_list(
      "/m/virtio_net.ko pci=1AF4:1041,1af4:1000\n/m/fuse.ko\n/m/x.ko later=1 pci=1b36:0011\n");
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].pci, (std::vector<std::string>{"1af4:1041", "1af4:1000"}));
  EXPECT_TRUE(l[1].pci.empty());
  EXPECT_EQ(l[2].pci, (std::vector<std::string>{"1b36:0011"}));
  // A fake sysfs with one virtio-rng function (modern id) and a bridge.
  testing::TempDir tmp;
  for (auto [dev, vendor, device] : {std::tuple{"0000:00:00.0", "0x8086", "0x0d57"},
                                     std::tuple{"0000:00:01.0", "0x1af4", "0x1044"}}) {
    std::filesystem::create_directories(tmp.path() + "/" + dev);
    std::ofstream(tmp.path() + "/" + dev + "/vendor") << vendor << "\n";
    std::ofstream(tmp.path() + "/" + dev + "/device") << device << "\n";
  }
  auto present = present_pci_ids(tmp.path());
  EXPECT_EQ(present, (std::set<std::string>{"8086:0d57", "1af4:1044"}));
  EXPECT_FALSE(module_wanted(l[0], present));  // no NIC: no virtio_net
  EXPECT_TRUE(module_wanted(l[1], present));
  EXPECT_TRUE(module_wanted(ModuleEntry{"/m/virtio_rng.ko", {"1af4:1044", "1af4:1005"}}, present));
  EXPECT_TRUE(present_pci_ids(tmp.path() + "/missing").empty());
}

TEST(Modules, LoadingFailsWithTheFileName) {
  auto missing = load_modules("/nonexistent/runvm.list");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nonexistent/runvm.list"), std::string::npos);
  char path[] = "/tmp/runvm-modlist-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "/nonexistent/mod.ko\n";
  auto r = load_modules(path);
  unlink(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "open module /nonexistent/mod.ko: No such file or directory");
}

TEST(Vsock, ListenerOrAClearError) {
  auto fd = listen_vsock(45123);
  if (!fd) {
    // Hosts without the vsock stack: the error must still say what failed.
    EXPECT_NE(fd.error().message.find("vsock"), std::string::npos);
    GTEST_SKIP() << fd.error().message;
  }
  EXPECT_GE(*fd, 0);
  close(*fd);
}

}  // namespace
}  // namespace runvm::guest
