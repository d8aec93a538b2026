// linux.resources -> cgroup v2 files: the conversions, and the writes into a
// directory laid out like a cgroup (the build machine's own hierarchy may be v1).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "oci/cgroup2.h"
#include "tests/support/temp_dir.h"

namespace runvm::oci {
namespace {

namespace fs = std::filesystem;
using Files = std::vector<std::pair<std::string, std::string>>;

TEST(CgroupFiles, ConvertsTheV1StyleFields) {
  Resources r;
  r.memory = Memory{};
  r.memory->limit = 256 << 20;
  r.memory->swap = 512 << 20;
  r.memory->reservation = 128 << 20;
  r.cpu = CPU{};
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->cpus = "0-1";
  r.pids = Pids{100};
  r.unified = StringMap{{"memory.high", "200000000"}};
  auto f = cgroup_files(r);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(*f, (Files{{"memory.max", "268435456"},
                       {"memory.low", "134217728"},
                       {"memory.swap.max", "268435456"},
                       {"cpu.weight", "39"},
                       {"cpu.max", "50000 100000"},
                       {"cpuset.cpus", "0-1"},
                       {"pids.max", "100"},
                       {"memory.high", "200000000"}}));
}

TEST(CgroupFiles, UnlimitedValuesAndErrors) {
  Resources r;
  r.memory = Memory{};
  r.memory->limit = -1;
  r.memory->swap = -1;
  r.pids = Pids{0};
  r.cpu = CPU{};
  r.cpu->period = 20000;
  auto f = cgroup_files(r);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, (Files{{"memory.max", "max"},
                       {"memory.swap.max", "max"},
                       {"cpu.max", "max 20000"},
                       {"pids.max", "max"}}));
  Resources bad;
  bad.unified = StringMap{{"../../etc/passwd", "x"}};
  auto b = cgroup_files(bad);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("invalid file name"), std::string::npos);
  Resources swap;
  swap.memory = Memory{};
  swap.memory->limit = 100;
  swap.memory->swap = 50;
  EXPECT_FALSE(cgroup_files(swap));
}

TEST(SetupCgroup, EnablesControllersAndWritesFiles) {
  // A stand-in hierarchy: cgroupfs files exist before they are written, so
  // pre-create them; setup_cgroup never creates files itself.
  runvm::testing::TempDir tmp;
  const std::string parent = tmp.path();
  std::string dir = parent + "/runvm";
  fs::create_directories(dir);
  for (const char* name : {"memory.max", "pids.max"}) std::ofstream(dir + "/" + name);
  std::ofstream(parent + "/cgroup.subtree_control");
  Resources r;
  r.memory = Memory{};
  r.memory->limit = 1 << 20;
  r.pids = Pids{7};
  auto s = setup_cgroup(r, dir);
  ASSERT_TRUE(s) << s.error().message;
  auto read = [](const std::string& p) {
    std::ifstream f(p);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(read(dir + "/memory.max"), "1048576");
  EXPECT_EQ(read(dir + "/pids.max"), "7");
  // One "+ctrl" per write (what cgroupfs takes), in sorted order, each at offset
  // 0: the regular file shows "+pids" written over "+memory".
  std::string ctl = read(parent + "/cgroup.subtree_control");
  EXPECT_EQ(ctl, "+pidsry");
  r.cpu = CPU{};
  r.cpu->quota = 1000;
  auto missing = setup_cgroup(r, dir);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cpu.max"), std::string::npos) << missing.error().message;
}

}  // namespace
}  // namespace runvm::oci
