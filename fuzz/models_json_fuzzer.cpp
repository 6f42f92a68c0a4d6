// SPDX-License-Identifier: Apache-2.0
// ECI JSON responses -> models: the one-pass reply reader (parse_reply), the body parser with
// its depth limit, every response model, the error-reply parser and list-valued string
// fields. Everything here is what a hostile or broken server controls. Invariants: nothing
// throws or crashes; a model that parsed serializes and parses back.
#include "fuzz_input.hpp"

#include "core/models_json.hpp"
#include "core/service_error.hpp"

#include <boost/json/value.hpp>

namespace {

template <class Response>
void parse_as(const boost::json::value& body) {
    auto parsed = eci::detail::from_json<Response>(body);
    if (!parsed.ok())
        return;
    // What we parsed we can write, and read back.
    const boost::json::value written = eci::detail::to_json(*parsed);
    eci::fuzz::require(eci::detail::from_json<Response>(written).ok());
}

// The one-pass reader on the raw text, as the client reads every reply.
template <class Response>
void parse_reply_as(std::string_view text) {
    auto parsed = eci::detail::parse_reply<Response>(text);
    if (!parsed.ok())
        return;
    const boost::json::value written = eci::detail::to_json(*parsed);
    eci::fuzz::require(eci::detail::from_json<Response>(written).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = eci::fuzz::as_text(data, size);

    // An error reply (any status): never fails, only classifies.
    const eci::Error error = eci::detail::error_from_response(400, text, "fuzz:443");
    (void)error.to_string();
    (void)eci::detail::sanitized_excerpt(text);
    (void)eci::detail::parse_json_array_string(text, "ContainerGroupIds");

    parse_reply_as<eci::DescribeContainerGroupsResponse>(text);
    parse_reply_as<eci::ExecContainerCommandResponse>(text);

    auto body = eci::detail::parse_success_body(text);
    if (!body.ok())
        return 0;
    parse_as<eci::CreateContainerGroupResponse>(*body);
    parse_as<eci::DescribeContainerGroupsResponse>(*body);
    parse_as<eci::DeleteContainerGroupResponse>(*body);
    parse_as<eci::RestartContainerGroupResponse>(*body);
    parse_as<eci::ExecContainerCommandResponse>(*body);
    parse_as<eci::DescribeContainerLogResponse>(*body);
    return 0;
}
