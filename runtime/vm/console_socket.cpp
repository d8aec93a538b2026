#include "runtime/vm/console_socket.h"

#include "base/unix_address.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace runvm::runtime::vm {

namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  int release() {
    int f = fd;
    fd = -1;
    return f;
  }
};

Status send_fd(int sock, int fd, const std::string& name) {
  char byte_name[256];
  std::snprintf(byte_name, sizeof byte_name, "%s", name.c_str());
  iovec iov{byte_name, std::strlen(byte_name)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (::sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) return Error::from_errno("send the pty master");
  return {};
}

}  // namespace

Result<int> send_pty_master(const std::string& socket_path) {
  Fd master{::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)};
  if (master.fd < 0) return Error::from_errno("open a pty");
  if (::grantpt(master.fd) != 0 || ::unlockpt(master.fd) != 0)
    return Error::from_errno("unlock the pty");
  char name[128];
  if (::ptsname_r(master.fd, name, sizeof name) != 0) return Error::from_errno("name the pty");
  Fd slave{::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)};
  if (slave.fd < 0) return Error::from_errno(std::string("open ") + name);
  termios t{};
  if (::tcgetattr(slave.fd, &t) == 0) {
    ::cfmakeraw(&t);
    ::tcsetattr(slave.fd, TCSANOW, &t);
  }
  auto addr = unix_address(socket_path);
  if (!addr) return addr.error().wrap("console socket");
  Fd sock{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (sock.fd < 0) return Error::from_errno("socket");
  if (::connect(sock.fd, addr->get(), addr->len) != 0) {
    return Error::from_errno("connect to the console socket " + socket_path);
  }
  if (auto ok = send_fd(sock.fd, master.fd, name); !ok) return ok.error();
  return slave.release();
}

}  // namespace runvm::runtime::vm
