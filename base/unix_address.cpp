#include "base/unix_address.h"

#include <fcntl.h>

#include <cstddef>
#include <cstring>

#include "base/path_components.h"

namespace runvm {

namespace {

bool fill(UnixAddress& a, const std::string& p) {
  if (p.size() >= sizeof a.addr.sun_path) return false;
  a.addr.sun_family = AF_UNIX;
  std::memcpy(a.addr.sun_path, p.c_str(), p.size() + 1);
  a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + p.size() + 1);
  return true;
}

}  // namespace

Result<UnixAddress> unix_address(const std::string& path) {
  UnixAddress a;
  if (path.empty()) return Error("empty unix socket path", EINVAL);
  if (fill(a, path)) return a;
  auto slash = path.rfind('/');
  std::string dir = parent_directory(path);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::from_errno("unix socket directory " + dir);
  a.dir = UniqueFd(fd);
  if (!fill(a, "/proc/self/fd/" + std::to_string(fd) + "/" + name))
    return Error("unix socket name too long: " + path, ENAMETOOLONG);
  return a;
}

}  // namespace runvm
