// SPDX-License-Identifier: Apache-2.0
// tmux_demo: long-running jobs in tmux sessions (Python tmux_demo). Starts a job that keeps
// running in the sandbox after the call returns, polls it (one exec per poll), lists the
// sessions, waits for it with backoff and reads its exit code and output, then starts a
// second job and kills it.
//
// Configured from the environment (see quick_start_sync.cpp); ECI_EXAMPLE_IMAGE picks the
// image, which needs tmux (the emulator's sandboxes have it).
#include <eci/sandbox.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>

using namespace std::chrono_literals;

namespace {

int run(eci::Sandbox& sandbox) {
    eci::TmuxStartOptions start;
    start.session_id = "build-job";
    start.exec_dir = "/tmp";
    auto job = sandbox.tmux_start(
        "echo \"building in $(pwd)\"; for i in 1 2 3; do echo \"step $i\"; sleep 0.5; done; "
        "echo done; exit 0",
        start);
    if (!job) {
        fmt::print(stderr, "tmux_start: {}\n", job.error());
        return 1;
    }
    fmt::print("started session {}\n", *job);

    auto poll = sandbox.tmux_poll(*job);
    if (!poll) {
        fmt::print(stderr, "tmux_poll: {}\n", poll.error());
        return 1;
    }
    fmt::print("poll: {}, output so far:\n{}\n", eci::to_string(poll->status), poll->output);

    auto sessions = sandbox.tmux_list();
    if (!sessions) {
        fmt::print(stderr, "tmux_list: {}\n", sessions.error());
        return 1;
    }
    for (const auto& session : *sessions)
        fmt::print("session {} created at {}\n", session.session_id, session.created);

    eci::TmuxWaitOptions wait;  // polls at 0.1 s, x1.5, at most 5 s apart (Python's)
    wait.timeout = 60s;
    auto done = sandbox.tmux_wait(*job, wait);
    if (!done) {
        fmt::print(stderr, "tmux_wait: {}\n", done.error());
        return 1;
    }
    fmt::print("wait: {} with exit code {}\n{}\n", eci::to_string(done->status),
               done->exit_code.value_or(-1), done->output);
    if (done->exit_code != 0)
        return 1;

    auto endless = sandbox.tmux_start("while true; do date; sleep 1; done");
    if (!endless) {
        fmt::print(stderr, "tmux_start: {}\n", endless.error());
        return 1;
    }
    auto killed = sandbox.tmux_kill(*endless);
    if (!killed || !*killed) {
        fmt::print(stderr, "tmux_kill did not kill {}\n", *endless);
        return 1;
    }
    auto after = sandbox.tmux_poll(*endless);
    fmt::print("after kill: {}\n", after ? eci::to_string(after->status) : "poll failed");
    return after && after->status == eci::TmuxStatus::not_found ? 0 : 1;
}

}  // namespace

int main() {
    auto client = eci::EciSandbox::from_config();
    if (!client) {
        fmt::print(stderr, "configuration: {}\n", client.error());
        return 1;
    }
    eci::CreateOptions options;
    const char* image = std::getenv("ECI_EXAMPLE_IMAGE");
    options.image = image ? image : "ubuntu:22.04";
    options.name = "tmux-demo";
    options.wait_until_running = true;
    auto created = client->create(options);
    if (!created) {
        fmt::print(stderr, "create: {}\n", created.error());
        return 1;
    }
    eci::SandboxGuard sandbox(std::move(*created));  // deleted when main returns
    return run(*sandbox);
}
