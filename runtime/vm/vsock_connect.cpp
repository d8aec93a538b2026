#include "runtime/vm/vsock_connect.h"

#include "base/unix_address.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace runvm::runtime::vm {

Result<int> vsock_connect(const std::string& uds, uint32_t port,
                          std::chrono::milliseconds attempt_timeout) {
  auto addr = unix_address(uds);
  if (!addr) return addr.error().wrap("vsock socket");
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::from_errno("socket");
  auto fail = [fd](Error e) {
    ::close(fd);
    return e;
  };
  if (::connect(fd, addr->get(), addr->len) != 0) return fail(Error::from_errno("connect " + uds));
  std::string req = "CONNECT " + std::to_string(port) + "\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
    return fail(Error::from_errno("send CONNECT to " + uds));
  // Read the reply line byte by byte: what follows it belongs to the stream.
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + attempt_timeout;
  while (line.empty() || line.back() != '\n') {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return fail(Error("no answer to CONNECT " + std::to_string(port), ETIMEDOUT));
    pollfd pf{fd, POLLIN, 0};
    int n = ::poll(&pf, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Error::from_errno("poll"));
    if (n == 0) continue;
    char c;
    ssize_t r = ::read(fd, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail(Error::from_errno("read CONNECT reply"));
    if (r == 0)
      return fail(Error("guest refused vsock port " + std::to_string(port), ECONNREFUSED));
    if (line.size() > 64) return fail(Error("bad CONNECT reply", EPROTO));
    line.push_back(c);
  }
  if (line.rfind("OK ", 0) != 0)
    return fail(Error("CONNECT " + std::to_string(port) + ": " + line.substr(0, line.size() - 1),
                      ECONNREFUSED));
  return fd;
}

Result<int> vsock_connect_retry(const std::string& uds, uint32_t port, std::chrono::seconds timeout,
                                const std::function<Status()>& keep_going) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  Error last("never tried");
  while (std::chrono::steady_clock::now() < deadline) {
    if (keep_going) {
      if (auto ok = keep_going(); !ok) return ok.error();
    }
    auto fd = vsock_connect(uds, port, std::chrono::seconds(30));
    if (fd) return *fd;
    last = fd.error();
    // A CONNECT made before the guest's vsock driver is up waits in the VMM; one refused
    // afterwards means the agent is not listening yet, which it does ~10 ms after its
    // modules are loaded: retry soon (250 ms here cost ~0.1 s of every start).
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Error("guest agent did not answer on vsock port " + std::to_string(port) + " within " +
                   std::to_string(timeout.count()) + " s (last: " + last.message + ")",
               ETIMEDOUT);
}

}  // namespace runvm::runtime::vm
