#include <gtest/gtest.h>
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
       }) {
    auto f = parse(args);
    EXPECT_FALSE(f.config) << args.size();
    EXPECT_EQ(f.exit_code, 1);
  }
}

}  // namespace
}  // namespace runvm::vmm
