// Fixture: a share directory (served by PassthroughFs through a FuseServer)
// next to an "outside" directory holding a secret the guest must never reach.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>

#include "tests/support/temp_dir.h"
#include "tests/vmm/fs/fuse_client.h"
#include "vmm/devices/virtio/fs/passthrough_fs.h"

namespace runvm::vmm::virtio::fs::testing {

using runvm::testing::TempDir;

inline void write_file(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

class FsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    share_ = tmp_ / "share";
    outside_ = tmp_ / "outside";
    ASSERT_EQ(::mkdir(share_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(outside_.c_str(), 0755), 0);
    write_file(outside_ + "/secret", "top secret");
    auto fs = PassthroughFs::create(share_, options());
    ASSERT_TRUE(fs.ok()) << fs.error().what();
    fs_ = *fs;
    client_ = std::make_unique<FuseClient>(wrap(fs_));
    ASSERT_EQ(client_->init().error(), 0);
  }
  // Subclasses may set the share's options (policy tests) or serve a wrapper
  // instead (read-only tests).
  virtual PassthroughOptions options() const { return {}; }
  virtual std::shared_ptr<FileSystem> wrap(std::shared_ptr<FileSystem> fs) { return fs; }

  std::string in_share(const std::string& rel) const { return share_ + "/" + rel; }
  FuseClient& c() { return *client_; }

  TempDir tmp_;
  std::string share_, outside_;
  std::shared_ptr<PassthroughFs> fs_;
  std::unique_ptr<FuseClient> client_;
};

}  // namespace runvm::vmm::virtio::fs::testing
