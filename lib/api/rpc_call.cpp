// SPDX-License-Identifier: Apache-2.0
#include "api/rpc_call.hpp"

#include "core/crypto.hpp"
#include "core/encoding.hpp"
#include "core/log.hpp"
#include "core/service_error.hpp"
#include "core/signing.hpp"
#include "core/time_format.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <optional>

namespace eci::detail {
namespace asio = boost::asio;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

constexpr std::string_view api_version = "2018-08-08";
constexpr std::string_view user_agent = "eci-sandbox/0.1 (C++20; Boost.Beast)";

// A nonce per attempt: the service rejects a reused one (SignatureNonceUsed), so a retry can
// never reuse the first attempt's.
std::string fresh_nonce(NonceSource& nonces) {
    auto nonce = nonces.next();
    // RAND_bytes only fails when the OS CSPRNG is unusable; a time-based fallback would still be
    // unique per attempt, and the signature stays valid either way.
    if (nonce.ok())
        return std::move(nonce).value();
    return std::to_string(steady_clock::now().time_since_epoch().count());
}

// Waits `delay` on a timer. Returns false when the wait was cancelled.
asio::awaitable<bool> wait_for(steady_clock::duration delay) {
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return !ec;
}

Error cancelled_error(std::string_view action) {
    return Error::make(ErrorKind::cancelled, fmt::format("{} was cancelled", action));
}

// The timestamp text of `now`, rendered once per second.
const std::string& current_date(OpenApiClient::State& state) {
    const auto now = std::chrono::system_clock::now();
    const auto second = std::chrono::floor<std::chrono::seconds>(now);
    if (state.date_text.empty() || second != state.date_second) {
        state.date_text = format_utc_timestamp(now);
        state.date_second = second;
    }
    return state.date_text;
}

}  // namespace

HttpRequest build_signed_request(OpenApiClient::State& state, const SigningCredentials& signing,
                                 std::string_view action, const Params& params) {
    const auto& credentials = signing.credentials;
    const SigningKey key{credentials.access_key_id, credentials.access_key_secret,
                         credentials.security_token};
    const std::string& date = current_date(state);
    const std::string nonce = fresh_nonce(state.nonces);

    HttpRequest request;
    request.method = "POST";
    // As the official SDK does: every business parameter in the query, an empty body.
    if (state.config.signature_version == SignatureVersion::rpc_v2) {
        const Params signed_params = sign_rpc(
            key, signing.mac, RpcRequest{action, api_version, "POST", params}, date, nonce);
        request.target = "/?" + build_query(signed_params);
        request.headers = {{"host", state.host_header},
                           {"x-acs-action", std::string(action)},
                           {"x-acs-version", std::string(api_version)}};
    } else {
        Acs3Request acs3;
        acs3.action = action;
        acs3.version = api_version;
        acs3.host = state.host_header;
        acs3.query = params;
        request.target = "/?";
        append_query(request.target, params);
        request.headers = sign_acs3(key, signing.mac, acs3, date, nonce, state.signing_scratch);
    }
    request.headers.emplace_back("accept", "application/json");
    request.headers.emplace_back("user-agent", std::string(user_agent));
    return request;
}

namespace {

using std::chrono::microseconds;

microseconds micros_since(steady_clock::time_point start) {
    return duration_cast<microseconds>(steady_clock::now() - start);
}

// The entry of `key` in a per-action map of ClientStats, made on first use.
template <class Map>
typename Map::mapped_type& entry_of(Map& map, std::string_view key) {
    auto found = map.find(key);
    if (found == map.end())
        found = map.emplace(std::string(key), typename Map::mapped_type{}).first;
    return found->second;
}

// What the attempts loop tells the wrapper that records and logs the call as a whole.
struct CallTrace {
    int attempts = 0;
    std::string_view request_id;  // of the successful reply (a view into the caller's response)
};

// Hands `event` to the configured hook; an exception from it never changes the call.
void notify(const OpenApiClient::State& state, const CallEvent& event) noexcept {
    try {
        state.config.call_hook(event);
    } catch (...) {  // NOLINT(bugprone-empty-catch): observing never fails a call
    }
}

// The attempts of one call (rpc_call records and logs the call around it). `action` and
// `trace` belong to rpc_call's frame, which awaits this one and so outlives it.
asio::awaitable<Result<void>> run_attempts(std::shared_ptr<OpenApiClient::State> state,
                                           std::string_view action, Params params,
                                           RetrySafety safety, CallOptions options,
                                           ReplyReader reader, steady_clock::time_point started,
                                           CallTrace& trace) {
    const bool hooked = static_cast<bool>(state->config.call_hook);
    const std::string_view sandbox_id = find_param(params, "ContainerGroupId").value_or("");
    RetryPolicy policy = state->retry_policy;
    if (!options.allow_retry)
        policy.enabled = false;
    if (options.deadline.count() > 0)
        policy.overall_deadline = options.deadline;
    if (options.idempotent && safety == RetrySafety::only_if_not_sent)
        safety = RetrySafety::always;
    const std::string endpoint = state->host_header;
    std::optional<steady_clock::time_point> deadline;
    if (policy.overall_deadline.count() > 0)
        deadline = started + policy.overall_deadline;

    Error last_error;
    // Set once an attempt may have been carried out without our hearing of it (a reset after
    // sending): a later attempt's refusal (throttled, 503) then does not undo that, and the
    // final error must say the outcome is unknown, or a create would look safely not done.
    bool maybe_carried_out = false;
    int attempts_made = 0;
    auto final_error = [&maybe_carried_out, &attempts_made, started](Error error) {
        if (maybe_carried_out)
            error.dispatch = Dispatch::unknown;
        // The last attempt's reason alone ("connect timed out after 10000 ms") reads wrong
        // after a minute of retries: say how long the whole call tried.
        if (attempts_made > 1 && error.kind != ErrorKind::cancelled)
            error.message += fmt::format(
                " (gave up after {} attempts in {:.1f} s)", attempts_made,
                duration_cast<milliseconds>(steady_clock::now() - started).count() / 1000.0);
        return error;
    };
    for (int attempt = 1;; ++attempt) {
        // The credentials first: cached, or fetched (ECS RAM role). A failure to get them is
        // not retried here: the provider's own deadlines bound it, and the error says why.
        auto signing = state->credentials->fresh(steady_clock::now());
        if (!signing) {
            auto fetched = co_await state->credentials->get();
            if (!fetched.ok())
                co_return final_error(std::move(fetched).error());
            signing = std::move(fetched).value();
        }

        // The client-side rate limit: every attempt takes a token of its action's bucket.
        {
            const auto now = steady_clock::now();
            // A call without its own deadline queues up to rate_limit.max_wait, and its retry
            // budget starts once it may be sent: a fan-out waits its turn instead of failing.
            const auto queue_limit = state->config.rate_limit.max_wait;
            const bool queue_apart = options.deadline.count() == 0 && queue_limit.count() > 0;
            std::optional<steady_clock::duration> max_wait;
            if (queue_apart)
                max_wait = queue_limit;
            else if (deadline)
                max_wait = std::max(steady_clock::duration::zero(), *deadline - now);
            const auto wait = state->rate_limiter.reserve(action, now, max_wait);
            if (!wait) {
                if (attempt > 1)
                    co_return final_error(std::move(last_error));
                auto error = Error::make(
                    ErrorKind::timeout,
                    queue_apart
                        ? fmt::format("{}: waiting for the client-side rate limit would take "
                                      "longer than rate_limit.max_wait ({} ms)",
                                      action, queue_limit.count())
                        : fmt::format("{}: waiting for the client-side rate limit would pass the "
                                      "call's deadline of {} ms",
                                      action, policy.overall_deadline.count()));
                error.dispatch = Dispatch::not_sent;
                co_return error;
            }
            if (queue_apart && deadline && wait->count() > 0)
                *deadline += *wait;
            if (wait->count() > 0) {
                ++state->stats.rate_limited_waits;
                log(state->logger, LogLevel::debug, "{}: waiting {} us for the rate limit", action,
                    duration_cast<std::chrono::microseconds>(*wait).count());
                const bool waited = co_await wait_for(*wait);
                state->stats.rate_limited_wait_time +=
                    duration_cast<std::chrono::microseconds>(steady_clock::now() - now);
                if (!waited) {
                    state->rate_limiter.refund(action, steady_clock::now());
                    co_return final_error(cancelled_error(action));
                }
            }
        }
        // The action's gate: after this action was throttled anywhere on this client, every
        // caller of it waits.
        const auto gate_delay =
            state->throttle_gate.delay_before_send(action, steady_clock::now(), state->random());
        if (gate_delay.count() > 0) {
            log(state->logger, LogLevel::debug, "{}: waiting {} ms at the throttle gate", action,
                gate_delay.count());
            if (!co_await wait_for(gate_delay))
                co_return final_error(cancelled_error(action));
        }

        // The cap on requests in flight (RateLimitConfig::max_concurrent), held for this
        // attempt's exchange only: a call waiting out a backoff or a gate holds no slot, so a
        // thousand throttled callers cannot starve the calls that could go through.
        auto slot = co_await state->call_slots.acquire(deadline);
        if (!slot.ok()) {
            if (attempt > 1 && slot.error().kind != ErrorKind::cancelled)
                co_return final_error(std::move(last_error));
            auto error = std::move(slot).error();
            error.message = fmt::format("{}: {}", action, error.message);
            error.dispatch = Dispatch::not_sent;
            co_return final_error(std::move(error));
        }
        if (*slot)
            ++state->stats.concurrency_waits;
        detail::SemaphorePermit permit(state->call_slots);

        attempts_made = attempt;
        HttpRequest request = build_signed_request(*state, *signing, action, params);
        request.idempotent = safety == RetrySafety::always;
        ++entry_of(state->stats.api_calls, action);
        if (attempt > 1)
            ++state->stats.retries;
        trace.attempts = attempt;
        log(state->logger, LogLevel::debug,
            LogFields{.action = action,
                      .sandbox_id = sandbox_id,
                      .attempt = attempt,
                      .endpoint = endpoint},
            "{}: attempt {} to {}", action, attempt, endpoint);
        if (hooked)
            notify(*state,
                   CallEvent{.phase = CallPhase::start, .action = action, .attempt = attempt});

        const auto sent_at = steady_clock::now();
        auto sent = co_await state->http.send(std::move(request));
        // Every outcome of this attempt goes to the hook once: `end` here, `error` below.
        auto notify_error = [&](const Error& failed, bool will_retry) {
            if (!hooked)
                return;
            notify(*state, CallEvent{.phase = CallPhase::error,
                                     .action = action,
                                     .attempt = attempt,
                                     .latency = micros_since(sent_at),
                                     .call_elapsed = micros_since(started),
                                     .request_id = failed.request_id,
                                     .error_kind = failed.kind,
                                     .error_code = failed.code,
                                     .http_status = failed.http_status,
                                     .dispatch = failed.dispatch,
                                     .will_retry = will_retry});
        };
        Error error;
        if (!sent.ok()) {
            error = std::move(sent).error();
            if (error.kind == ErrorKind::cancelled) {
                notify_error(error, false);
                co_return final_error(std::move(error));
            }
        } else if (sent->status / 100 == 2) {
            auto read = reader.read(sent->body, reader.response);
            if (read.ok()) {
                state->throttle_gate.on_success(action, sent_at, steady_clock::now());
                trace.request_id = *read;
                if (hooked) {
                    notify(*state, CallEvent{.phase = CallPhase::end,
                                             .action = action,
                                             .attempt = attempt,
                                             .latency = micros_since(sent_at),
                                             .call_elapsed = micros_since(started),
                                             .request_id = *read,
                                             .http_status = static_cast<int>(sent->status)});
                }
                co_return Result<void>();
            }
            error = std::move(read).error();
            // An HTML page from a proxy or captive portal is the usual culprit: say so.
            if (const std::string type = sent->header("content-type");
                !type.empty() && type.find("json") == std::string::npos)
                error.message += fmt::format(" (Content-Type: {})", sanitized_excerpt(type, 60));
            error.http_status = static_cast<int>(sent->status);
            error.endpoint = endpoint;
            // The service answered 2xx: the action happened, only its reply is unreadable.
            error.dispatch = Dispatch::unknown;
        } else {
            error = error_from_response(sent->status, sent->body, endpoint);
            // An error reply is the service refusing: nothing was carried out.
            error.dispatch = Dispatch::refused;
            if (error.code == "SignatureNonceUsed" && safety == RetrySafety::always) {
                // The transport re-sent this exact signed request after its connection failed
                // (a pooled connection that looked stale), and the first copy had reached the
                // service: its nonce was spent there, and what that copy did is unknown. For a
                // call safe to repeat, a new attempt (with a fresh nonce) settles it.
                error.kind = ErrorKind::network;
                error.dispatch = Dispatch::unknown;
            }
        }
        permit.reset();
        if (outcome_unknown(error))
            maybe_carried_out = true;
        if (error.kind == ErrorKind::throttled) {
            ++state->stats.throttled;
            state->throttle_gate.on_throttled(action, sent_at, steady_clock::now());
        }

        const auto elapsed = duration_cast<milliseconds>(steady_clock::now() - started);
        const auto delay =
            next_retry_delay(policy, error, safety, attempt, elapsed, state->random());
        notify_error(error, delay.has_value());
        const LogLevel level = delay ? LogLevel::info : LogLevel::debug;
        if (state->logger.enabled(level)) {
            log(state->logger, level,
                LogFields{.action = action,
                          .sandbox_id = sandbox_id,
                          .request_id = error.request_id,
                          .attempt = attempt,
                          .latency = micros_since(sent_at),
                          .dispatch = error.dispatch,
                          .error_kind = error.kind,
                          .error_code = error.code,
                          .endpoint = endpoint},
                "{}: attempt {} failed: {}{}", action, attempt, error.to_string(),
                delay ? fmt::format("; retrying in {} ms", delay->count()) : std::string());
        }
        if (!delay)
            co_return final_error(std::move(error));
        last_error = error;
        if (!co_await wait_for(*delay))
            co_return final_error(cancelled_error(action));
    }
}

}  // namespace

asio::awaitable<Result<void>> rpc_call(std::shared_ptr<OpenApiClient::State> state,
                                       std::string action, Params params, RetrySafety safety,
                                       CallOptions options, ReplyReader reader) {
    const auto started = steady_clock::now();
    CallTrace trace;
    // Copied before the attempts take `params`, and only when it will be logged.
    std::string sandbox_id;
    if (state->logger.enabled(LogLevel::debug))
        sandbox_id = find_param(params, "ContainerGroupId").value_or("");
    auto result = co_await run_attempts(state, action, std::move(params), safety, options, reader,
                                        started, trace);
    const auto latency = micros_since(started);
    auto& stats = state->stats;
    entry_of(stats.api_latency, action).record(latency);
    if (!result.ok())
        ++entry_of(stats.api_failures, action);

    if (result.ok()) {
        log(state->logger, LogLevel::debug,
            LogFields{.action = action,
                      .sandbox_id = sandbox_id,
                      .request_id = trace.request_id,
                      .attempt = trace.attempts,
                      .latency = latency},
            "{}: succeeded in {} ms ({} attempt{})", action, latency.count() / 1000, trace.attempts,
            trace.attempts == 1 ? "" : "s");
    } else if (state->logger.enabled(LogLevel::debug)) {
        const Error& error = result.error();
        log(state->logger, LogLevel::debug,
            LogFields{.action = action,
                      .sandbox_id = sandbox_id,
                      .request_id = error.request_id,
                      .attempt = trace.attempts,
                      .latency = latency,
                      .dispatch = error.dispatch,
                      .error_kind = error.kind,
                      .error_code = error.code},
            "{}: failed in {} ms ({} attempt{}): {}", action, latency.count() / 1000,
            trace.attempts, trace.attempts == 1 ? "" : "s", to_string(error.kind));
    }
    co_return result;
}

}  // namespace eci::detail
