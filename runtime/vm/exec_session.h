// `runvm exec`: one more process in a running container's microVM. The runtime
// connects to the guest agent itself (the VM's vsock socket), starts the process
// and relays its stdio, signals and exit status; the supervisor is not involved.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "oci/state.h"

namespace runvm::runtime::vm {

struct ExecIo {
  bool detach = false;         // a background runvm process holds the session
  std::string pid_file;        // gets the pid of the process standing for the exec
  std::string console_socket;  // terminal processes: where the pty master goes
};

// Foreground: returns the process's exit status (128+N when killed by signal N).
// Detached: returns 0 once the process runs; the background runvm process named
// in pid_file exits with that status later.
[[nodiscard]] Result<int> exec_in_vm(const oci::State& state, const nlohmann::json& process,
                                     const ExecIo& io);

}  // namespace runvm::runtime::vm
