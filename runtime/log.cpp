#include "runtime/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "runtime/time_format.h"

namespace runvm::runtime {

namespace {

// logrus quotes a text value unless every character is one of these.
bool needs_quoting(std::string_view s) {
  for (char c : s) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '/' || c == '@' || c == '^' || c == '+';
    if (!plain) return true;
  }
  return false;
}

// Go's %q for the ASCII range: backslash escapes, \xNN for other control bytes.
// Bytes >= 0x80 are passed through (UTF-8 text stays readable).
std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string text_value(std::string_view s) {
  return needs_quoting(s) ? go_quote(s) : std::string(s);
}

}  // namespace

Result<LogFormat> parse_log_format(std::string_view s) {
  if (s == "text") return LogFormat::kText;
  if (s == "json") return LogFormat::kJson;
  return Error("unknown log-format \"" + std::string(s) + "\" (want text or json)", EINVAL);
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "error";
}

std::string format_log_line(LogFormat format, LogLevel level, std::string_view msg,
                            std::string_view time) {
  if (format == LogFormat::kJson) {
    // nlohmann::json orders keys alphabetically, which is logrus's order too.
    nlohmann::json j = {{"level", to_string(level)}, {"msg", msg}, {"time", time}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  return "time=" + text_value(time) + " level=" + std::string(to_string(level)) +
         " msg=" + text_value(msg) + "\n";
}

Logger::~Logger() {
  if (file_ != nullptr) std::fclose(file_);
}

Status Logger::open(const std::string& path, LogFormat format, bool debug) {
  format_ = format;
  debug_ = debug;
  if (path.empty()) return {};
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Error::from_errno("open log file " + path);
  std::FILE* f = ::fdopen(fd, "a");
  if (f == nullptr) {
    int e = errno;
    ::close(fd);
    return Error::from_errno("open log file " + path, e);
  }
  if (file_ != nullptr) std::fclose(file_);
  file_ = f;
  return {};
}

void Logger::log(LogLevel level, std::string_view msg) {
  if (level == LogLevel::kDebug && !debug_) return;
  std::string line =
      format_log_line(format_, level, msg, rfc3339_local(std::chrono::system_clock::now()));
  std::FILE* out = file_ != nullptr ? file_ : stderr;
  std::fwrite(line.data(), 1, line.size(), out);
  std::fflush(out);
}

}  // namespace runvm::runtime
