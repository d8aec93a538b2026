#include "runtime/time_format.h"

#include <time.h>

#include <cstdio>
#include <cstdlib>

namespace runvm::runtime {

std::string rfc3339_nano_utc(std::chrono::system_clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(ns / 1000000000);
  long frac = static_cast<long>(ns % 1000000000);
  if (frac < 0) {
    frac += 1000000000;
    --secs;
  }
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  if (frac != 0) {
    char digits[16];
    std::snprintf(digits, sizeof digits, ".%09ld", frac);
    std::string f(digits);
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += 'Z';
  return out;
}

std::string rfc3339_local(std::chrono::system_clock::time_point t) {
  time_t secs = std::chrono::system_clock::to_time_t(t);
  struct tm tm {};
  localtime_r(&secs, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  long off = tm.tm_gmtoff;
  if (off == 0) return out + "Z";
  // |offset| < 24 h, so both fields have two digits.
  int hours = static_cast<int>(std::labs(off) / 3600 % 100);
  int minutes = static_cast<int>((std::labs(off) % 3600) / 60);
  char zone[16];
  std::snprintf(zone, sizeof zone, "%c%02d:%02d", off < 0 ? '-' : '+', hours, minutes);
  return out + zone;
}

}  // namespace runvm::runtime
