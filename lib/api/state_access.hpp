// SPDX-License-Identifier: Apache-2.0
// detail::StateAccess: the library's one way into a public handle's private state.
//
// The public handles (OpenApiClient, AsyncEciSandbox) keep their shared State private, so a
// user cannot reach or forge it; the library's own layers reach it through this friend.
#pragma once

#include <memory>
#include <utility>

namespace eci::detail {

struct StateAccess {
    /// The handle's shared state (OpenApiClient::State, AsyncEciSandbox::State).
    template <class Handle>
    static const auto& state(const Handle& handle) noexcept {
        return handle.state_;
    }
    /// A handle around `state` (the handles' constructors from State are private).
    template <class Handle, class State>
    static Handle make(std::shared_ptr<State> state) {
        return Handle(std::move(state));
    }
};

}  // namespace eci::detail
