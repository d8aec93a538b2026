// runvm's log: errors and debug lines in the format runc writes with logrus,
// because containerd's shim reads the --log file to report why runvm failed.
//   text: time="2026-11-22T00:09:42Z" level=error msg="container does not exist"
//   json: {"level":"error","msg":"container does not exist","time":"2026-11-22T00:09:42Z"}
// Without --log, lines go to stderr. Not thread-safe: the CLI is single-threaded.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "base/result.h"

namespace runvm::runtime {

enum class LogFormat { kText, kJson };
enum class LogLevel { kDebug, kInfo, kWarning, kError };

// "text" or "json"; anything else is an error naming the value.
[[nodiscard]] Result<LogFormat> parse_log_format(std::string_view s);
[[nodiscard]] std::string_view to_string(LogLevel level);

// One formatted line (with trailing '\n') for `msg` at `level`, stamped `time`.
[[nodiscard]] std::string format_log_line(LogFormat format, LogLevel level, std::string_view msg,
                                          std::string_view time);

class Logger {
 public:
  Logger() = default;
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;
  ~Logger();

  // Opens `path` for appending (created 0644 if missing). Empty path = stderr.
  [[nodiscard]] Status open(const std::string& path, LogFormat format, bool debug);

  void log(LogLevel level, std::string_view msg);
  void debug(std::string_view msg) { log(LogLevel::kDebug, msg); }
  void error(std::string_view msg) { log(LogLevel::kError, msg); }

  // True when lines go to a file rather than stderr.
  bool to_file() const { return file_ != nullptr; }

 private:
  std::FILE* file_ = nullptr;
  LogFormat format_ = LogFormat::kText;
  bool debug_ = false;
};

}  // namespace runvm::runtime
