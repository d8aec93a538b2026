// A sockaddr_un for any path length. sun_path holds 107 bytes, but a container's state
// directory can be longer (Docker's --root plus a 64-hex id is 98 bytes before the socket's
// name), so a path that does not fit is reached through its directory's O_PATH fd as
// "/proc/self/fd/N/<name>". Keep the UnixAddress alive until bind()/connect() returns.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace runvm {

struct UnixAddress {
  sockaddr_un addr{};
  socklen_t len = 0;
  UniqueFd dir;  // the parent directory when the path went through /proc/self/fd

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&addr); }
};

// Errors: an empty path, a name alone longer than sun_path, a missing parent directory.
[[nodiscard]] Result<UnixAddress> unix_address(const std::string& path);

}  // namespace runvm
