// runvm's one error style: an Error carries a human message (a context chain
// "create abc: load config.json: process.args: ...") and the errno that caused it
// (0 when there is none). Result<T> holds either a T or an Error.
//
// Usage:
//   [[nodiscard]] Result<int> f();
//   auto r = f();
//   if (!r) return r.error().wrap("doing f");
//   use(*r);
//
// Shared by every module (oci, runtime, vmm, agent, guest-init): base/, namespace runvm.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace runvm {

struct Error {
  std::string message;
  int err = 0;  // errno value, 0 if not an OS error

  Error() = default;
  explicit Error(std::string msg, int e = 0) : message(std::move(msg)), err(e) {}

  // "ctx: message", keeping err. Use to add context while propagating upward.
  [[nodiscard]] Error wrap(std::string_view ctx) const& {
    return Error(std::string(ctx) + ": " + message, err);
  }
  [[nodiscard]] Error wrap(std::string_view ctx) && {
    std::string m(ctx);
    m += ": ";
    m += message;
    return Error(std::move(m), err);
  }

  // "ctx: strerror(e)" with err = e. Call right after the failing syscall: from_errno("open " + p).
  [[nodiscard]] static Error from_errno(std::string_view ctx, int e = errno) {
    std::string m(ctx);
    m += ": ";
    m += std::strerror(e);
    return Error(std::move(m), e);
  }

  const std::string& what() const { return message; }
};

// Either a value or an Error. Implicitly constructible from both, so a function
// returning Result<T> can `return value;` or `return Error("...");`.
template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cvref_t<T>, Error>, "Result<Error> is not allowed");

 public:
  Result(const T& v) : v_(std::in_place_index<0>, v) {}  // NOLINT(google-explicit-constructor)
  Result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}      // NOLINT
  Result(const Error& e) : v_(std::in_place_index<1>, e) {}        // NOLINT
  Result(Error&& e) : v_(std::in_place_index<1>, std::move(e)) {}  // NOLINT
  template <class U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, T> &&
           !std::is_same_v<std::remove_cvref_t<U>, Error> &&
           !std::is_same_v<std::remove_cvref_t<U>, Result>) Result(U&& u)
      : v_(std::in_place_index<0>, T(std::forward<U>(u))) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Precondition for value()/operator*: ok(). Precondition for error(): !ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

  template <class U>
  T value_or(U&& fallback) const& {
    return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> v_;
};

// Success-or-error for functions with no value: `return {};` for success.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(const Error& e) : e_(e), ok_(false) {}        // NOLINT
  Result(Error&& e) : e_(std::move(e)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { return e_; }
  Error&& error() && { return std::move(e_); }

 private:
  Error e_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace runvm
