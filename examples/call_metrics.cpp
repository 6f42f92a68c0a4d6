// SPDX-License-Identifier: Apache-2.0
// call_metrics: attaching your own metrics (or OpenTelemetry) to every API call, routing the
// library's structured log fields, and reading the per-action latency histograms.
//
// A `CallHook` in the configuration is called at the start and end (or failure) of every
// OpenAPI attempt with the action, attempt number, latency, RequestId and error kind/code.
// This example records them in a small thread-safe MetricsRecorder; the comments mark where
// OpenTelemetry calls would go instead (no OTel dependency here). A `Logger::record_sink`
// receives each log message with its fields apart (action, sandbox_id, request_id, attempt,
// latency_us, ...), here printed as one JSON object per line. At the end it prints the
// recorder's table beside the client's own histograms (`EciSandbox::stats()`), and exits 1
// unless both saw the same calls.
//
// Configured from the environment like the other examples (docs/configuration.md);
// ECI_EXAMPLE_IMAGE picks the image (default ubuntu:22.04).
#include <eci/sandbox.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace {

// What a metrics backend keeps per action: calls started, finished, failed, retried, and
// the total time of finished attempts. A real program would hold OTel instruments instead
// (a Counter for calls and errors, a Histogram for latency) created once from a Meter.
struct ActionMetrics {
    std::uint64_t started = 0;
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
    std::uint64_t retried = 0;
    std::chrono::microseconds total_latency{0};
};

class MetricsRecorder {
  public:
    // Called on the client's I/O thread; snapshot() from any other: hence the mutex. Keep the
    // hook short: it runs inline with the call.
    void on_call(const eci::CallEvent& event) {
        const std::lock_guard lock(mutex_);
        auto& metrics = by_action_[std::string(event.action)];
        switch (event.phase) {
            case eci::CallPhase::start:
                // OTel: span = tracer->StartSpan(event.action, {{"eci.attempt", event.attempt}});
                ++metrics.started;
                break;
            case eci::CallPhase::end:
                // OTel: span->SetAttribute("eci.request_id", event.request_id); span->End();
                //       latency_histogram->Record(event.latency.count() / 1000.0, {action});
                ++metrics.succeeded;
                metrics.total_latency += event.latency;
                break;
            case eci::CallPhase::error:
                // OTel: span->SetStatus(StatusCode::kError, to_string(*event.error_kind));
                //       span->SetAttribute("eci.error_code", event.error_code); span->End();
                ++metrics.failed;
                if (event.will_retry)
                    ++metrics.retried;
                metrics.total_latency += event.latency;
                break;
        }
    }

    std::map<std::string, ActionMetrics> snapshot() const {
        const std::lock_guard lock(mutex_);
        return by_action_;
    }

  private:
    mutable std::mutex mutex_;
    std::map<std::string, ActionMetrics> by_action_;
};

// A log sink for a structured logger: one JSON object per line. The fields never hold a
// secret (no keys, signatures, tokens, commands or output).
void print_json_line(const eci::LogRecord& record) {
    const auto& fields = record.fields;
    std::string line =
        fmt::format(R"({{"level":"{}","message":"{}")", record.level, record.message);
    if (!fields.action.empty())
        line += fmt::format(R"(,"action":"{}")", fields.action);
    if (!fields.sandbox_id.empty())
        line += fmt::format(R"(,"sandbox_id":"{}")", fields.sandbox_id);
    if (!fields.request_id.empty())
        line += fmt::format(R"(,"request_id":"{}")", fields.request_id);
    if (fields.attempt > 0)
        line += fmt::format(R"(,"attempt":{})", fields.attempt);
    if (fields.latency)
        line += fmt::format(R"(,"latency_us":{})", fields.latency->count());
    if (fields.exit_code)
        line += fmt::format(R"(,"exit_code":{})", *fields.exit_code);
    fmt::print("{}}}\n", line);
}

}  // namespace

int main() {
    auto config = eci::load_config();  // environment, then .env
    if (!config) {
        fmt::print(stderr, "configuration: {}\n", config.error());
        return 1;
    }
    MetricsRecorder recorder;
    config->call_hook = [&recorder](const eci::CallEvent& event) { recorder.on_call(event); };

    eci::Logger logger;
    logger.level = eci::LogLevel::debug;  // the exec WebSocket's life is logged at debug
    logger.record_sink = print_json_line;

    auto client = eci::EciSandbox::from_config(std::move(*config), std::move(logger));
    if (!client) {
        fmt::print(stderr, "client: {}\n", client.error());
        return 1;
    }

    eci::CreateOptions options;
    const char* image = std::getenv("ECI_EXAMPLE_IMAGE");
    options.image = image ? image : "ubuntu:22.04";
    options.name = "call-metrics";
    options.lease = std::chrono::minutes(10);  // ends on its own should this program die
    options.wait_until_running = true;
    auto created = client->create(options);
    if (!created) {
        fmt::print(stderr, "create: {}\n", created.error());
        return 1;
    }
    eci::SandboxGuard sandbox(std::move(*created));
    auto run = sandbox->bash("echo measured; exit 4");
    if (!run || run->exit_code != 4) {
        fmt::print(stderr, "bash: {}\n", run ? "unexpected exit code" : run.error().to_string());
        return 1;
    }
    auto removed = sandbox.remove();
    if (!removed) {
        fmt::print(stderr, "delete: {}\n", removed.error());
        return 1;
    }

    // The client's own view: per-action histograms, readable from a const client.
    const eci::EciSandbox& observed = *client;
    const eci::ClientStats stats = observed.stats();
    const auto recorded = recorder.snapshot();
    bool consistent = !recorded.empty();
    fmt::print("\n{:<26} {:>6} {:>6} {:>6} {:>10} {:>10} {:>10}\n", "action", "calls", "ok",
               "failed", "mean ms", "p50 ms", "p99 ms");
    for (const auto& [action, histogram] : stats.api_latency) {
        const auto found = recorded.find(action);
        const ActionMetrics metrics = found == recorded.end() ? ActionMetrics{} : found->second;
        fmt::print("{:<26} {:>6} {:>6} {:>6} {:>10.2f} {:>10.2f} {:>10.2f}\n", action,
                   histogram.count, metrics.succeeded, metrics.failed,
                   histogram.mean().count() / 1000.0, histogram.quantile(0.5).count() / 1000.0,
                   histogram.quantile(0.99).count() / 1000.0);
        // Every attempt the client counted reached the hook, once at start and once at its end.
        const auto attempts = stats.api_calls.count(action) ? stats.api_calls.at(action) : 0;
        consistent = consistent && metrics.started == attempts &&
                     metrics.succeeded + metrics.failed == attempts;
    }
    consistent = consistent && recorded.size() == stats.api_latency.size();
    fmt::print("hook and client stats {}\n", consistent ? "agree" : "DISAGREE");
    return consistent ? 0 : 1;
}
