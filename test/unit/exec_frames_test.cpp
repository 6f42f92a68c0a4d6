// SPDX-License-Identifier: Apache-2.0
#include "core/exec_frames.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using eci::ErrorKind;
using eci::detail::decode_frame;
using eci::detail::encode_channel4_exit_frame;
using eci::detail::encode_frame;
using eci::detail::encode_k8s_status_frame;
using eci::detail::encode_stdin_frame;
using eci::detail::ExecChannel;
using eci::detail::ExitStatusSource;
using eci::detail::OutputCollector;
using eci::detail::parse_exit_frame;
using eci::detail::parse_exit_status;

namespace {
std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values)
        out.push_back(static_cast<char>(v));
    return out;
}
}  // namespace

TEST_CASE("exec frames: stdin frame is 0x00 followed by the raw bytes", "[exec_frames]") {
    CHECK(encode_stdin_frame("ls\n") == bytes({0, 'l', 's', '\n'}));
    CHECK(encode_stdin_frame("") == bytes({0}));
    const std::string binary = bytes({0xff, 0x00, 0x80});
    CHECK(encode_stdin_frame(binary) == bytes({0, 0xff, 0x00, 0x80}));
}

TEST_CASE("exec frames: decode splits channel and payload", "[exec_frames]") {
    for (int channel = 0; channel <= 4; ++channel) {
        const std::string message = encode_frame(static_cast<ExecChannel>(channel), "payload");
        auto frame = decode_frame(message, false);
        REQUIRE(frame.ok());
        CHECK(static_cast<int>(frame->channel) == channel);
        CHECK(frame->payload == "payload");
    }
    const std::string channel_only = bytes({2});
    auto empty_payload = decode_frame(channel_only, false);
    REQUIRE(empty_payload.ok());
    CHECK(empty_payload->channel == ExecChannel::stderr_);
    CHECK(empty_payload->payload.empty());
}

TEST_CASE("exec frames: a text message is stdout as a whole", "[exec_frames]") {
    const std::string message = bytes({2, 'x'});  // the payload views it: keep it alive
    auto frame = decode_frame(message, true);
    REQUIRE(frame.ok());
    CHECK(frame->channel == ExecChannel::stdout_);
    CHECK(frame->payload == message);
    auto empty = decode_frame("", true);
    REQUIRE(empty.ok());
    CHECK(empty->payload.empty());
}

TEST_CASE("exec frames: empty binary message and unknown channels are protocol errors",
          "[exec_frames]") {
    auto empty = decode_frame("", false);
    REQUIRE_FALSE(empty.ok());
    CHECK(empty.error().kind == ErrorKind::protocol);
    for (int channel : {5, 9, 0x7f, 0xff}) {
        auto frame = decode_frame(bytes({channel, 'a'}), false);
        REQUIRE_FALSE(frame.ok());
        CHECK(frame.error().kind == ErrorKind::protocol);
        CHECK_THAT(frame.error().message, Catch::Contains(std::to_string(channel)));
    }
}

TEST_CASE("exec frames: channel4 mode carries a decimal exit code", "[exec_frames]") {
    auto decode_exit = [](const std::string& message) {
        auto frame = decode_frame(message, false);
        REQUIRE(frame.ok());
        return parse_exit_status(frame->channel, frame->payload);
    };
    CHECK(decode_exit(encode_channel4_exit_frame(0)) == 0);
    CHECK(decode_exit(encode_channel4_exit_frame(3)) == 3);
    CHECK(decode_exit(encode_channel4_exit_frame(255)) == 255);
    CHECK(parse_exit_status(ExecChannel::channel4, " 42\n") == 42);
    auto status = parse_exit_frame(ExecChannel::channel4, "7");
    REQUIRE(status);
    CHECK(status->source == ExitStatusSource::channel4);
    // Not all digits: in Kubernetes mode channel 4 is resize, never an exit code.
    CHECK_FALSE(parse_exit_status(ExecChannel::channel4, R"({"Width":80,"Height":24})"));
    CHECK_FALSE(parse_exit_status(ExecChannel::channel4, ""));
    CHECK_FALSE(parse_exit_status(ExecChannel::channel4, "-1"));
    CHECK_FALSE(parse_exit_status(ExecChannel::channel4, "1 2"));
    CHECK_FALSE(parse_exit_status(ExecChannel::channel4, "0x10"));
    CHECK_FALSE(parse_exit_status(ExecChannel::channel4, "1234567890"));  // over nine digits
}

TEST_CASE("exec frames: a reported exit code above 255 is not an exit status", "[exec_frames]") {
    // Taken modulo 256 (as a shell or the CLI's own exit would), 256 and 512 read as success.
    for (const char* code : {"256", "300", "512", "999999999"}) {
        INFO(code);
        CHECK_FALSE(parse_exit_status(ExecChannel::channel4, code));
        const std::string status = std::string(R"({"status":"Failure","details":{"causes":[)") +
                                   R"({"reason":"ExitCode","message":")" + code + R"("}]}})";
        CHECK_FALSE(parse_exit_status(ExecChannel::channel3, status));
    }
    CHECK(parse_exit_status(ExecChannel::channel3,
                            R"({"status":"Failure","details":{"causes":[)"
                            R"({"reason":"ExitCode","message":"255"}]}})") == 255);
}

TEST_CASE("exec frames: k8s mode carries a v1.Status on channel 3", "[exec_frames]") {
    auto decode_exit = [](const std::string& message) {
        auto frame = decode_frame(message, false);
        REQUIRE(frame.ok());
        REQUIRE(frame->channel == ExecChannel::channel3);
        return parse_exit_frame(frame->channel, frame->payload);
    };
    auto success = decode_exit(encode_k8s_status_frame(0));
    REQUIRE(success);
    CHECK(success->exit_code == 0);
    CHECK(success->source == ExitStatusSource::k8s_status);
    auto failure = decode_exit(encode_k8s_status_frame(3));
    REQUIRE(failure);
    CHECK(failure->exit_code == 3);
    CHECK_THAT(failure->service_message, Catch::Contains("exit status 3"));

    // The exact shape a kubelet sends.
    CHECK(parse_exit_status(ExecChannel::channel3,
                            R"({"metadata":{},"status":"Failure","message":"command terminated)"
                            R"( with non-zero exit code: error executing command [sh -c exit 3])"
                            R"(: Process exited with status 3","reason":"NonZeroExitCode",)"
                            R"("details":{"causes":[{"reason":"ExitCode","message":"3"}]}})") == 3);
    CHECK(parse_exit_status(ExecChannel::channel3, R"({"status":"Success"})") == 0);
    // The ExitCode cause is found among others.
    CHECK(parse_exit_status(ExecChannel::channel3,
                            R"({"status":"Failure","details":{"causes":[{"reason":"Other"},)"
                            R"({"reason":"ExitCode","message":"126"}]}})") == 126);
}

TEST_CASE("exec frames: k8s Failure without an ExitCode cause", "[exec_frames]") {
    // A signal cause follows the shell's 128 + N convention.
    CHECK(parse_exit_status(ExecChannel::channel3,
                            R"({"status":"Failure","details":{"causes":[)"
                            R"({"reason":"Signal","message":"9"}]}})") == 137);
    // No code at all: the exec failed (e.g. InternalError), so it counts as 1.
    auto internal = parse_exit_frame(
        ExecChannel::channel3,
        R"({"status":"Failure","reason":"InternalError","message":"executable not found"})");
    REQUIRE(internal);
    CHECK(internal->exit_code == 1);
    CHECK(internal->service_message == "executable not found");
    CHECK(parse_exit_status(ExecChannel::channel3,
                            R"({"status":"Failure","details":{"causes":[)"
                            R"({"reason":"ExitCode","message":"three"}]}})") == 1);
}

TEST_CASE("exec frames: garbage on channels 3 and 4 is not a status", "[exec_frames]") {
    CHECK_FALSE(parse_exit_frame(ExecChannel::channel3, "error: oops"));
    CHECK_FALSE(parse_exit_frame(ExecChannel::channel3, ""));
    CHECK_FALSE(parse_exit_frame(ExecChannel::channel3, "[1,2]"));
    CHECK_FALSE(parse_exit_frame(ExecChannel::channel3, R"({"status":"Pending"})"));
    CHECK_FALSE(parse_exit_frame(ExecChannel::channel3, R"({"status":7})"));
    CHECK_FALSE(parse_exit_frame(ExecChannel::channel3, R"({"Width":80,"Height":24})"));
    CHECK_FALSE(parse_exit_frame(ExecChannel::channel3, R"({"status":"Success")"));  // cut short
    // Deeply nested JSON is refused by the depth limit, not parsed.
    std::string deep = R"({"status":"Success","x":)";
    for (int i = 0; i < 64; ++i)
        deep += "[";
    for (int i = 0; i < 64; ++i)
        deep += "]";
    deep += "}";
    CHECK_FALSE(parse_exit_frame(ExecChannel::channel3, deep));
    // Channels 0-2 never carry a status.
    CHECK_FALSE(parse_exit_frame(ExecChannel::stdout_, "0"));
    CHECK_FALSE(parse_exit_frame(ExecChannel::stderr_, R"({"status":"Success"})"));
}

TEST_CASE("exec frames: collector keeps streams apart and interleaves the combined output",
          "[exec_frames]") {
    std::vector<std::pair<ExecChannel, std::string>> seen;
    OutputCollector collector(1024, [&](ExecChannel channel, std::string_view chunk) {
        seen.emplace_back(channel, std::string(chunk));
    });
    collector.append(ExecChannel::stdout_, "out1 ");
    collector.append(ExecChannel::stderr_, "err1 ");
    collector.append(ExecChannel::stdout_, "out2");
    collector.append(ExecChannel::channel3, "ignored");
    collector.append(ExecChannel::stdin_, "ignored");
    CHECK(collector.stdout_text() == "out1 out2");
    CHECK(collector.stderr_text() == "err1 ");
    CHECK(collector.combined_text() == "out1 err1 out2");
    CHECK_FALSE(collector.truncated());
    CHECK(collector.dropped_bytes() == 0);
    REQUIRE(seen.size() == 3);
    CHECK(seen[1] == std::pair<ExecChannel, std::string>(ExecChannel::stderr_, "err1 "));
}

TEST_CASE("exec frames: collector keeps the last max_bytes and counts what it dropped",
          "[exec_frames]") {
    std::size_t streamed = 0;
    OutputCollector collector(
        10, [&](ExecChannel, std::string_view chunk) { streamed += chunk.size(); });
    collector.append(ExecChannel::stdout_, "0123456");
    CHECK_FALSE(collector.truncated());
    collector.append(ExecChannel::stderr_, "abcdef");
    CHECK(collector.truncated());
    CHECK(collector.combined_text() == "3456abcdef");
    CHECK(collector.dropped_bytes() == 3);
    CHECK(collector.stdout_text() == "0123456");
    CHECK(collector.stdout_dropped_bytes() == 0);
    // Many small appends: the window slides, the tail is exact.
    for (int i = 0; i < 1000; ++i)
        collector.append(ExecChannel::stdout_, std::to_string(i % 10));
    CHECK(collector.stdout_text() == "0123456789");
    CHECK(collector.stdout_received_bytes() == 1007);
    CHECK(collector.stdout_dropped_bytes() == 997);
    // One chunk larger than the bound.
    collector.append(ExecChannel::stderr_, std::string(50, 'x') + "0123456789");
    CHECK(collector.stderr_text() == "0123456789");
    CHECK(collector.stderr_dropped_bytes() == 56);
    CHECK(collector.combined_text() == "0123456789");
    CHECK(collector.dropped_bytes() == 7 + 6 + 1000 + 60 - 10);
    // The callback saw everything, before truncation.
    CHECK(streamed == 7 + 6 + 1000 + 60);
}

TEST_CASE("exec frames: a zero bound keeps nothing but still counts and streams", "[exec_frames]") {
    std::string streamed;
    OutputCollector collector(0, [&](ExecChannel, std::string_view chunk) { streamed += chunk; });
    collector.append(ExecChannel::stdout_, "abc");
    CHECK(collector.stdout_text().empty());
    CHECK(collector.truncated());
    CHECK(collector.dropped_bytes() == 3);
    CHECK(streamed == "abc");
}

TEST_CASE("exec frames: a resize payload is Kubernetes' TerminalSize JSON", "[exec-frames]") {
    // Width is columns, Height rows; the emulator and a kubelet read exactly these keys.
    CHECK(eci::detail::encode_resize_payload(30, 100) == R"({"Width":100,"Height":30})");
    CHECK(eci::detail::encode_resize_payload(1, 65535) == R"({"Width":65535,"Height":1})");
}
