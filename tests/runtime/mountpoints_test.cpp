// make_mountpoints(): missing destinations are created inside the rootfs and
// nowhere else, whatever symlinks the image holds.
#include "runtime/vm/mountpoints.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/runtime/test_support.h"

namespace runvm::runtime::vm {
namespace {

namespace fs = std::filesystem;

TEST(Mountpoints, MissingDestinationsAreCreatedInsideTheRootfs) {
  testing::TempDir tmp;
  const std::string rootfs = tmp / "rootfs", outside = tmp / "outside";
  fs::create_directories(rootfs + "/etc");
  fs::create_directories(outside);
  fs::create_directory_symlink(outside, rootfs + "/abs-escape");  // absolute: host path
  fs::create_directory_symlink("../../outside", rootfs + "/rel-escape");
  fs::create_directory_symlink("/etc", rootfs + "/etc-link");  // inside, via the root
  auto config = nlohmann::json::parse(R"({"mounts": [
      {"destination": "/proc"}, {"destination": "/dev"}, {"destination": "/dev/pts"},
      {"destination": "/data/vol"}, {"destination": "/abs-escape/x"},
      {"destination": "/rel-escape/y"}, {"destination": "/etc-link/z"},
      {"destination": "/a/../b"}]})");
  make_mountpoints(rootfs, config);
  EXPECT_TRUE(fs::is_directory(rootfs + "/proc"));
  EXPECT_TRUE(fs::is_directory(rootfs + "/dev"));
  EXPECT_FALSE(fs::exists(rootfs + "/dev/pts")) << "below the /dev mount: the guest's business";
  EXPECT_TRUE(fs::is_directory(rootfs + "/data/vol"));
  EXPECT_TRUE(fs::is_directory(rootfs + "/etc/z"));
  EXPECT_TRUE(fs::is_empty(outside)) << "a symlink led outside the rootfs";
  EXPECT_FALSE(fs::exists(tmp / "x"));
  EXPECT_FALSE(fs::exists(tmp / "y"));
}

TEST(Mountpoints, FileBindDestinationsEndInAnEmptyFile) {
  testing::TempDir tmp;
  const std::string rootfs = tmp / "rootfs", outside = tmp / "outside";
  fs::create_directories(rootfs + "/etc");
  fs::create_directories(outside);
  fs::create_directory_symlink(outside, rootfs + "/escape");
  fs::create_symlink(outside + "/dangling", rootfs + "/etc/dangling");
  std::ofstream(rootfs + "/etc/hosts") << "keep";
  auto config = nlohmann::json::parse(R"({"mounts": [
      {"destination": "/etc/resolv.conf"}, {"destination": "/etc/hosts"},
      {"destination": "/run/secrets/token"}, {"destination": "/escape/f"},
      {"destination": "/etc/dangling"}, {"destination": "/data"}]})");
  make_mountpoints(
      rootfs, config,
      {"/etc/resolv.conf", "/etc/hosts", "/run/secrets/token", "/escape/f", "/etc/dangling"});
  EXPECT_TRUE(fs::is_regular_file(rootfs + "/etc/resolv.conf"));
  EXPECT_EQ(fs::file_size(rootfs + "/etc/resolv.conf"), 0u);
  EXPECT_EQ(fs::file_size(rootfs + "/etc/hosts"), 4u) << "an existing file is left as it is";
  EXPECT_TRUE(fs::is_directory(rootfs + "/run/secrets"));
  EXPECT_TRUE(fs::is_regular_file(rootfs + "/run/secrets/token"));
  EXPECT_TRUE(fs::is_directory(rootfs + "/data"));
  EXPECT_TRUE(fs::is_empty(outside)) << "a symlink led outside the rootfs";
  EXPECT_TRUE(fs::is_symlink(rootfs + "/etc/dangling"));
}

TEST(Mountpoints, NoRootfsOrNoMountsIsHarmless) {
  testing::TempDir tmp;
  make_mountpoints(tmp / "missing", nlohmann::json::parse(R"({"mounts":[{"destination":"/x"}]})"));
  make_mountpoints(tmp.path(), nlohmann::json::object());
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

}  // namespace
}  // namespace runvm::runtime::vm
