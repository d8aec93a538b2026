// Container id rules, as runc applies them: the id names a directory under
// --root, so it must be a single safe path component.
#pragma once

#include <cstddef>
#include <string_view>

#include "base/result.h"

namespace runvm::runtime {

// Longest id accepted: one path component (NAME_MAX).
inline constexpr std::size_t kMaxContainerIdLength = 255;

// runc's message for a malformed id.
inline constexpr std::string_view kInvalidIdMessage = "invalid container ID format";

// True when `id` matches runc's pattern ^[\w+-\.]+$ (letters, digits, '_', and
// the range '+'..'.' which is "+,-."), is not "." or "..", and is at most
// kMaxContainerIdLength bytes.
[[nodiscard]] bool is_valid_container_id(std::string_view id);

// Same check as an error carrying runc's wording (err = EINVAL).
[[nodiscard]] Status validate_container_id(std::string_view id);

}  // namespace runvm::runtime
