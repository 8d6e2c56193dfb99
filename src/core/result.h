// Errors as values: a small Result<T> with the std::expected vocabulary.
//
// Not std::expected itself: GCC 12 ships it only with -std=c++23 and clang 14
// cannot compile libstdc++'s <expected>. An Error is {code, sys, where}: code a
// portable category, sys the errno / MDB / mbedTLS code, where a string literal.
#pragma once

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace postern::core {

// Categories shared by every folder; each boundary (smtp/replies, pop3/replies,
// http/api) translates them once into its protocol's reply.
enum class Errc {
  full,       // map or disk full, quota exceeded: temporary, retry later
  io,         // I/O failure whose outcome is known (nothing was written)
  fatal,      // outcome unknown (failed commit/fsync, MDB_PANIC): latch and exit
  corrupt,    // data on disk does not parse
  not_found,  // a named thing does not exist
  exists,     // a named thing already exists
  invalid,    // bad input from a user or peer
  busy,       // locked by someone else
  denied,     // not allowed (auth, policy)
  tls,        // TLS library error
};

const char* to_string(Errc code) noexcept;

struct Error {
  Errc code = Errc::io;
  int sys = 0;             // errno, MDB_* or mbedTLS code; 0 when none
  const char* where = "";  // a string literal naming the operation
};

template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : v_(std::in_place_index<0>, value) {}
  Result(T&& value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(const E& error) : v_(std::in_place_index<1>, error) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const E& error() const {
    assert(!has_value());
    return std::get<1>(v_);
  }
  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : T(std::forward<U>(fallback));
  }

 private:
  std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(const E& error) : error_(error) {}
  bool has_value() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const { assert(has_value()); }
  const E& error() const {
    assert(!has_value());
    return *error_;
  }

 private:
  std::optional<E> error_;
};

inline Error make_error(Errc code, const char* where, int sys = 0) noexcept {
  return Error{code, sys, where};
}

}  // namespace postern::core
