#include "runtime/process_liveness.h"

#include <fstream>
#include <sstream>
#include <string>

namespace runvm::runtime {

std::optional<uint64_t> process_start_time(int pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return std::nullopt;
  std::string line;
  std::getline(in, line);
  // Field 2 (comm) is parenthesised and may contain spaces or ')': the fields
  // after it start behind the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  std::string state;
  rest >> state;  // field 3
  if (state == "Z" || state == "X" || state == "x") return std::nullopt;
  std::string skip;
  for (int field = 4; field < 22; ++field) rest >> skip;
  uint64_t start = 0;
  if (!(rest >> start)) return std::nullopt;
  return start;
}

bool process_alive(int pid, uint64_t start_time) {
  auto now = process_start_time(pid);
  if (!now) return false;
  return start_time == 0 || *now == start_time;
}

}  // namespace runvm::runtime
