// Small file and fd helpers every module uses (runtime state, guest-init's
// /proc and cgroup writes, the agent's and the control socket's streams).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace runvm {

// Whole file as a string. Error.err carries errno ("open <path>: ...").
[[nodiscard]] Result<std::string> read_file(const std::string& path);
// The last `max` bytes of a log file on one line (newlines become spaces), for error
// messages; "" when it cannot be read.
[[nodiscard]] std::string log_tail(const std::string& path, size_t max);

// Writes `data` atomically: a temp file in the same directory, fsync, rename over
// `path`, fsync of the directory. Readers see the old or the new file, never a
// partial one; no temp file survives a failure.
[[nodiscard]] Status write_file_atomic(const std::string& path, std::string_view data,
                                       unsigned mode = 0600);

// One write(2) of `value` to an existing file: /proc, sysfs and cgroup files take a
// value per write, and a short write is an error ("write \"max\" to <path>: ...").
[[nodiscard]] Status write_control_file(const std::string& path, std::string_view value);

// Writes all of `data` to a socket or any fd; a socket peer that went away is an
// error (send with MSG_NOSIGNAL), not a SIGPIPE.
[[nodiscard]] Status write_all(int fd, std::string_view data);

}  // namespace runvm
