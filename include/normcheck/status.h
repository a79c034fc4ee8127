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

/// Which kind of error a Status carries. kRefusal: the framework's own refusal of an input its
/// profile defines as an error (PyTorch's "Expected more than 1 value per channel when training");
/// a case that requires a refusal passes only with this kind. kOther: every other error (bad
/// arguments, internal errors, an unsupported problem, a crash, a timeout, a guard violation).
enum class ErrorKind : unsigned char { kNone, kOther, kRefusal };

/// An error message and its kind, or nothing (success).
class Status {
 public:
  Status() = default;
  static Status error(std::string message) { return Status(ErrorKind::kOther, std::move(message)); }
  static Status refusal(std::string message) { return Status(ErrorKind::kRefusal, std::move(message)); }
  bool ok() const { return kind_ == ErrorKind::kNone; }
  explicit operator bool() const { return ok(); }
  ErrorKind kind() const { return kind_; }
  bool is_refusal() const { return kind_ == ErrorKind::kRefusal; }
  const std::string& message() const { return message_; }

 private:
  Status(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) {}
  ErrorKind kind_ = ErrorKind::kNone;
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
