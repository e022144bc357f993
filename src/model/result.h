// Error and Result<T>: how failures cross a boundary (config loading, the control socket, later
// the API): a XenAPI-style error code plus the offending values, returned as a value, not thrown.
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace hvnet {

struct Error {
  std::string code;                 // e.g. "VLAN_TAG_INVALID"
  std::vector<std::string> params;  // the offending values, in XenAPI's order

  std::string to_string() const {
    std::string s = code;
    for (const auto& p : params) s += " " + p;
    return s;
  }
};

inline Error make_error(std::string code, std::vector<std::string> params = {}) {
  return Error{std::move(code), std::move(params)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error e) : v_(std::move(e)) {}
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() {
  return Unit{};
}

}  // namespace hvnet
