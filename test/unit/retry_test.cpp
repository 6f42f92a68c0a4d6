// SPDX-License-Identifier: Apache-2.0
#include "core/retry.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <random>

using namespace std::chrono_literals;
using eci::Dispatch;
using eci::ErrorKind;
using eci::detail::next_retry_delay;
using eci::detail::RetryPolicy;
using eci::detail::RetrySafety;
using eci::detail::ThrottleGate;

namespace {

eci::Error make_error(ErrorKind kind, int status = 0, std::string code = {},
                      Dispatch dispatch = Dispatch::not_applicable) {
    eci::Error e = eci::Error::make(kind, "x");
    e.http_status = status;
    e.code = std::move(code);
    e.dispatch = dispatch;
    return e;
}

const eci::Error throttled = make_error(ErrorKind::throttled, 400, "Throttling.User");
constexpr std::uint64_t max_random = std::numeric_limits<std::uint64_t>::max();

}  // namespace

TEST_CASE("retry: delays use full jitter within the exponential cap", "[retry]") {
    RetryPolicy policy;  // 200 ms initial, x2, 10 s cap, 5 attempts, 60 s budget
    policy.max_attempts = 20;
    std::mt19937_64 rng(12345);
    const std::chrono::milliseconds caps[] = {200ms,  400ms,   800ms,   1600ms, 3200ms,
                                              6400ms, 10000ms, 10000ms, 10000ms};
    for (int attempt = 1; attempt <= 9; ++attempt) {
        const auto cap = caps[attempt - 1];
        INFO("attempt " << attempt);
        // The bounds are reached exactly: 0 and the cap itself.
        CHECK(next_retry_delay(policy, throttled, RetrySafety::always, attempt, 0ms, 0) == 0ms);
        CHECK(next_retry_delay(policy, throttled, RetrySafety::always, attempt, 0ms,
                               static_cast<std::uint64_t>(cap.count())) == cap);
        std::chrono::milliseconds largest{0};
        for (int i = 0; i < 2000; ++i) {
            const auto delay =
                next_retry_delay(policy, throttled, RetrySafety::always, attempt, 0ms, rng());
            REQUIRE(delay.has_value());
            REQUIRE(*delay >= 0ms);
            REQUIRE(*delay <= cap);
            largest = std::max(largest, *delay);
        }
        CHECK(largest > cap / 2);  // spread over the range, not stuck near 0
    }
    // Huge attempt numbers and multipliers stay capped, never overflow.
    policy.max_attempts = 1'000'000;
    policy.multiplier = 1e300;
    CHECK(next_retry_delay(policy, throttled, RetrySafety::always, 500'000, 0ms, max_random) <=
          10000ms);
}

TEST_CASE("retry: gives up at max_attempts, when disabled and past the overall deadline",
          "[retry]") {
    RetryPolicy policy;
    policy.max_attempts = 5;
    CHECK(next_retry_delay(policy, throttled, RetrySafety::always, 4, 0ms, 1).has_value());
    CHECK_FALSE(next_retry_delay(policy, throttled, RetrySafety::always, 5, 0ms, 1));
    CHECK_FALSE(next_retry_delay(policy, throttled, RetrySafety::always, 0, 0ms, 1));

    policy.enabled = false;
    CHECK_FALSE(next_retry_delay(policy, throttled, RetrySafety::always, 1, 0ms, 1));

    policy = RetryPolicy{};
    policy.overall_deadline = 1000ms;
    // 900 ms elapsed: a 50 ms delay fits, a 150 ms one would start after the deadline.
    CHECK(next_retry_delay(policy, throttled, RetrySafety::always, 1, 900ms, 50) == 50ms);
    CHECK_FALSE(next_retry_delay(policy, throttled, RetrySafety::always, 1, 900ms, 150));
    CHECK_FALSE(next_retry_delay(policy, throttled, RetrySafety::always, 1, 1000ms, 0));
    std::mt19937_64 rng(7);
    for (int i = 0; i < 1000; ++i) {
        const auto elapsed = std::chrono::milliseconds(rng() % 1200);
        const auto delay =
            next_retry_delay(policy, throttled, RetrySafety::always, 2, elapsed, rng());
        if (delay)
            REQUIRE(elapsed + *delay < policy.overall_deadline);
    }

    policy.overall_deadline = 0ms;  // no budget
    CHECK(next_retry_delay(policy, throttled, RetrySafety::always, 1, 10h, 0) == 0ms);
}

TEST_CASE("retry: which errors are retried for reads, deletes and creates", "[retry]") {
    auto allowed = [](const eci::Error& e) {
        return eci::detail::is_retry_allowed(e, RetrySafety::always);
    };
    CHECK(allowed(throttled));
    CHECK(allowed(make_error(ErrorKind::service, 503, "ServiceUnavailable")));
    CHECK(allowed(make_error(ErrorKind::service, 500, "InternalError")));
    CHECK(allowed(make_error(ErrorKind::service, 502)));
    CHECK(allowed(make_error(ErrorKind::network)));
    CHECK(allowed(make_error(ErrorKind::timeout, 0, "", Dispatch::not_sent)));
    // A read timed out after sending: running a read (or a ClientToken create) twice is harmless.
    CHECK(allowed(make_error(ErrorKind::timeout, 0, "", Dispatch::unknown)));
    CHECK_FALSE(allowed(make_error(ErrorKind::tls, 0, "", Dispatch::not_sent)));
    CHECK_FALSE(allowed(make_error(ErrorKind::service, 400, "IncorrectStatus")));
    CHECK_FALSE(allowed(make_error(ErrorKind::invalid_argument, 400, "InvalidParameter")));
    CHECK_FALSE(allowed(make_error(ErrorKind::auth, 400, "SignatureDoesNotMatch")));
    CHECK_FALSE(allowed(make_error(ErrorKind::not_found, 404, "ContainerGroup.NotFound")));
    CHECK_FALSE(allowed(make_error(ErrorKind::protocol)));
    CHECK_FALSE(allowed(make_error(ErrorKind::cancelled)));
    CHECK_FALSE(next_retry_delay(RetryPolicy{}, make_error(ErrorKind::auth, 400, "Forbidden"),
                                 RetrySafety::always, 1, 0ms, 0));
}

TEST_CASE("retry: an exec is retried only when it provably never ran", "[retry]") {
    auto allowed = [](const eci::Error& e) {
        return eci::detail::is_retry_allowed(e, RetrySafety::only_if_not_sent);
    };
    // Transport failures: only when the request never left.
    CHECK(allowed(make_error(ErrorKind::network, 0, "", Dispatch::not_sent)));
    CHECK(allowed(make_error(ErrorKind::timeout, 0, "", Dispatch::not_sent)));
    CHECK_FALSE(allowed(make_error(ErrorKind::network, 0, "", Dispatch::unknown)));
    CHECK_FALSE(allowed(make_error(ErrorKind::network, 0, "", Dispatch::not_applicable)));
    CHECK_FALSE(allowed(make_error(ErrorKind::timeout, 0, "", Dispatch::unknown)));
    // The service answered with its own error: it refused, nothing ran.
    CHECK(allowed(make_error(ErrorKind::throttled, 400, "Throttling.User", Dispatch::refused)));
    CHECK(allowed(make_error(ErrorKind::throttled, 400, "Throttling.User")));
    CHECK(allowed(make_error(ErrorKind::service, 503, "ServiceUnavailable")));
    // A code-less 5xx (a proxy page) may follow a call that ran.
    CHECK_FALSE(allowed(make_error(ErrorKind::service, 502)));
    CHECK(allowed(make_error(ErrorKind::service, 502, "", Dispatch::refused)));
    // Evidence that it ran, or may have, always wins.
    CHECK_FALSE(
        allowed(make_error(ErrorKind::service, 503, "ServiceUnavailable", Dispatch::accepted)));
    CHECK_FALSE(allowed(make_error(ErrorKind::throttled, 400, "Throttling", Dispatch::unknown)));
    // Refusals that a retry cannot fix stay final.
    CHECK_FALSE(allowed(make_error(ErrorKind::service, 400, "IncorrectStatus", Dispatch::refused)));
    CHECK_FALSE(allowed(make_error(ErrorKind::invalid_argument, 400,
                                   "InvalidParameter.ValueExceeded", Dispatch::refused)));

    // never: nothing is retried.
    CHECK_FALSE(eci::detail::is_retry_allowed(
        make_error(ErrorKind::network, 0, "", Dispatch::not_sent), RetrySafety::never));
    CHECK_FALSE(next_retry_delay(RetryPolicy{}, throttled, RetrySafety::never, 1, 0ms, 0));
    CHECK(next_retry_delay(RetryPolicy{}, make_error(ErrorKind::network, 0, "", Dispatch::not_sent),
                           RetrySafety::only_if_not_sent, 1, 0ms, 0) == 0ms);
}

TEST_CASE("retry: the throttle gate closes for everyone, escalates and decays", "[retry]") {
    eci::detail::ThrottleGateOptions options;
    // A window of one reply: every throttle closes the gate (the share rule has its own test).
    options.window = 1;
    options.min_replies = 1;
    options.initial_backoff = 1000ms;
    options.max_backoff = 4000ms;
    options.escalation_window = 10s;
    ThrottleGate gate(options);
    const std::string_view exec = "ExecContainerCommand";
    const auto t0 = ThrottleGate::clock::time_point{} + 100h;

    CHECK(gate.delay_before_send(exec, t0, max_random) == 0ms);
    CHECK(gate.current_backoff(exec) == 0ms);

    gate.on_throttled(exec, t0 - 5ms, t0);
    CHECK(gate.current_backoff(exec) == 1000ms);
    CHECK(gate.open_at(exec) == t0 + 1000ms);
    // Every caller waits the rest of the closed time, plus up to a quarter backoff of jitter.
    CHECK(gate.delay_before_send(exec, t0 + 300ms, 0) == 700ms);
    CHECK(gate.delay_before_send(exec, t0 + 300ms, 250) == 950ms);
    CHECK(gate.delay_before_send(exec, t0 + 300ms, 251) == 700ms);
    for (std::uint64_t r = 0; r < 1000; r += 37) {
        const auto d = gate.delay_before_send(exec, t0 + 300ms, r);
        CHECK(d >= 700ms);
        CHECK(d <= 950ms);
    }

    // Replies to calls already in flight do not escalate the closed gate.
    gate.on_throttled(exec, t0 - 3ms, t0 + 10ms);
    gate.on_throttled(exec, t0 - 1ms, t0 + 20ms);
    CHECK(gate.current_backoff(exec) == 1000ms);
    CHECK(gate.open_at(exec) == t0 + 1000ms);
    // Nor when they arrive after it reopened: they were sent before it closed.
    gate.on_throttled(exec, t0 - 1ms, t0 + 1500ms);
    CHECK(gate.current_backoff(exec) == 1000ms);
    CHECK(gate.open_at(exec) == t0 + 1000ms);
    // Nor do successes of in-flight calls decay it.
    gate.on_success(exec, t0 - 2ms, t0 + 30ms);
    gate.on_success(exec, t0 - 2ms, t0 + 1600ms);
    CHECK(gate.current_backoff(exec) == 1000ms);

    // Throttled again soon after reopening: the backoff doubles, up to the cap.
    gate.on_throttled(exec, t0 + 1090ms, t0 + 1100ms);
    CHECK(gate.current_backoff(exec) == 2000ms);
    CHECK(gate.open_at(exec) == t0 + 3100ms);
    gate.on_throttled(exec, t0 + 3150ms, t0 + 3200ms);
    CHECK(gate.current_backoff(exec) == 4000ms);
    gate.on_throttled(exec, t0 + 7250ms, t0 + 7300ms);
    CHECK(gate.current_backoff(exec) == 4000ms);
    CHECK(gate.open_at(exec) == t0 + 11300ms);
    CHECK(gate.delay_before_send(exec, t0 + 11300ms, max_random) == 0ms);

    // Successes after reopening halve it until it is gone.
    gate.on_success(exec, t0 + 11350ms, t0 + 11400ms);
    CHECK(gate.current_backoff(exec) == 2000ms);
    gate.on_success(exec, t0 + 11450ms, t0 + 11500ms);
    CHECK(gate.current_backoff(exec) == 1000ms);
    gate.on_success(exec, t0 + 11550ms, t0 + 11600ms);
    CHECK(gate.current_backoff(exec) == 0ms);

    // A throttle long after the last one starts again from the initial backoff.
    gate.on_throttled(exec, t0 + 60s, t0 + 60s);
    CHECK(gate.current_backoff(exec) == 1000ms);
    gate.on_throttled(exec, t0 + 72s, t0 + 72s);  // reopened at 61 s; 11 s > the 10 s window
    CHECK(gate.current_backoff(exec) == 1000ms);
}

TEST_CASE("retry: each action has its own throttle gate", "[retry]") {
    eci::detail::ThrottleGateOptions options;
    options.window = 1;
    options.min_replies = 1;
    ThrottleGate gate(options);
    const auto t0 = ThrottleGate::clock::time_point{} + 100h;
    gate.on_throttled("ExecContainerCommand", t0, t0);
    CHECK(gate.delay_before_send("ExecContainerCommand", t0 + 10ms, 0) == 990ms);
    // The service limits each action on its own: a throttled exec holds back no describe.
    CHECK(gate.delay_before_send("DescribeContainerGroups", t0 + 10ms, max_random) == 0ms);
    CHECK(gate.current_backoff("DescribeContainerGroups") == 0ms);
    gate.on_success("DescribeContainerGroups", t0, t0 + 20ms);
    CHECK(gate.current_backoff("ExecContainerCommand") == 1000ms);
}

TEST_CASE("retry: the throttle gate stays open under scattered throttles and closes under "
          "sustained ones",
          "[retry]") {
    ThrottleGate gate;  // the defaults: the last 20 replies, at least 10, 60% throttled
    const std::string_view describe = "DescribeContainerGroups";
    auto t = ThrottleGate::clock::time_point{} + 100h;
    const auto reply = [&](bool throttled) {
        t += 5ms;
        if (throttled)
            gate.on_throttled(describe, t - 2ms, t);
        else
            gate.on_success(describe, t - 2ms, t);
    };

    // One throttle in five, for 2000 replies (a fault mix's 20%): never closed.
    for (int i = 0; i < 2000; ++i) {
        reply(i % 5 == 0);
        REQUIRE(gate.delay_before_send(describe, t, 0) == 0ms);
    }
    // Even a burst of five throttles in a row among successes does not close it.
    for (int i = 0; i < 5; ++i)
        reply(true);
    CHECK(gate.delay_before_send(describe, t, 0) == 0ms);
    for (int i = 0; i < 20; ++i)
        reply(false);

    // Persistent throttling (an account over its limit): closed within a dozen replies.
    int replies_until_closed = 0;
    while (gate.delay_before_send(describe, t, 0) == 0ms && replies_until_closed < 100) {
        reply(true);
        ++replies_until_closed;
    }
    CHECK(replies_until_closed == 12);  // 12 of the last 20 (8 successes) is 60%
    CHECK(gate.current_backoff(describe) == 1000ms);
    const auto closed_at = t;

    // Still throttled right after reopening: closes again, doubled, once ten new replies
    // (sent after it closed) say so; the replies of calls sent before it closed count for
    // nothing.
    t = closed_at + 1000ms;
    for (int i = 0; i < 30; ++i)
        gate.on_throttled(describe, closed_at - 1ms, t + std::chrono::milliseconds(i));
    CHECK(gate.delay_before_send(describe, t + 30ms, 0) == 0ms);
    for (int i = 0; i < 9; ++i)
        reply(true);
    CHECK(gate.delay_before_send(describe, t, 0) == 0ms);
    reply(true);
    CHECK(gate.delay_before_send(describe, t, 0) > 0ms);
    CHECK(gate.current_backoff(describe) == 2000ms);
}

TEST_CASE("retry: an unknown outcome is a lost reply or a transport failure after sending",
          "[retry][no-leak]") {
    using eci::detail::outcome_unknown;
    CHECK(outcome_unknown(make_error(ErrorKind::network, 0, {}, Dispatch::unknown)));
    CHECK(outcome_unknown(make_error(ErrorKind::timeout, 0, {}, Dispatch::not_applicable)));
    // A later attempt's throttle after a lost reply: rpc_call marks it unknown.
    CHECK(outcome_unknown(make_error(ErrorKind::throttled, 400, "Throttling", Dispatch::unknown)));
    CHECK_FALSE(outcome_unknown(make_error(ErrorKind::network, 0, {}, Dispatch::not_sent)));
    CHECK_FALSE(outcome_unknown(make_error(ErrorKind::throttled, 400, "Throttling.User")));
    CHECK_FALSE(outcome_unknown(
        make_error(ErrorKind::service, 503, "ServiceUnavailable", Dispatch::refused)));
    CHECK_FALSE(outcome_unknown(make_error(ErrorKind::invalid_argument, 400, "InvalidParameter")));
}

TEST_CASE("retry: a failed create wait deletes the sandbox unless it is kept, deletes retry "
    "transient failures and count NotFound as done",
    "[retry][no-leak]") {
    using eci::detail::FailedCreateAction;
    CHECK(eci::detail::on_failed_wait(false) == FailedCreateAction::remove);
    CHECK(eci::detail::on_failed_wait(true) == FailedCreateAction::keep);

    CHECK(eci::detail::delete_confirmed(make_error(ErrorKind::not_found, 400, "NotFound")));
    CHECK_FALSE(eci::detail::delete_confirmed(throttled));

    CHECK(eci::detail::delete_worth_retrying(throttled));
    CHECK(eci::detail::delete_worth_retrying(make_error(ErrorKind::service, 503)));
    CHECK(eci::detail::delete_worth_retrying(
        make_error(ErrorKind::network, 0, {}, Dispatch::unknown)));
    CHECK_FALSE(eci::detail::delete_worth_retrying(make_error(ErrorKind::auth, 403, "Forbidden")));
    CHECK_FALSE(eci::detail::delete_worth_retrying(
        make_error(ErrorKind::invalid_argument, 400, "IncorrectStatus")));
    CHECK_FALSE(eci::detail::delete_worth_retrying(make_error(ErrorKind::cancelled)));
}
