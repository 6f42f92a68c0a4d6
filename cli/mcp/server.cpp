// SPDX-License-Identifier: Apache-2.0
#include "cli/mcp/server.hpp"

#include "cli/mcp/protocol.hpp"
#include "cli/mcp/tools.hpp"

#include <eci/version.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

namespace eci::cli::mcp {

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using Clock = std::chrono::steady_clock;

/// Bound of the wait for cancelled calls to return (they return at once unless a bug).
constexpr std::chrono::seconds cancel_grace{10};
/// Bound of the deletes at exit (a delete retries until the service confirms it).
constexpr std::chrono::seconds cleanup_deadline{60};

template <class... Args>
void note(fmt::format_string<Args...> format, Args&&... args) {
    // stderr only: stdout carries the protocol and nothing else.
    fmt::print(stderr, "eci-sandbox mcp: {}\n", fmt::format(format, std::forward<Args>(args)...));
    std::fflush(stderr);
}

/// Writes a whole reply line to stdout. Blocking on purpose: replies leave whole and in
/// order, and a host reads its server's stdout continuously (MCP stdio transport). stdin's
/// O_NONBLOCK (set by Asio) may be shared with stdout on a terminal, hence the poll.
bool write_stdout(std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(STDOUT_FILENO, bytes.data(), bytes.size());
        if (n >= 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            pollfd out{STDOUT_FILENO, POLLOUT, 0};
            ::poll(&out, 1, -1);
            continue;
        }
        return false;  // the host closed our stdout: it is gone
    }
    return true;
}

awaitable<ToolOutcome> invoke(ToolHandler handler, std::shared_ptr<ToolContext> context,
                              json::object arguments) {
    // The context is held here, so a call outliving the server's loop never dangles.
    co_return co_await handler(*context, std::move(arguments));
}

/// Deletes one sandbox; the error's text, or empty on success.
awaitable<std::string> remove_sandbox(AsyncEciSandbox client, std::string id) {
    auto removed = co_await client.remove(std::move(id), true);
    co_return removed ? std::string() : removed.error().to_string();
}

class Server {
  public:
    Server(asio::io_context& io, std::shared_ptr<ToolContext> context, ServerOptions options)
        : io_(io),
          infos_(tool_infos()),
          protocol_(infos_, std::string(eci::version())),
          context_(std::move(context)),
          options_(std::move(options)),
          idle_(io),
          input_(io),
          signals_(io, SIGINT, SIGTERM),
          stdin_flags_(::fcntl(STDIN_FILENO, F_GETFL)) {}

    ~Server() { restore_stdin(); }

    awaitable<int> run() {
        arm_signals();
        note("serving MCP on stdio (lease {} s; sandboxes it creates are {} at exit)",
             options_.lease.count(), options_.keep_sandboxes ? "kept" : "deleted");
        co_await read_stdin();
        if (!stopping_ && !calls_.empty())
            note("stdin closed: finishing {} call(s) in flight", calls_.size());
        co_await calls_done();
        const int code = co_await cleanup();
        signals_.cancel();
        co_return code;
    }

  private:
    struct Call {
        std::shared_ptr<asio::cancellation_signal> signal;
        bool cancelled = false;
    };

    void restore_stdin() const {
        if (stdin_flags_ >= 0)
            ::fcntl(STDIN_FILENO, F_SETFL, stdin_flags_);
    }

    void arm_signals() {
        signals_.async_wait([this](boost::system::error_code ec, int number) {
            if (ec)
                return;
            if (++signal_count_ >= 2) {
                note("second signal {}: exiting now; {} sandbox(es) are left to their lease",
                     number, context_->managed.size());
                restore_stdin();
                std::_Exit(128 + number);
            }
            note("signal {}: cancelling {} call(s) in flight, then cleaning up", number,
                 calls_.size());
            begin_stop();
            arm_signals();
        });
    }

    void begin_stop() {
        if (stopping_)
            return;
        stopping_ = true;
        stop_deadline_ = Clock::now() + cancel_grace;
        boost::system::error_code ignored;
        input_.cancel(ignored);
        for (auto& [key, call] : calls_) {
            if (!call.cancelled) {
                call.cancelled = true;
                call.signal->emit(asio::cancellation_type::terminal);
            }
        }
        idle_.cancel();
    }

    awaitable<void> read_stdin() {
        LineSplitter splitter;
        std::array<char, 65536> buffer{};
        boost::system::error_code ec;
        const int fd = ::dup(STDIN_FILENO);
        if (fd >= 0)
            input_.assign(fd, ec);
        // A regular file (`mcp < requests.jsonl`) cannot be polled: read it blocking, which
        // never waits long, and let the calls run between chunks.
        const bool async = fd >= 0 && !ec;
        if (fd >= 0 && !async)
            ::close(fd);
        while (!stopping_) {
            std::size_t got = 0;
            if (async) {
                auto [read_ec, n] = co_await input_.async_read_some(
                    asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
                if (read_ec)
                    break;  // end of input, or cancelled by a signal
                got = n;
            } else {
                const ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    break;
                got = static_cast<std::size_t>(n);
                co_await asio::post(io_, asio::use_awaitable);
            }
            splitter.feed(std::string_view(buffer.data(), got));
            while (auto line = splitter.next())
                on_line(*line);
        }
        if (!stopping_) {
            if (auto line = splitter.finish())
                on_line(*line);
        }
    }

    void on_line(const LineSplitter::Line& line) {
        if (line.too_long) {
            note("discarded a line longer than {} bytes", max_line_bytes);
            write(protocol_.handle_overlong().line);
            return;
        }
        Action action = protocol_.handle_line(line.text);
        if (auto* reply = std::get_if<Reply>(&action))
            write(reply->line);
        else if (auto* call = std::get_if<CallTool>(&action))
            start_call(std::move(*call));
        else if (auto* cancel = std::get_if<CancelCall>(&action))
            cancel_call(cancel->request_id);
    }

    void write(std::string_view line) {
        if (output_closed_)
            return;
        if (!write_stdout(line)) {
            output_closed_ = true;
            note("stdout closed: the host is gone");
        }
    }

    void start_call(CallTool call) {
        std::string key = json::serialize(call.id);
        if (calls_.contains(key)) {
            write(error_line(call.id, rpc_error::invalid_request,
                             "invalid request: a request with this id is in flight"));
            return;
        }
        if (stopping_) {
            write(error_line(call.id, rpc_error::internal_error, "the server is shutting down"));
            return;
        }
        auto signal = std::make_shared<asio::cancellation_signal>();
        calls_.emplace(key, Call{signal, false});
        const Tool& tool = tools()[call.tool];
        asio::co_spawn(io_, invoke(tool.handler, context_, std::move(call.arguments)),
                       asio::bind_cancellation_slot(
                           signal->slot(), [this, signal, key, id = std::move(call.id)](
                                               std::exception_ptr error, ToolOutcome outcome) {
                               finish_call(key, id, error, std::move(outcome));
                           }));
    }

    void finish_call(const std::string& key, const json::value& id, std::exception_ptr error,
                     ToolOutcome outcome) {
        auto found = calls_.find(key);
        const bool cancelled = found != calls_.end() && found->second.cancelled;
        if (found != calls_.end())
            calls_.erase(found);
        idle_.cancel();
        if (cancelled)
            return;  // MCP: a cancelled request gets no response
        if (error) {
            std::string what = "internal error";
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                what = fmt::format("internal error: {}", e.what());
            } catch (...) {
            }
            write(error_line(id, rpc_error::internal_error, what));
            return;
        }
        write(protocol_.tool_result_line(id, outcome));
    }

    void cancel_call(const json::value& id) {
        auto found = calls_.find(json::serialize(id));
        if (found == calls_.end() || found->second.cancelled)
            return;  // already answered (the race the spec allows), or unknown
        found->second.cancelled = true;
        found->second.signal->emit(asio::cancellation_type::terminal);
    }

    awaitable<void> calls_done() {
        while (!calls_.empty()) {
            if (stopping_ && Clock::now() >= stop_deadline_) {
                note("{} cancelled call(s) did not return within {} s", calls_.size(),
                     cancel_grace.count());
                co_return;
            }
            idle_.expires_at(stopping_ ? stop_deadline_ : Clock::time_point::max());
            co_await idle_.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }

    awaitable<int> cleanup() {
        auto& managed = context_->managed;
        if (managed.empty())
            co_return 0;
        if (options_.keep_sandboxes) {
            note("keeping {} sandbox(es) (--keep-sandboxes); their lease ends them",
                 managed.size());
            co_return 0;
        }
        note("deleting {} sandbox(es) this server created", managed.size());
        std::size_t pending = managed.size();
        int failures = 0;
        asio::steady_timer done(io_);
        for (const auto& id : managed) {
            asio::co_spawn(io_, remove_sandbox(context_->client, id),
                           [&, id](std::exception_ptr error, std::string failure) {
                               if (error || !failure.empty()) {
                                   ++failures;
                                   note("could not delete {}: {}", id,
                                        error ? std::string("internal error") : failure);
                               }
                               --pending;
                               done.cancel();
                           });
        }
        const auto deadline = Clock::now() + cleanup_deadline;
        while (pending > 0 && Clock::now() < deadline) {
            done.expires_at(deadline);
            co_await done.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        if (pending > 0) {
            note("{} delete(s) still running after {} s; their lease ends them", pending,
                 cleanup_deadline.count());
            // The callbacks above refer to this frame: end the process before it is gone.
            restore_stdin();
            std::fflush(stderr);
            std::_Exit(1);
        }
        managed.clear();
        co_return failures == 0 ? 0 : 1;
    }

    asio::io_context& io_;
    std::vector<ToolInfo> infos_;
    Protocol protocol_;
    std::shared_ptr<ToolContext> context_;
    ServerOptions options_;
    std::map<std::string, Call> calls_;  ///< by the serialized request id
    asio::steady_timer idle_;            ///< woken whenever a call ends or a stop begins
    asio::posix::stream_descriptor input_;
    asio::signal_set signals_;
    int stdin_flags_;
    int signal_count_ = 0;
    bool stopping_ = false;
    bool output_closed_ = false;
    Clock::time_point stop_deadline_{};
};

}  // namespace

Result<int> serve_stdio(const ConfigOverrides& overrides, ServerOptions options) {
    std::signal(SIGPIPE, SIG_IGN);  // a gone host is seen as EPIPE on write
    asio::io_context io;
    auto client = AsyncEciSandbox::from_config(io.get_executor(), overrides, options.logger);
    if (!client)
        return std::move(client).error();
    auto context = std::make_shared<ToolContext>(ToolContext{*client, options.lease, {}});
    int code = 1;
    {
        Server server(io, context, std::move(options));
        asio::co_spawn(io, server.run(), [&](std::exception_ptr error, int result) {
            if (error) {
                try {
                    std::rethrow_exception(error);
                } catch (const std::exception& e) {
                    note("internal error: {}", e.what());
                } catch (...) {
                    note("internal error");
                }
            }
            code = error ? 1 : result;
            io.stop();
        });
        io.run();
    }
    return code;
}

}  // namespace eci::cli::mcp
