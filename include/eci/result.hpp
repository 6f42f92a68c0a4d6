// SPDX-License-Identifier: Apache-2.0
// eci::Result<T>: a value or an eci::Error. Every fallible operation returns one.
#pragma once

#include <eci/error.hpp>

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace eci {

/// The one exception Result throws, for a programming error in the caller (check `ok()`
/// first): value() on an error, or error() on a success. Expected failures are never thrown.
class BadResultAccess : public std::exception {
  public:
    /// value() was called on a result holding `error`.
    explicit BadResultAccess(Error error);
    /// error() was called on a success.
    static BadResultAccess error_on_success();

    const char* what() const noexcept override;
    /// The error the result held; for error() on a success, an invalid_argument error that
    /// says so.
    const Error& error() const noexcept { return error_; }

  private:
    BadResultAccess(Error error, std::string what);
    Error error_;
    std::string what_;
};

template <class T>
class [[nodiscard]] Result {
    static_assert(!std::is_same_v<std::decay_t<T>, Error>, "Result<Error> is ambiguous");

  public:
    using value_type = T;

    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
    Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

    bool ok() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & { return check(), std::get<0>(state_); }
    const T& value() const& { return check(), std::get<0>(state_); }
    T&& value() && { return check(), std::get<0>(std::move(state_)); }

    /// The error. On a success, throws BadResultAccess (as value() does on an error).
    const Error& error() const& { return check_error(), std::get<1>(state_); }
    Error& error() & { return check_error(), std::get<1>(state_); }
    Error&& error() && { return check_error(), std::get<1>(std::move(state_)); }

    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }

    template <class U>
    T value_or(U&& fallback) const& {
        return ok() ? std::get<0>(state_) : static_cast<T>(std::forward<U>(fallback));
    }

  private:
    void check() const {
        if (!ok())
            throw BadResultAccess(std::get<1>(state_));
    }
    void check_error() const {
        if (ok())
            throw BadResultAccess::error_on_success();
    }
    std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit

    bool ok() const noexcept { return !error_.has_value(); }
    explicit operator bool() const noexcept { return ok(); }
    void value() const {
        if (error_)
            throw BadResultAccess(*error_);
    }
    /// The error. On a success, throws BadResultAccess.
    const Error& error() const& { return check_error(), *error_; }
    Error& error() & { return check_error(), *error_; }
    Error&& error() && { return check_error(), std::move(*error_); }

  private:
    void check_error() const {
        if (!error_)
            throw BadResultAccess::error_on_success();
    }
    std::optional<Error> error_;
};

}  // namespace eci
