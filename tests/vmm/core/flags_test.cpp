#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "vmm/main/flags.h"

namespace runvm::vmm {
namespace {

class FlagsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/runvm-flags-XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    kernel = tmpl;
  }
  void TearDown() override { unlink(kernel.c_str()); }
  ParsedFlags parse(std::vector<std::string> args) {
    args.insert(args.begin(), "runvm-vmm");
    std::vector<const char*> argv;
    for (auto& a : args) argv.push_back(a.c_str());
    return parse_flags(static_cast<int>(argv.size()), argv.data());
  }
  std::string kernel;
};

TEST_F(FlagsTest, FullCommandLine) {
  auto f = parse({"--kernel", kernel, "--initrd", kernel, "--cmdline", "console=ttyS0 quiet",
                  "--memory", "512", "--cpus", "2", "--vsock-cid", "7", "--vsock-uds",
                  "/run/x.sock", "--console", "file:/tmp/out.log"});
  ASSERT_TRUE(f.config);
  EXPECT_EQ(f.config->kernel, kernel);
  EXPECT_EQ(f.config->cmdline, "console=ttyS0 quiet");
  EXPECT_EQ(f.config->memory_mib, 512u);
  EXPECT_EQ(f.config->cpus, 2u);
  ASSERT_TRUE(f.config->vsock_cid);
  EXPECT_EQ(*f.config->vsock_cid, 7u);
  EXPECT_EQ(f.config->vsock_uds, "/run/x.sock");
  EXPECT_EQ(f.config->console.kind, ConsoleConfig::Kind::File);
  EXPECT_EQ(f.config->console.path, "/tmp/out.log");
}

TEST_F(FlagsTest, Defaults) {
  auto f = parse({"--kernel", kernel});
  ASSERT_TRUE(f.config);
  EXPECT_EQ(f.config->cpus, 1u);
  EXPECT_EQ(f.config->memory_mib, 256u);
  EXPECT_FALSE(f.config->vsock_cid);
  EXPECT_EQ(f.config->console.kind, ConsoleConfig::Kind::Stdio);
  // The whole jail is on unless a debugging flag turns a part off.
  EXPECT_TRUE(f.config->jail.enabled);
  EXPECT_TRUE(f.config->jail.seccomp);
  EXPECT_TRUE(f.config->jail.mount_namespace);
}

TEST_F(FlagsTest, JailPartsTurnOffOneByOne) {
  auto f = parse({"--kernel", kernel, "--no-seccomp"});
  ASSERT_TRUE(f.config);
  EXPECT_FALSE(f.config->jail.seccomp);
  EXPECT_TRUE(f.config->jail.mount_namespace);
  auto m = parse({"--kernel", kernel, "--no-mount-jail"});
  ASSERT_TRUE(m.config);
  EXPECT_TRUE(m.config->jail.seccomp);
  EXPECT_FALSE(m.config->jail.mount_namespace);
  EXPECT_EQ(m.config->jail.uid, -1);  // stays root unless asked
  auto u = parse({"--kernel", kernel, "--user", "1000:1001"});
  ASSERT_TRUE(u.config);
  EXPECT_EQ(u.config->jail.uid, 1000);
  EXPECT_EQ(u.config->jail.gid, 1001);
  auto u2 = parse({"--kernel", kernel, "--user", "65534"});
  ASSERT_TRUE(u2.config);
  EXPECT_EQ(u2.config->jail.gid, 65534);
  // The flag of the opt-in days is still accepted and changes nothing.
  auto old = parse({"--kernel", kernel, "--seccomp"});
  ASSERT_TRUE(old.config);
  EXPECT_TRUE(old.config->jail.seccomp);
}

TEST_F(FlagsTest, SharesTakeReadOnlyAndRootfsInAnyOrder) {
  auto f = parse({"--kernel", kernel, "--fs", "a=/tmp", "--fs", "b=/tmp:ro:rootfs", "--9p",
                  "c=/tmp:rootfs:ro", "--9p", "d=/tmp:rootfs"});
  ASSERT_TRUE(f.config);
  ASSERT_EQ(f.config->shared_dirs.size(), 4u);
  using virtio::fs::ShareContent;
  struct Want {
    const char* tag;
    bool ro;
    ShareContent content;
  };
  const Want want[] = {{"a", false, ShareContent::Volume},
                       {"b", true, ShareContent::ContainerRoot},
                       {"c", true, ShareContent::ContainerRoot},
                       {"d", false, ShareContent::ContainerRoot}};
  for (size_t i = 0; i < 4; ++i) {
    const SharedDir& sd = f.config->shared_dirs[i];
    EXPECT_EQ(sd.tag, want[i].tag);
    EXPECT_EQ(sd.dir, "/tmp") << sd.tag;
    EXPECT_EQ(sd.read_only, want[i].ro) << sd.tag;
    EXPECT_EQ(sd.content, want[i].content) << sd.tag;
  }
}

TEST_F(FlagsTest, VirtioFsSharesTakeACacheModeAndWriteback) {
  auto f = parse({"--kernel", kernel, "--fs", "a=/tmp:writeback:rootfs:cache=always", "--fs",
                  "b=/tmp:cache=none:ro", "--fs", "c=/tmp"});
  ASSERT_TRUE(f.config);
  ASSERT_EQ(f.config->shared_dirs.size(), 3u);
  using virtio::fs::CacheMode;
  const auto& a = f.config->shared_dirs[0];
  EXPECT_EQ(a.dir, "/tmp");
  EXPECT_EQ(a.cache.mode, CacheMode::Always);
  EXPECT_TRUE(a.cache.writeback);
  EXPECT_EQ(a.content, virtio::fs::ShareContent::ContainerRoot);
  const auto& b = f.config->shared_dirs[1];
  EXPECT_EQ(b.dir, "/tmp");
  EXPECT_EQ(b.cache.mode, CacheMode::None);
  EXPECT_FALSE(b.cache.writeback);
  EXPECT_TRUE(b.read_only);
  EXPECT_EQ(f.config->shared_dirs[2].cache.mode, CacheMode::Auto);  // the default
}

TEST_F(FlagsTest, BadCacheOptionsAreNamed) {
  struct Case {
    std::vector<std::string> args;
    const char* says;
  };
  for (const auto& c : std::vector<Case>{
           {{"--fs", "a=/tmp:cache=sometimes"}, "unknown cache mode \"sometimes\""},
           {{"--9p", "a=/tmp:cache=always"}, "apply to --fs only"},
           {{"--9p", "a=/tmp:writeback"}, "apply to --fs only"},
           {{"--fs", "a=/tmp:ro:writeback"}, "needs a writable share"},
       }) {
    auto args = c.args;
    args.insert(args.begin(), {"--kernel", kernel});
    ::testing::internal::CaptureStderr();
    auto f = parse(args);
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_FALSE(f.config) << c.args[1];
    EXPECT_EQ(f.exit_code, 1) << c.args[1];
    EXPECT_NE(err.find(c.says), std::string::npos) << err;
  }
}

TEST_F(FlagsTest, BadFlagsFailWithExitOne) {
  for (auto args : std::vector<std::vector<std::string>>{
           {},
           {"--kernel", "/nonexistent/vmlinuz"},
           {"--kernel", kernel, "--memory", "0"},
           {"--kernel", kernel, "--cpus", "0"},
           {"--kernel", kernel, "--cpus", "65"},
           {"--kernel", kernel, "--initrd", "/nonexistent"},
           {"--kernel", kernel, "--vsock-cid", "7"},
           {"--kernel", kernel, "--vsock-cid", "2", "--vsock-uds", "/x"},
           {"--kernel", kernel, "--console", "tty"},
           {"--kernel", kernel, "--bogus"},
           {"--kernel", kernel, "--user", "nobody"},
           {"--kernel", kernel, "--user", "1:x"},
       }) {
    auto f = parse(args);
    EXPECT_FALSE(f.config) << args.size();
    EXPECT_EQ(f.exit_code, 1);
  }
}

class NetFlagsTest : public FlagsTest {
 protected:
  void SetUp() override {
    FlagsTest::SetUp();
    // Any open fd will do for the flag checks; the device never sees it here.
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    fd = std::to_string(sv[1]);
  }
  void TearDown() override {
    close(sv[0]);
    close(sv[1]);
    FlagsTest::TearDown();
  }
  // Parses --net SPEC; returns stderr when it fails.
  std::string parse_net_error(const std::string& spec) {
    ::testing::internal::CaptureStderr();
    auto f = parse({"--kernel", kernel, "--net", spec});
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_FALSE(f.config) << spec;
    EXPECT_EQ(f.exit_code, 1) << spec;
    return err;
  }
  int sv[2] = {-1, -1};
  std::string fd;
};

TEST_F(NetFlagsTest, ParsesTapFdMacAndMtu) {
  auto f = parse({"--kernel", kernel, "--net", "tap-fd=" + fd + ",mac=02:aB:0c:Fd:00:ff,mtu=9000"});
  ASSERT_TRUE(f.config);
  ASSERT_TRUE(f.config->net);
  EXPECT_EQ(f.config->net->tap_fd, sv[1]);
  EXPECT_EQ(f.config->net->mac, (std::array<uint8_t, 6>{0x02, 0xab, 0x0c, 0xfd, 0x00, 0xff}));
  EXPECT_EQ(f.config->net->mtu, 9000);
  // The VMM owns the tap now: no child of it may inherit the fd.
  EXPECT_TRUE(fcntl(sv[1], F_GETFD) & FD_CLOEXEC);
}

TEST_F(NetFlagsTest, DefaultsAndAbsence) {
  auto f = parse({"--kernel", kernel, "--net", "mac=02:00:00:00:00:01,tap-fd=" + fd});
  ASSERT_TRUE(f.config);
  ASSERT_TRUE(f.config->net);
  EXPECT_EQ(f.config->net->mtu, 0);  // no VIRTIO_NET_F_MTU: the guest sets its own
  auto none = parse({"--kernel", kernel});
  ASSERT_TRUE(none.config);
  EXPECT_FALSE(none.config->net);
  auto edges =
      parse({"--kernel", kernel, "--net", "tap-fd=" + fd + ",mac=02:00:00:00:00:01,mtu=68"});
  ASSERT_TRUE(edges.config);
  EXPECT_EQ(edges.config->net->mtu, 68);
  edges = parse({"--kernel", kernel, "--net", "tap-fd=" + fd + ",mac=02:00:00:00:00:01,mtu=65535"});
  ASSERT_TRUE(edges.config);
  EXPECT_EQ(edges.config->net->mtu, 65535);
}

TEST_F(NetFlagsTest, BadSpecsFailNamingTheFlag) {
  const std::string mac = ",mac=02:00:00:00:00:01";
  // High enough that nothing the test opens meanwhile (stderr capture) reuses it.
  int closed_fd = fcntl(sv[1], F_DUPFD_CLOEXEC, 1000);
  ASSERT_GE(closed_fd, 1000);
  close(closed_fd);
  struct Case {
    std::string spec;
    std::string why;  // part of the message
  };
  for (const Case& c : std::vector<Case>{
           {"mac=02:00:00:00:00:01", "tap-fd=N is required"},
           {"tap-fd=" + fd, "mac=XX:XX:XX:XX:XX:XX is required"},
           {"tap-fd=" + std::to_string(closed_fd) + mac, "is not open"},
           {"tap-fd=1" + mac, "standard stream"},
           {"tap-fd=-3" + mac, "not a number"},
           {"tap-fd=3x" + mac, "not a number"},
           {"tap-fd=99999999999" + mac, "not a number"},
           {"tap-fd=" + fd + ",mac=02:00:00:00:00", "not six hex octets"},
           {"tap-fd=" + fd + ",mac=02:00:00:00:00:0g", "not six hex octets"},
           {"tap-fd=" + fd + ",mac=02-00-00-00-00-01", "not six hex octets"},
           {"tap-fd=" + fd + ",mac=02:00:00:00:00:001", "not six hex octets"},
           {"tap-fd=" + fd + ",mac=01:00:5e:00:00:01", "multicast"},
           {"tap-fd=" + fd + ",mac=ff:ff:ff:ff:ff:ff", "multicast"},
           {"tap-fd=" + fd + ",mac=00:00:00:00:00:00", "not an address"},
           {"tap-fd=" + fd + mac + ",mtu=67", "between 68 and 65535"},
           {"tap-fd=" + fd + mac + ",mtu=65536", "between 68 and 65535"},
           {"tap-fd=" + fd + mac + ",mtu=", "between 68 and 65535"},
           {"tap-fd=" + fd + mac + ",mtu=1500,mtu=1500", "mtu given twice"},
           {"tap-fd=" + fd + ",tap-fd=" + fd + mac, "tap-fd given twice"},
           {"tap-fd=" + fd + mac + ",queues=2", "unknown key \"queues\""},
           {"tap-fd=" + fd + ",," + mac, "expected KEY=VALUE"},
           {"tap-fd=" + fd + mac + ",", "expected KEY=VALUE"},
           {"", "expected KEY=VALUE"},
       }) {
    std::string err = parse_net_error(c.spec);
    EXPECT_NE(err.find("--net"), std::string::npos) << c.spec << ": " << err;
    EXPECT_NE(err.find(c.why), std::string::npos) << c.spec << ": " << err;
  }
}

TEST_F(NetFlagsTest, OnlyOneNic) {
  std::string spec = "tap-fd=" + fd + ",mac=02:00:00:00:00:01";
  ::testing::internal::CaptureStderr();
  auto f = parse({"--kernel", kernel, "--net", spec, "--net", spec});
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_FALSE(f.config);
  EXPECT_EQ(f.exit_code, 1);
  EXPECT_NE(err.find("one NIC"), std::string::npos) << err;
}

}  // namespace
}  // namespace runvm::vmm
