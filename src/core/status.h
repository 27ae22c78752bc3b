// Status and Result<T>: the error type of every lathe layer (after LevelDB's Status).
// A Status is cheap when OK; an error carries a code and a message written for the user.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace lathe {

class Status {
 public:
  enum class Code { kOk = 0, kInvalidArgument, kNotFound, kAlreadyExists, kIOError, kCorruption,
                    kUnsupported, kInternal,
                    kConflict,    // the resource is in a state that does not allow the request
                    kThrottled,   // busy: try again later
                    kQuotaExceeded };

  Status() = default;
  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status IOError(std::string m) { return {Code::kIOError, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status Unsupported(std::string m) { return {Code::kUnsupported, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status Throttled(std::string m) { return {Code::kThrottled, std::move(m)}; }
  static Status QuotaExceeded(std::string m) { return {Code::kQuotaExceeded, std::move(m)}; }

  // An error an AWS service declares in its model: its code ("NoSuchEntity",
  // "ValidationException") and HTTP status travel with the Status, so the wire layer never maps
  // by message. `generic` keeps code()-based checks working in layers that know no AWS names.
  static Status Aws(std::string aws_code, int http_status, std::string m, Code generic = Code::kInvalidArgument) {
    Status s(generic, std::move(m));
    s.aws_code_ = std::move(aws_code);
    s.http_status_ = http_status;
    return s;
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "" and 0 unless made by Aws().
  const std::string& aws_code() const { return aws_code_; }
  int http_status() const { return http_status_; }
  // "IO error: cannot open x.jsonl: No such file or directory"
  std::string ToString() const;

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
  std::string aws_code_;
  int http_status_ = 0;
};

// A value or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}             // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}      // NOLINT: must not be OK
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace lathe

#define LATHE_RETURN_IF_ERROR(expr)        \
  do {                                     \
    ::lathe::Status _st = (expr);          \
    if (!_st.ok()) return _st;             \
  } while (0)
