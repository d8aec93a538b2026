#include "oci/json_io.h"

#include <cerrno>

namespace runvm::oci::detail {

Result<json> decode(std::string_view text) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    // parse_error, and out_of_range for a number that overflows (1E400).
    std::string m = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix.
    if (auto p = m.find("] "); p != std::string::npos && m.rfind("[json.exception", 0) == 0) {
      m.erase(0, p + 2);
    }
    return Error("invalid JSON: " + m, EINVAL);
  }
}

std::string_view type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "number";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    default:
      return "binary";
  }
}

std::string quote(std::string_view s) {
  return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string join(const std::string& base, std::string_view name) {
  if (base.empty()) return std::string(name);
  std::string p = base;
  p += '.';
  p += name;
  return p;
}

std::string index(const std::string& base, size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

std::string key(const std::string& base, std::string_view k) {
  return base + "[" + quote(k) + "]";
}

}  // namespace runvm::oci::detail
