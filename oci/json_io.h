// Private to oci/: a JSON reader that tracks the JSON path of every value it
// reads, and the matching writer. Types take part by providing a
//   template <class V> void fields(V& v, T& s) { v("key", s.member); ... }
// overload in namespace runvm::oci::detail; one such list serves both directions.
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace runvm::oci::detail {

using json = nlohmann::json;

// Decodes JSON text; syntax errors become
// "invalid JSON: parse error at line L, column C: ..." with err = EINVAL.
Result<json> decode(std::string_view text);
// "null", "boolean", "number", "string", "array", "object".
std::string_view type_name(const json& j);
// JSON-quoted string (invalid UTF-8 replaced), for messages: unknown action "X".
std::string quote(std::string_view s);
// Path joins: join("linux", "seccomp") = "linux.seccomp"; index("args", 1) = "args[1]";
// key("annotations", "a.b") = annotations["a.b"].
std::string join(const std::string& base, std::string_view name);
std::string index(const std::string& base, size_t i);
std::string key(const std::string& base, std::string_view k);

template <class T>
constexpr std::string_view int_type_name() {
  if constexpr (std::is_same_v<T, uint16_t>) return "uint16";
  if constexpr (std::is_same_v<T, uint32_t>) return "uint32";
  if constexpr (std::is_same_v<T, uint64_t>) return "uint64";
  if constexpr (std::is_same_v<T, int32_t>) return "int32";
  if constexpr (std::is_same_v<T, int64_t>) return "int64";
  return "integer";
}

template <class T>
concept HasFields = requires(T& t, int& v) {
  fields(v, t);
};

// Reads JSON into typed values; stops at the first error, which names its path.
class Reader {
 public:
  std::optional<Error> err;

  void fail(const std::string& path, std::string_view reason) {
    if (err) return;
    err = Error(path.empty() ? std::string(reason) : path + ": " + std::string(reason));
  }

  bool expect_object(const json& j, const std::string& path) {
    if (j.is_object()) return true;
    fail(path, "expected object, got " + std::string(type_name(j)));
    return false;
  }

  void read(const json& j, const std::string& path, bool& out) {
    if (j.is_boolean()) {
      out = j.get<bool>();
    } else {
      fail(path, "expected boolean, got " + std::string(type_name(j)));
    }
  }

  void read(const json& j, const std::string& path, std::string& out) {
    if (j.is_string()) {
      out = j.get_ref<const std::string&>();
    } else {
      fail(path, "expected string, got " + std::string(type_name(j)));
    }
  }

  template <std::integral T>
  requires(!std::is_same_v<T, bool>) void read(const json& j, const std::string& path, T& out) {
    using Lim = std::numeric_limits<T>;
    if (j.is_number_unsigned()) {
      uint64_t v = j.get<uint64_t>();
      if (v > static_cast<uint64_t>(Lim::max())) {
        fail(path, std::to_string(v) + " is out of range for " + std::string(int_type_name<T>()));
        return;
      }
      out = static_cast<T>(v);
    } else if (j.is_number_integer()) {
      int64_t v = j.get<int64_t>();  // negative, or "-0"
      if ((v < 0 && !Lim::is_signed) || v < static_cast<int64_t>(Lim::min())) {
        fail(path, std::to_string(v) + " is out of range for " + std::string(int_type_name<T>()));
        return;
      }
      out = static_cast<T>(v);
    } else if (j.is_number_float()) {
      fail(path, "expected integer, got " + j.dump());
    } else {
      fail(path, "expected integer, got " + std::string(type_name(j)));
    }
  }

  template <class T>
  void read(const json& j, const std::string& path, std::vector<T>& out) {
    if (!j.is_array()) {
      fail(path, "expected array, got " + std::string(type_name(j)));
      return;
    }
    out.clear();
    out.reserve(j.size());
    for (size_t i = 0; i < j.size() && !err; ++i) {
      T v{};
      read(j[i], index(path, i), v);
      out.push_back(std::move(v));
    }
  }

  template <class T>
  void read(const json& j, const std::string& path, std::map<std::string, T>& out) {
    if (!expect_object(j, path)) return;
    out.clear();
    for (auto it = j.begin(); it != j.end() && !err; ++it) {
      T v{};
      read(it.value(), key(path, it.key()), v);
      out.emplace(it.key(), std::move(v));
    }
  }

  template <HasFields T>
  void read(const json& j, const std::string& path, T& out) {
    if (!expect_object(j, path)) return;
    FieldReader fr{*this, j, path};
    fields(fr, out);
  }

  // A member: absent or null leaves `out` untouched (its default).
  template <class T>
  void field(const json& obj, const std::string& path, std::string_view name, T& out) {
    if (err) return;
    auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) return;
    read(*it, join(path, name), out);
  }
  template <class T>
  void field(const json& obj, const std::string& path, std::string_view name,
             std::optional<T>& out) {
    if (err) return;
    auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) return;
    T v{};
    read(*it, join(path, name), v);
    if (!err) out = std::move(v);
  }

 private:
  struct FieldReader {
    Reader& r;
    const json& obj;
    const std::string& path;
    template <class T>
    void operator()(std::string_view name, T& member) {
      r.field(obj, path, name, member);
    }
  };
};

// Writes typed values as JSON of type J (nlohmann::json or nlohmann::ordered_json).
// Non-optional members are always written; optional ones only when set.
template <class J>
struct Writer {
  J val(const std::string& s) const { return J(s); }
  J val(bool b) const { return J(b); }
  template <std::integral T>
  requires(!std::is_same_v<T, bool>) J val(T v)
  const { return J(v); }
  template <class T>
  J val(const std::vector<T>& v) const {
    J a = J::array();
    for (const auto& e : v) a.push_back(val(e));
    return a;
  }
  template <class T>
  J val(const std::map<std::string, T>& m) const {
    J o = J::object();
    for (const auto& [k, v] : m) o[k] = val(v);
    return o;
  }
  template <HasFields T>
  J val(const T& s) const {
    J o = J::object();
    FieldWriter fw{*this, o};
    // fields() is shared with Reader and takes a mutable reference; it only reads here.
    fields(fw, const_cast<T&>(s));
    return o;
  }

 private:
  struct FieldWriter {
    const Writer& w;
    J& o;
    template <class T>
    void operator()(std::string_view name, const T& member) {
      o[std::string(name)] = w.val(member);
    }
    template <class T>
    void operator()(std::string_view name, const std::optional<T>& member) {
      if (member) o[std::string(name)] = w.val(*member);
    }
  };
};

}  // namespace runvm::oci::detail
