// share_bind_mounts(): host directories bound into the container become extra
// virtio-fs shares; everything else about the mounts list stays as it was.
#include "runtime/vm/volumes.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/runtime/test_support.h"

namespace runvm::runtime::vm {
namespace {

namespace fs = std::filesystem;

class Volumes : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ + "/data");
    fs::create_directories(dir_ + "/bundle/cache");
    std::ofstream(dir_ + "/file.txt") << "x";
  }
  testing::TempDir tmp_;
  const std::string dir_ = tmp_.path();
};

TEST_F(Volumes, DirectoryBindsBecomeShares) {
  auto config = nlohmann::json::parse(R"({"mounts": [
      {"destination": "/proc", "type": "proc", "source": "proc"},
      {"destination": "/data", "type": "bind", "source": ")" +
                                      dir_ + R"(/data", "options": ["rbind", "ro", "nosuid"]},
      {"destination": "/cache", "source": "cache", "options": ["bind"]}]})");
  auto v = share_bind_mounts(config, dir_ + "/bundle");
  ASSERT_TRUE(v) << v.error().message;
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ((*v)[0].tag, "runvm-vol0");
  EXPECT_EQ((*v)[0].host_path, dir_ + "/data");
  EXPECT_TRUE((*v)[0].readonly);
  EXPECT_EQ((*v)[1].tag, "runvm-vol1");
  EXPECT_EQ((*v)[1].host_path, dir_ + "/bundle/cache");  // relative to the bundle
  EXPECT_FALSE((*v)[1].readonly);
  EXPECT_EQ(config["mounts"][0]["type"], "proc");
  EXPECT_EQ(config["mounts"][1], nlohmann::json::parse(
                                     R"({"destination": "/data", "type": "virtiofs",
                                         "source": "runvm-vol0", "options": ["ro", "nosuid"]})"));
  EXPECT_EQ(config["mounts"][2]["type"], "virtiofs");
  EXPECT_EQ(config["mounts"][2]["source"], "runvm-vol1");
  EXPECT_EQ(config["mounts"][2]["options"], nlohmann::json::array());
}

TEST_F(Volumes, SymlinkedSourceIsShareByItsRealPath) {
  fs::create_directory_symlink(dir_ + "/data", dir_ + "/link");
  auto config = nlohmann::json::parse(
      R"({"mounts": [{"destination": "/d", "type": "bind", "source": ")" + dir_ + R"(/link"}]})");
  auto v = share_bind_mounts(config, dir_);
  ASSERT_TRUE(v);
  EXPECT_EQ((*v)[0].host_path, dir_ + "/data");
}

TEST_F(Volumes, MissingSourceAndFilesAreNamed) {
  auto missing = nlohmann::json::parse(
      R"({"mounts": [{"destination": "/x", "type": "bind", "source": "/nonexistent/vol"}]})");
  auto r = share_bind_mounts(missing, dir_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "mounts[0].source \"/nonexistent/vol\": No such file or directory");
  auto file =
      nlohmann::json::parse(R"({"mounts": [{"destination": "/etc/f", "type": "bind", "source": ")" +
                            dir_ + R"(/file.txt"}]})");
  auto f = share_bind_mounts(file, dir_);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().err, ENOTSUP);
  EXPECT_NE(f.error().message.find("only directories"), std::string::npos);
}

TEST_F(Volumes, NoMountsNoShares) {
  nlohmann::json config = nlohmann::json::object();
  auto v = share_bind_mounts(config, dir_);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->empty());
}

}  // namespace
}  // namespace runvm::runtime::vm
