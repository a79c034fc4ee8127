#pragma once
/// Errors as values. User errors (bad shapes, bad descriptors, bad files) travel as Status /
/// Expected<T> with an "Expected X, but got Y" message; internal invariants use NC_CHECK, which is
/// always on and aborts with the failed condition.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace normcheck {

/// An error message, or nothing (success).
class Status {
 public:
  Status() = default;
  static Status error(std::string message) { return Status(std::move(message)); }
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& message() const { return message_; }

 private:
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

/// A value or the Status that explains why there is none.
template <class T>
class Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design, like std::expected
  Expected(Status error) : v_(std::move(error)) {
    if (std::get<Status>(v_).ok()) v_ = Status::error("internal: Expected built from an ok Status");
  }
  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  const std::string& message() const { return status().message(); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

namespace detail {
[[noreturn]] inline void check_failed(const char* cond, const char* file, int line, const std::string& msg) {
  std::fprintf(stderr, "normcheck internal error at %s:%d: check '%s' failed%s%s\n", file, line, cond,
               msg.empty() ? "" : ": ", msg.c_str());
  std::abort();
}
}  // namespace detail

}  // namespace normcheck

/// Always-on internal invariant (never for user input: that gets a Status).
#define NC_CHECK(cond, ...)                                                                   \
  do {                                                                                        \
    if (!(cond)) ::normcheck::detail::check_failed(#cond, __FILE__, __LINE__, std::string(__VA_ARGS__)); \
  } while (0)

/// Propagates a failed Status from an expression that yields one.
#define NC_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::normcheck::Status nc_status_ = (expr);  \
    if (!nc_status_.ok()) return nc_status_;  \
  } while (0)
