// SPDX-License-Identifier: Apache-2.0
// WebSocket exec frames: decoding a received message (the first input byte says text or
// binary), exit-status frames on channels 3 and 4, and output collection with a small bound.
// Invariants: encode then decode gives back channel and payload; the collector never keeps
// more than its bound.
#include "fuzz_input.hpp"

#include "core/exec_frames.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const bool is_text = (data[0] & 1) != 0;
    const std::string_view message = eci::fuzz::as_text(data + 1, size - 1);
    using eci::detail::ExecChannel;

    auto frame = eci::detail::decode_frame(message, is_text);
    if (frame.ok()) {
        (void)eci::detail::parse_exit_frame(frame->channel, frame->payload);
        if (!is_text) {
            const std::string encoded = eci::detail::encode_frame(frame->channel, frame->payload);
            eci::fuzz::require(encoded == message);
        }
    }
    (void)eci::detail::parse_exit_frame(ExecChannel::channel3, message);
    (void)eci::detail::parse_exit_frame(ExecChannel::channel4, message);

    constexpr std::size_t bound = 64;
    eci::detail::OutputCollector output(bound);
    for (std::size_t offset = 0; offset < message.size(); offset += 7) {
        const auto chunk = message.substr(offset, 7);
        output.append(chunk.size() % 2 ? ExecChannel::stdout_ : ExecChannel::stderr_, chunk);
    }
    eci::fuzz::require(output.stdout_view().size() <= bound);
    eci::fuzz::require(output.stderr_view().size() <= bound);
    eci::fuzz::require(output.combined_view().size() <= bound);
    eci::fuzz::require(output.dropped_bytes() + output.combined_view().size() == message.size());
    return 0;
}
