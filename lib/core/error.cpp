// SPDX-License-Identifier: Apache-2.0
#include <eci/error.hpp>
#include <eci/result.hpp>

#include "core/redact.hpp"

#include <fmt/format.h>

namespace eci {

std::string_view to_string(ErrorKind kind) noexcept {
    switch (kind) {
        case ErrorKind::invalid_argument:
            return "invalid_argument";
        case ErrorKind::auth:
            return "auth";
        case ErrorKind::not_found:
            return "not_found";
        case ErrorKind::throttled:
            return "throttled";
        case ErrorKind::timeout:
            return "timeout";
        case ErrorKind::network:
            return "network";
        case ErrorKind::tls:
            return "tls";
        case ErrorKind::protocol:
            return "protocol";
        case ErrorKind::service:
            return "service";
        case ErrorKind::cancelled:
            return "cancelled";
    }
    return "unknown";
}

std::string_view to_string(Dispatch dispatch) noexcept {
    switch (dispatch) {
        case Dispatch::not_applicable:
            return "not_applicable";
        case Dispatch::not_sent:
            return "not_sent";
        case Dispatch::refused:
            return "refused";
        case Dispatch::accepted:
            return "accepted";
        case Dispatch::unknown:
            return "unknown";
    }
    return "unknown";
}

namespace {
class EciCategory final : public std::error_category {
  public:
    const char* name() const noexcept override { return "eci"; }
    std::string message(int value) const override {
        return std::string(to_string(static_cast<ErrorKind>(value)));
    }
};
}  // namespace

const std::error_category& error_category() noexcept {
    static const EciCategory category;
    return category;
}

std::error_code make_error_code(ErrorKind kind) noexcept {
    return {static_cast<int>(kind), error_category()};
}

bool Error::is_retryable() const noexcept {
    switch (kind) {
        case ErrorKind::throttled:
        case ErrorKind::network:
            return true;
        case ErrorKind::service:
            return http_status >= 500 || code == "ServiceUnavailable" || code == "InternalError";
        default:
            return false;
    }
}

std::string Error::to_string() const {
    fmt::memory_buffer out;
    fmt::format_to(std::back_inserter(out), "{}", eci::to_string(kind));
    if (!code.empty())
        fmt::format_to(std::back_inserter(out), " {}", code);
    if (http_status != 0)
        fmt::format_to(std::back_inserter(out), " (HTTP {})", http_status);
    if (!message.empty())
        fmt::format_to(std::back_inserter(out), ": {}", message);
    if (!service_message.empty() && service_message != message)
        // Redacted again: a caller may have filled service_message from server text itself.
        fmt::format_to(std::back_inserter(out), "; service said: {}",
                       detail::redact_secrets(service_message));
    if (dispatch != Dispatch::not_applicable)
        fmt::format_to(std::back_inserter(out), " [dispatch: {}]", eci::to_string(dispatch));
    if (!request_id.empty())
        fmt::format_to(std::back_inserter(out), " [RequestId: {}]", request_id);
    if (!sandbox_id.empty())
        fmt::format_to(std::back_inserter(out), " [sandbox: {}{}]", sandbox_id,
                       sandbox_deleted ? ", deleted" : "");
    if (!endpoint.empty())
        fmt::format_to(std::back_inserter(out), " [endpoint: {}]", endpoint);
    return fmt::to_string(out);
}

Error Error::make(ErrorKind kind, std::string message) {
    Error error;
    error.kind = kind;
    error.message = std::move(message);
    return error;
}

BadResultAccess::BadResultAccess(Error error)
    : error_(std::move(error)), what_("eci::Result::value() on an error: " + error_.to_string()) {}

BadResultAccess::BadResultAccess(Error error, std::string what)
    : error_(std::move(error)), what_(std::move(what)) {}

BadResultAccess BadResultAccess::error_on_success() {
    std::string what = "eci::Result::error() called on a success";
    return BadResultAccess(Error::make(ErrorKind::invalid_argument, what), what);
}

const char* BadResultAccess::what() const noexcept {
    return what_.c_str();
}

}  // namespace eci

fmt::format_context::iterator fmt::formatter<eci::Error>::format(const eci::Error& error,
                                                                 fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(error.to_string(), ctx);
}

fmt::format_context::iterator fmt::formatter<eci::ErrorKind>::format(
    eci::ErrorKind kind, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(eci::to_string(kind), ctx);
}
