// Host-initiated connections into the guest through runvm-vmm's hybrid vsock
// unix socket: connect, send "CONNECT <port>\n", expect "OK <n>\n".
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "base/result.h"

namespace runvm::runtime::vm {

// One attempt; on success returns the connected fd (a byte stream to the guest
// listener). attempt_timeout bounds the wait for the "OK" line.
[[nodiscard]] Result<int> vsock_connect(const std::string& uds, uint32_t port,
                                        std::chrono::milliseconds attempt_timeout);

// Retries until the guest listens or `timeout` passes. `keep_going` is asked
// between attempts (e.g. "is the VMM still alive?"); when it returns an error
// that error is returned at once.
[[nodiscard]] Result<int> vsock_connect_retry(const std::string& uds, uint32_t port,
                                              std::chrono::seconds timeout,
                                              const std::function<Status()>& keep_going);

}  // namespace runvm::runtime::vm
