// SPDX-License-Identifier: Apache-2.0
// The exec stream's output channels as the public API names them, and the callback that
// streams a command's output to ExecOptions::on_output. One mapping for every exec path.
#pragma once

#include <eci/command.hpp>

#include "core/exec_frames.hpp"

namespace eci::detail {

/// The public stream of an output channel: standard_error for stderr, else standard_output.
inline OutputStream output_stream_of(ExecChannel channel) noexcept {
    return channel == ExecChannel::stderr_ ? OutputStream::standard_error
                                           : OutputStream::standard_output;
}

/// An OutputCollector callback handing every chunk to `options.on_output` (nothing when it is
/// unset). Lifetimes: `options` must outlive the callback.
inline OutputCollector::ChunkCallback forward_output(const ExecOptions& options) {
    return [&options](ExecChannel channel, std::string_view bytes) {
        if (options.on_output)
            options.on_output(output_stream_of(channel), bytes);
    };
}

}  // namespace eci::detail
