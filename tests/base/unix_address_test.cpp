#include "base/unix_address.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "tests/support/temp_dir.h"

namespace runvm {
namespace {

// A directory whose path is longer than sun_path, as Docker's state dirs are.
class LongDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = top_.path() + "/" + std::string(64, 'a') + "/" + std::string(64, 'b');
    ASSERT_EQ(::mkdir((top_.path() + "/" + std::string(64, 'a')).c_str(), 0700), 0);
    ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
  }
  runvm::testing::TempDir top_;
  std::string dir_;
};

TEST_F(LongDir, ShortPathIsUsedAsItIs) {
  auto a = unix_address("/tmp/x.sock");
  ASSERT_TRUE(a);
  EXPECT_STREQ(a->addr.sun_path, "/tmp/x.sock");
  EXPECT_FALSE(a->dir.valid());
}

TEST_F(LongDir, LongPathBindsAndConnectsThroughTheDirectoryFd) {
  const std::string path = dir_ + "/vsock.sock";
  ASSERT_GT(path.size(), sizeof(sockaddr_un::sun_path));
  auto a = unix_address(path);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_TRUE(a->dir.valid());
  UniqueFd srv(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::bind(srv.get(), a->get(), a->len), 0) << errno;
  ASSERT_EQ(::listen(srv.get(), 1), 0);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0) << "the socket is at the long path itself";
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  auto c = unix_address(path);
  ASSERT_TRUE(c);
  UniqueFd cli(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(::connect(cli.get(), c->get(), c->len), 0) << errno;
}

TEST_F(LongDir, ErrorsNameThePath) {
  auto missing = unix_address(dir_ + "/nope/" + std::string(40, 'c') + "/x.sock");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nope/"), std::string::npos);
  auto name = unix_address(dir_ + "/" + std::string(120, 'n'));
  ASSERT_FALSE(name);
  EXPECT_EQ(name.error().err, ENAMETOOLONG);
  EXPECT_FALSE(unix_address(""));
}

}  // namespace
}  // namespace runvm
