// --console-socket: the runtime allocates a pty on the host and hands its master
// to the caller over an AF_UNIX socket with SCM_RIGHTS, as runc does; runvm keeps
// the slave and relays it to the guest's pty.
#pragma once

#include <string>

#include "base/result.h"

namespace runvm::runtime::vm {

// Sends a new pty master to `socket_path`; returns the slave fd (raw mode, so the
// guest's line discipline is the only one).
[[nodiscard]] Result<int> send_pty_master(const std::string& socket_path);

}  // namespace runvm::runtime::vm
