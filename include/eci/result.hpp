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

/// Thrown only by Result::value() when the result holds an error: a programming error in
/// the caller (check `ok()` first). Expected failures are never thrown.
class BadResultAccess : public std::exception {
public:
    explicit BadResultAccess(Error error);
    const char* what() const noexcept override;
    const Error& error() const noexcept { return error_; }

private:
    Error error_;
    std::string what_;
};

template <class T>
class [[nodiscard]] Result {
    static_assert(!std::is_same_v<std::decay_t<T>, Error>, "Result<Error> is ambiguous");

public:
    using value_type = T;

    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
    Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

    bool ok() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & { return check(), std::get<0>(state_); }
    const T& value() const& { return check(), std::get<0>(state_); }
    T&& value() && { return check(), std::get<0>(std::move(state_)); }

    /// The error; precondition: !ok().
    const Error& error() const& { return std::get<1>(state_); }
    Error& error() & { return std::get<1>(state_); }
    Error&& error() && { return std::get<1>(std::move(state_)); }

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
        if (!ok()) throw BadResultAccess(std::get<1>(state_));
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
        if (error_) throw BadResultAccess(*error_);
    }
    const Error& error() const& { return *error_; }
    Error& error() & { return *error_; }
    Error&& error() && { return std::move(*error_); }

private:
    std::optional<Error> error_;
};

}  // namespace eci
