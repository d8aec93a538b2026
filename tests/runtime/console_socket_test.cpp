// send_pty_master(): the caller gets a working pty master over SCM_RIGHTS, and
// bytes written to it reach the slave runvm keeps (and back).
#include "runtime/vm/console_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace runvm::runtime::vm {
namespace {

int receive_fd(int conn) {
  char name[256];
  iovec iov{name, sizeof name};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(conn, &msg, 0) <= 0) return -1;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

TEST(ConsoleSocket, MasterArrivesAndCarriesBytesBothWays) {
  runvm::testing::TempDir dir;
  const std::string path = dir / "console.sock";
  int listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, path.c_str());
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  int master = -1;
  std::thread receiver([&] {
    int conn = ::accept(listener, nullptr, nullptr);
    master = receive_fd(conn);
    ::close(conn);
  });
  auto slave = send_pty_master(path);
  receiver.join();
  ASSERT_TRUE(slave) << slave.error().message;
  ASSERT_GE(master, 0);
  EXPECT_TRUE(::isatty(master));
  ASSERT_EQ(::write(master, "typed\n", 6), 6);
  char buf[16] = {};
  // Raw slave: the bytes arrive as typed (no echo back, no line editing).
  EXPECT_EQ(::read(*slave, buf, sizeof buf), 6);
  EXPECT_STREQ(buf, "typed\n");
  ASSERT_EQ(::write(*slave, "out", 3), 3);
  char back[8] = {};
  EXPECT_EQ(::read(master, back, sizeof back), 3);
  EXPECT_STREQ(back, "out");
  ::close(master);
  ::close(*slave);
  ::close(listener);
}

TEST(ConsoleSocket, MissingSocketNamesThePath) {
  auto r = send_pty_master("/nonexistent-dir/console.sock");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("/nonexistent-dir/console.sock"), std::string::npos);
}

}  // namespace
}  // namespace runvm::runtime::vm
