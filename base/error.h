// Errors as values for every layer: a Linux errno with a message for humans, ErrorOr<T>
// (SerenityOS style; std::expected is C++23) and TRY, which returns an error to the caller.
#pragma once
#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace base {

// An error carried as a value: a Linux errno plus a message for humans.
struct Error {
    int errno_value = 0;  // positive errno (ENOMEM, EFAULT, ...)
    std::string message;
    static Error from_errno(int e, std::string msg = {}) { return Error{e, std::move(msg)}; }
};

// ErrorOr<T>: a T or an Error.
template <class T>
class [[nodiscard]] ErrorOr {
public:
    ErrorOr(T v) : v_(std::move(v)) {}
    ErrorOr(Error e) : v_(std::move(e)) {}
    bool is_error() const { return std::holds_alternative<Error>(v_); }
    explicit operator bool() const { return !is_error(); }
    T& value() { return std::get<T>(v_); }
    const T& value() const { return std::get<T>(v_); }
    T release_value() { return std::move(std::get<T>(v_)); }
    const Error& error() const { return std::get<Error>(v_); }
    Error release_error() { return std::move(std::get<Error>(v_)); }
    T* operator->() { return &value(); }
    T& operator*() { return value(); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] ErrorOr<void> {
public:
    ErrorOr() = default;
    ErrorOr(Error e) : err_(std::move(e)), has_err_(true) {}
    bool is_error() const { return has_err_; }
    explicit operator bool() const { return !has_err_; }
    const Error& error() const { return err_; }
    Error release_error() { return std::move(err_); }
    void release_value() {}

private:
    Error err_;
    bool has_err_ = false;
};

// What a syscall or VFS operation returns for e: -errno, EIO when e carries none.
inline long negative_errno(const Error& e) { return -(e.errno_value ? e.errno_value : EIO); }

}  // namespace base

// TRY(expr): the value of an ErrorOr expression, or return its error from the enclosing
// function (a GNU statement expression, as SerenityOS's TRY).
#define TRY(expr)                                                       \
    ({                                                                  \
        auto _try_result = (expr);                                      \
        if (_try_result.is_error()) return _try_result.release_error(); \
        _try_result.release_value();                                    \
    })

// TRY_ERRNO(expr): as TRY, in a function that returns a negative errno (a syscall or a
// filesystem operation at the VFS boundary): an error leaves as base::negative_errno.
#define TRY_ERRNO(expr)                                                               \
    ({                                                                                \
        auto _try_result = (expr);                                                    \
        if (_try_result.is_error()) return base::negative_errno(_try_result.error()); \
        _try_result.release_value();                                                  \
    })
