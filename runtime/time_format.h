// Timestamps in the forms runc and its logger (logrus) print.
#pragma once

#include <chrono>
#include <string>

namespace runvm::runtime {

// RFC 3339 in UTC with nanoseconds, trailing zeros trimmed as Go's RFC3339Nano:
// "2026-11-22T00:09:44.631078334Z". Used for a container's "created".
[[nodiscard]] std::string rfc3339_nano_utc(std::chrono::system_clock::time_point t);

// RFC 3339 to the second in local time: "2026-11-22T00:09:42Z" or
// "2026-11-22T01:09:42+01:00". logrus's default timestamp in log lines.
[[nodiscard]] std::string rfc3339_local(std::chrono::system_clock::time_point t);

}  // namespace runvm::runtime
