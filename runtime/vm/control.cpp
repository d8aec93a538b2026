#include "runtime/vm/control.h"

#include "base/unix_address.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace runvm::runtime::vm {

Result<std::string> read_line(int fd, int timeout_ms) {
  std::string line;
  char buf[4096];
  while (line.find('\n') == std::string::npos) {
    pollfd pf{fd, POLLIN, 0};
    int n = ::poll(&pf, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::from_errno("poll");
    if (n == 0) return Error("timed out waiting for a reply", ETIMEDOUT);
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Error::from_errno("read");
    if (r == 0) return Error("connection closed before a full line", EPIPE);
    line.append(buf, static_cast<size_t>(r));
    if (line.size() > 65536) return Error("line too long", EPROTO);
  }
  line.resize(line.find('\n'));
  return line;
}

Result<nlohmann::json> control_call(const std::string& socket_path, const nlohmann::json& request) {
  auto addr = unix_address(socket_path);
  if (!addr) return addr.error();
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::from_errno("socket");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::connect(fd, addr->get(), addr->len) != 0)
    return Error::from_errno("connect to the container's supervisor " + socket_path);
  if (auto ok = write_all(fd, request.dump() + "\n"); !ok) return ok.error().wrap("control socket");
  // Generous: a request may wait for the guest (TCG-emulated test hosts are slow).
  auto line = read_line(fd, 120000);
  if (!line) return line.error().wrap("control socket");
  nlohmann::json reply = nlohmann::json::parse(*line, nullptr, false);
  if (reply.is_discarded() || !reply.is_object())
    return Error("control socket: malformed reply", EPROTO);
  if (!reply.value("ok", false))
    return Error(reply.value("error", std::string("request failed")), reply.value("errno", 0));
  return reply;
}

Result<int> control_listen(const std::string& path) {
  auto addr = unix_address(path);
  if (!addr) return addr.error();
  ::unlink(path.c_str());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::from_errno("socket");
  // Owner only whatever the umask (kill, exec-free control of the container); the mode is
  // set before listen(), so nobody connects in between.
  if (::bind(fd, addr->get(), addr->len) != 0 || ::chmod(path.c_str(), 0600) != 0 ||
      ::listen(fd, 16) != 0) {
    Error e = Error::from_errno("listen on " + path);
    ::close(fd);
    return e;
  }
  return fd;
}

}  // namespace runvm::runtime::vm
