// The supervisor's control socket (<state>/ctl.sock): one JSON request line
// per connection, one JSON reply line.
//   {"op":"start"}                          -> {"ok":true}
//   {"op":"signal","signal":15,"all":false} -> {"ok":true}
//   {"op":"ps"}                             -> {"ok":true,"pids":[...]}
//   {"op":"stats"}                          -> {"ok":true,"stats":{...}} (agent/stats.h)
//   {"op":"update","resources":{...}}       -> {"ok":true}
//   {"op":"pause"}, {"op":"resume"}          -> {"ok":true}
// Failures: {"ok":false,"error":"...","errno":E}.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/file_io.h"
#include "base/result.h"

namespace runvm::runtime::vm {

// Sends `request` and returns the reply (the ok:false case as an Error).
[[nodiscard]] Result<nlohmann::json> control_call(const std::string& socket_path,
                                                  const nlohmann::json& request);

// Server side: a listening socket at `path` (an old file there is replaced).
[[nodiscard]] Result<int> control_listen(const std::string& path);

// Reads one '\n'-terminated line from fd (at most 64 KiB, within timeout_ms).
[[nodiscard]] Result<std::string> read_line(int fd, int timeout_ms);

}  // namespace runvm::runtime::vm
