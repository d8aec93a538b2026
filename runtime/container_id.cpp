#include "runtime/container_id.h"

#include <cerrno>
#include <string>

namespace runvm::runtime {

namespace {

// Go's \w is ASCII only; [+-\.] in runc's regex is the range 0x2B..0x2E.
bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         (c >= '+' && c <= '.');
}

}  // namespace

bool is_valid_container_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxContainerIdLength) return false;
  if (id == "." || id == "..") return false;
  for (char c : id) {
    if (!is_id_char(c)) return false;
  }
  return true;
}

Status validate_container_id(std::string_view id) {
  if (is_valid_container_id(id)) return {};
  return Error(std::string(kInvalidIdMessage), EINVAL);
}

}  // namespace runvm::runtime
