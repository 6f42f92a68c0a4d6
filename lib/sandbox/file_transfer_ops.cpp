// SPDX-License-Identifier: Apache-2.0
#include "sandbox/file_transfer_ops.hpp"

#include "core/crypto.hpp"
#include "core/file_transfer.hpp"
#include "core/redact.hpp"
#include "sandbox/exec_runner.hpp"

#include <eci/async_sandbox.hpp>

#include <fmt/format.h>

#include <optional>

namespace eci::detail {
namespace asio = boost::asio;

namespace {

Error invalid(std::string message) {
    return Error::make(ErrorKind::invalid_argument, std::move(message));
}

}  // namespace

std::size_t file_read_reply_bound(std::size_t max_bytes) noexcept {
    const std::size_t base64 = (max_bytes / 3 + 1) * 4;
    return base64 + base64 / 76 + 64 * 1024;
}

asio::awaitable<Result<FileWriteResult>> write_file(std::shared_ptr<AsyncEciSandbox::State> state,
                                                    std::string sandbox_id,
                                                    std::string container_name, std::string path,
                                                    std::string content,
                                                    std::chrono::milliseconds timeout) {
    auto plan = plan_file_write(path, content);
    if (!plan.ok())
        co_return std::move(plan).error();
    ExecOptions options;
    options.timeout = timeout;
    // The bytes follow the script on stdin; the exec WebSocket sends them in frames of
    // max_stdin_frame_bytes (= file_stdin_chunk_size).
    std::optional<std::string> stdin_data = std::move(content);
    auto run =
        co_await run_script(state, std::move(sandbox_id), std::move(container_name), plan->script,
                            std::move(stdin_data), std::move(options), small_script_reply_bytes);
    if (!run.ok())
        co_return std::move(run).error();
    if (auto written = parse_file_write_reply(run->stdout_text, *plan); !written.ok()) {
        auto error = after_exec(std::move(written).error(), *run);
        error.message = fmt::format("{} ({})", error.message, path);
        co_return error;
    }
    FileWriteResult result;
    result.path = std::move(path);
    result.size = plan->size;
    result.sha256 = plan->expected_sha256;
    result.request_id = run->request_id;
    co_return result;
}

asio::awaitable<Result<FileReadResult>> read_file(std::shared_ptr<AsyncEciSandbox::State> state,
                                                  std::string sandbox_id,
                                                  std::string container_name, std::string path,
                                                  std::chrono::milliseconds timeout,
                                                  std::size_t max_bytes) {
    if (max_bytes == 0)
        max_bytes = FileTransferOptions::default_max_bytes;
    auto script = file_read_script(path);
    if (!script.ok())
        co_return std::move(script).error();
    ExecOptions options;
    options.timeout = timeout;
    options.idempotent = true;  // reading twice is harmless
    auto run = co_await run_script(state, std::move(sandbox_id), std::move(container_name),
                                   std::move(script).value(), std::nullopt, std::move(options),
                                   file_read_reply_bound(max_bytes));
    if (!run.ok()) {
        auto error = std::move(run).error();
        if (error.kind == ErrorKind::protocol &&
            error.message.find("the bound of this operation") != std::string::npos) {
            error.message = fmt::format(
                "reading {} passed FileTransferOptions::max_bytes {} (the transfer passed {} "
                "bytes); the stream was closed",
                path, max_bytes, file_read_reply_bound(max_bytes));
        }
        co_return error;
    }
    // run_script keeps stdout whole up to the bound, so a file is never cut silently.
    auto content = parse_file_read_reply(run->stdout_text);
    if (!content.ok()) {
        auto error = after_exec(std::move(content).error(), *run);
        error.message = fmt::format("{} ({})", error.message, path);
        if (error.service_message.empty())
            error.service_message = redact_secrets(run->stderr_text);
        co_return error;
    }
    FileReadResult result;
    result.path = std::move(path);
    result.content = std::move(content).value();
    result.sha256 = sha256_hex(result.content);
    result.request_id = run->request_id;
    co_return result;
}

}  // namespace eci::detail

namespace eci {
namespace asio = boost::asio;

namespace {

// Checks the arguments of a transfer and names its container (no API call when `given` is
// set). Errors: invalid_argument; those of resolve_container_name.
asio::awaitable<Result<std::string>> transfer_container(
    std::shared_ptr<AsyncEciSandbox::State> state, std::string sandbox_id, bool has_path,
    std::string given) {
    if (sandbox_id.empty())
        co_return detail::invalid("sandbox_id is required");
    if (!has_path)
        co_return detail::invalid("file path is required");
    co_return co_await detail::resolve_container_name(std::move(state), std::move(sandbox_id),
                                                      std::move(given));
}

}  // namespace

asio::awaitable<Result<FileWriteResult>> AsyncEciSandbox::write_file_ws(
    std::string sandbox_id, std::string path, std::string content, FileTransferOptions options) {
    const bool has_path = !path.empty();
    auto container =
        co_await transfer_container(state_, sandbox_id, has_path, options.container_name);
    if (!container.ok())
        co_return std::move(container).error();
    co_return co_await detail::write_file(state_, std::move(sandbox_id),
                                          std::move(container).value(), std::move(path),
                                          std::move(content), options.timeout);
}

asio::awaitable<Result<FileReadResult>> AsyncEciSandbox::read_file(std::string sandbox_id,
                                                                   std::string path,
                                                                   FileTransferOptions options) {
    const bool has_path = !path.empty();
    auto container =
        co_await transfer_container(state_, sandbox_id, has_path, options.container_name);
    if (!container.ok())
        co_return std::move(container).error();
    co_return co_await detail::read_file(state_, std::move(sandbox_id),
                                         std::move(container).value(), std::move(path),
                                         options.timeout, options.max_bytes);
}

asio::awaitable<Result<FileWriteResult>> AsyncSandbox::write_file_ws(std::string path,
                                                                     std::string content,
                                                                     FileTransferOptions options) {
    if (options.container_name.empty())
        options.container_name = container_name_;
    return client_.write_file_ws(sandbox_id_, std::move(path), std::move(content),
                                 std::move(options));
}

asio::awaitable<Result<FileReadResult>> AsyncSandbox::read_file(std::string path,
                                                                FileTransferOptions options) {
    if (options.container_name.empty())
        options.container_name = container_name_;
    return client_.read_file(sandbox_id_, std::move(path), std::move(options));
}

}  // namespace eci
