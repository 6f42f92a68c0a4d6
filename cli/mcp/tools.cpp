// SPDX-License-Identifier: Apache-2.0
#include "cli/mcp/tools.hpp"

#include <eci/async_sandbox.hpp>
#include <eci/text.hpp>

#include <boost/json/array.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace eci::cli::mcp {

namespace {

namespace json = boost::json;
using boost::asio::awaitable;

// ---- argument access (the input schema was checked before a handler runs) ----

std::string text_arg(const json::object& args, std::string_view key) {
    const json::value* value = args.if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

std::optional<std::chrono::milliseconds> seconds_arg(const json::object& args,
                                                     std::string_view key) {
    const json::value* value = args.if_contains(key);
    if (value == nullptr)
        return std::nullopt;
    double seconds = value->is_double()  ? value->as_double()
                     : value->is_int64() ? static_cast<double>(value->as_int64())
                                         : static_cast<double>(value->as_uint64());
    // At least 1 ms: the library reads a zero timeout as "the default" (600 s).
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::milliseconds(static_cast<long long>(seconds * 1000.0 + 0.5)));
}

json::value optional_int(const std::optional<int>& value) {
    return value ? json::value(*value) : json::value(nullptr);
}

ToolOutcome ok(json::object value) {
    return ToolOutcome{false, std::move(value)};
}

ToolOutcome poll_outcome(const std::string& sandbox_id, const TmuxPollResult& poll) {
    return ok(json::object{{"sandbox_id", sandbox_id},
                           {"job_id", poll.session_id},
                           {"status", to_string(poll.status)},
                           {"exit_code", optional_int(poll.exit_code)},
                           {"stdout", valid_utf8(poll.output)},
                           {"truncated", poll.output_truncated}});
}

// ---- the handlers ----

awaitable<ToolOutcome> create_sandbox(ToolContext& context, json::object args) {
    CreateOptions options;
    options.image = text_arg(args, "image");
    options.name = text_arg(args, "name");
    if (const json::value* env = args.if_contains("env"); env != nullptr && env->is_object()) {
        for (const auto& [key, value] : env->as_object())
            options.env.push_back(EnvironmentVar{std::string(key), std::string(value.as_string())});
    }
    options.lease = context.lease;
    options.wait_until_running = true;  // an agent's next call uses it at once
    auto created = co_await context.client.create(std::move(options));
    if (!created) {
        // Left behind by a failed wait whose cleanup failed: still ours to delete at exit.
        if (!created.error().sandbox_id.empty() && !created.error().sandbox_deleted)
            context.managed.insert(created.error().sandbox_id);
        co_return error_outcome(created.error());
    }
    const std::string id = created->id();
    context.managed.insert(id);
    auto info = co_await created->info();
    json::object result{{"sandbox_id", id},
                        {"name", info ? info->name : std::string()},
                        {"status", info ? info->status : std::string("Running")},
                        {"lease_seconds", context.lease.count()}};
    co_return ok(std::move(result));
}

awaitable<ToolOutcome> list_sandboxes(ToolContext& context, json::object) {
    auto listed = co_await context.client.list_all();
    if (!listed)
        co_return error_outcome(listed.error());
    json::array sandboxes;
    for (const auto& info : *listed)
        sandboxes.push_back(
            json::object{{"sandbox_id", info.sandbox_id},
                         {"name", info.name},
                         {"status", info.status},
                         {"created_by_this_server", context.managed.contains(info.sandbox_id)}});
    co_return ok(json::object{{"sandboxes", std::move(sandboxes)}});
}

awaitable<ToolOutcome> delete_sandbox(ToolContext& context, json::object args) {
    std::string id = text_arg(args, "sandbox_id");
    auto removed = co_await context.client.remove(id, true);
    if (!removed)
        co_return error_outcome(removed.error());
    context.managed.erase(id);
    co_return ok(json::object{{"sandbox_id", id}, {"status", "deleted"}});
}

awaitable<ToolOutcome> run_command(ToolContext& context, json::object args) {
    std::string id = text_arg(args, "sandbox_id");
    std::string command = text_arg(args, "command");
    ExecOptions options;
    if (auto timeout = seconds_arg(args, "timeout_seconds"))
        options.timeout = *timeout;
    options.exec_dir = text_arg(args, "workdir");
    options.max_output_bytes = max_command_output_bytes;
    auto ran = co_await context.client.bash(id, std::move(command), std::move(options));
    if (!ran)
        co_return error_outcome(ran.error());
    co_return ok(json::object{{"sandbox_id", id},
                              {"status", to_string(ran->outcome)},
                              {"exit_code", optional_int(ran->exit_code)},
                              {"stdout", valid_utf8(ran->stdout_text)},
                              {"stderr", valid_utf8(ran->stderr_text)},
                              {"truncated", ran->truncated},
                              {"duration_ms", ran->duration.count()}});
}

awaitable<ToolOutcome> start_job(ToolContext& context, json::object args) {
    std::string id = text_arg(args, "sandbox_id");
    std::string command = text_arg(args, "command");
    TmuxStartOptions options;
    options.exec_dir = text_arg(args, "workdir");
    auto started = co_await context.client.tmux_start(id, std::move(command), std::move(options));
    if (!started)
        co_return error_outcome(started.error());
    co_return ok(json::object{{"sandbox_id", id}, {"job_id", *started}, {"status", "running"}});
}

awaitable<ToolOutcome> poll_job(ToolContext& context, json::object args) {
    std::string id = text_arg(args, "sandbox_id");
    std::string job = text_arg(args, "job_id");
    auto polled = co_await context.client.tmux_poll(id, std::move(job));
    if (!polled)
        co_return error_outcome(polled.error());
    co_return poll_outcome(id, *polled);
}

awaitable<ToolOutcome> wait_job(ToolContext& context, json::object args) {
    std::string id = text_arg(args, "sandbox_id");
    std::string job = text_arg(args, "job_id");
    TmuxWaitOptions options;
    if (auto timeout = seconds_arg(args, "timeout_seconds"))
        options.timeout = *timeout;
    auto waited = co_await context.client.tmux_wait(id, std::move(job), std::move(options));
    if (!waited)
        co_return error_outcome(waited.error());
    co_return poll_outcome(id, *waited);
}

awaitable<ToolOutcome> kill_job(ToolContext& context, json::object args) {
    std::string id = text_arg(args, "sandbox_id");
    std::string job = text_arg(args, "job_id");
    auto killed = co_await context.client.tmux_kill(id, job);
    if (!killed)
        co_return error_outcome(killed.error());
    co_return ok(json::object{
        {"sandbox_id", id}, {"job_id", job}, {"status", *killed ? "killed" : "not_found"}});
}

awaitable<ToolOutcome> read_file(ToolContext& context, json::object args) {
    std::string id = text_arg(args, "sandbox_id");
    std::string path = text_arg(args, "path");
    FileTransferOptions options;
    options.max_bytes = max_read_file_bytes;
    auto file = co_await context.client.read_file(id, std::move(path), std::move(options));
    if (!file)
        co_return error_outcome(file.error());
    const bool text = is_valid_utf8(file->content);
    co_return ok(json::object{{"sandbox_id", id},
                              {"path", file->path},
                              {"content", text ? file->content : base64_encode(file->content)},
                              {"encoding", text ? "utf-8" : "base64"},
                              {"size", file->content.size()},
                              {"sha256", file->sha256}});
}

awaitable<ToolOutcome> write_file(ToolContext& context, json::object args) {
    std::string id = text_arg(args, "sandbox_id");
    std::string path = text_arg(args, "path");
    std::string content = text_arg(args, "content");
    if (text_arg(args, "encoding") == "base64") {
        auto decoded = base64_decode(content);
        if (!decoded)
            co_return error_outcome(Error::make(ErrorKind::invalid_argument,
                                                "content is not valid base64 (encoding base64)"));
        content = std::move(*decoded);
    }
    FileTransferOptions options;
    auto written = co_await context.client.write_file_ws(id, std::move(path), std::move(content),
                                                         std::move(options));
    if (!written)
        co_return error_outcome(written.error());
    co_return ok(json::object{{"sandbox_id", id},
                              {"path", written->path},
                              {"size", written->size},
                              {"sha256", written->sha256},
                              {"status", "written"}});
}

// ---- the schemas ----

// The properties most tools share, as macros so each schema stays one literal built by the
// compiler (string literals concatenate; constexpr strings do not).
#define ECI_MCP_ID \
    R"("sandbox_id":{"type":"string","minLength":1,"description":"the id of the sandbox, eci-..."})"
#define ECI_MCP_JOB \
    R"("job_id":{"type":"string","minLength":1,"description":"the job's id from start_job"})"

constexpr std::string_view job_output_schema = R"({"type":"object","properties":{
  "sandbox_id":{"type":"string"},"job_id":{"type":"string"},
  "status":{"type":"string","enum":["running","completed","not_found"]},
  "exit_code":{"type":["integer","null"]},
  "stdout":{"type":"string","description":"the terminal output of the job: stdout and stderr merged, the last 10000 lines"},
  "truncated":{"type":"boolean"}},
  "required":["sandbox_id","job_id","status","exit_code","stdout"]})";

constexpr Tool tool_table[] = {
    {{"create_sandbox", "Create a sandbox",
      "Creates a sandbox (an isolated Linux container) from an image and waits until it runs. "
      "It carries a lease (it ends by itself then) and is deleted when this server exits.",
      R"({"type":"object","properties":{
        "image":{"type":"string","minLength":1,"description":"container image, e.g. registry.example/ubuntu:22.04"},
        "name":{"type":"string","description":"sandbox name; default sandbox-<random>"},
        "env":{"type":"object","additionalProperties":{"type":"string"},"description":"environment variables of the container"}},
        "required":["image"],"additionalProperties":false})",
      R"({"type":"object","properties":{
        "sandbox_id":{"type":"string"},"name":{"type":"string"},"status":{"type":"string"},
        "lease_seconds":{"type":"integer"}},"required":["sandbox_id","status"]})"},
     create_sandbox},
    {{"list_sandboxes", "List sandboxes",
      "Lists the sandboxes of the account (id, name, status, and whether this server made it).",
      R"({"type":"object","properties":{},"additionalProperties":false})",
      R"({"type":"object","properties":{"sandboxes":{"type":"array","items":{"type":"object","properties":{
        "sandbox_id":{"type":"string"},"name":{"type":"string"},"status":{"type":"string"},
        "created_by_this_server":{"type":"boolean"}},"required":["sandbox_id","status"]}}},
        "required":["sandboxes"]})"},
     list_sandboxes},
    {{"delete_sandbox", "Delete a sandbox",
      "Deletes a sandbox and everything running in it. A sandbox that is already gone counts as "
      "deleted.",
      R"({"type":"object","properties":{)" ECI_MCP_ID
      R"(},"required":["sandbox_id"],"additionalProperties":false})",
      R"({"type":"object","properties":{"sandbox_id":{"type":"string"},"status":{"type":"string","enum":["deleted"]}},
        "required":["sandbox_id","status"]})"},
     delete_sandbox},
    {{"run_command", "Run a command",
      "Runs a bash command line (bash -lc) in a sandbox and returns its stdout, stderr and exit "
      "code apart once it ends. A nonzero exit code is a result, not an error. For commands "
      "that run long, use start_job.",
      R"({"type":"object","properties":{)" ECI_MCP_ID R"(,
        "command":{"type":"string","minLength":1,"description":"the bash command line"},
        "timeout_seconds":{"type":"number","exclusiveMinimum":0,"maximum":600,"description":"deadline in seconds; default and maximum 600"},
        "workdir":{"type":"string","description":"run in this directory"}},
        "required":["sandbox_id","command"],"additionalProperties":false})",
      R"({"type":"object","properties":{
        "sandbox_id":{"type":"string"},
        "status":{"type":"string","description":"exited or signalled"},
        "exit_code":{"type":["integer","null"]},
        "stdout":{"type":"string"},"stderr":{"type":"string"},
        "truncated":{"type":"boolean","description":"output beyond 1 MiB per stream was dropped; the last MiB is kept"},
        "duration_ms":{"type":"integer"}},
        "required":["sandbox_id","status","exit_code","stdout","stderr"]})"},
     run_command},
    {{"start_job", "Start a background job",
      "Starts a bash command line as a background job (in a tmux session) and returns its job_id "
      "at once; follow it with poll_job, wait_job and kill_job.",
      R"({"type":"object","properties":{)" ECI_MCP_ID R"(,
        "command":{"type":"string","minLength":1,"description":"the bash command line"},
        "workdir":{"type":"string","description":"run in this directory"}},
        "required":["sandbox_id","command"],"additionalProperties":false})",
      R"({"type":"object","properties":{"sandbox_id":{"type":"string"},"job_id":{"type":"string"},
        "status":{"type":"string","enum":["running"]}},"required":["sandbox_id","job_id","status"]})"},
     start_job},
    {{"poll_job", "Poll a job",
      "One look at a job: running, completed (with its exit code) or not_found, and its output so "
      "far.",
      R"({"type":"object","properties":{)" ECI_MCP_ID "," ECI_MCP_JOB R"(},
        "required":["sandbox_id","job_id"],"additionalProperties":false})",
      job_output_schema},
     poll_job},
    {{"wait_job", "Wait for a job",
      "Waits until a job completes and returns its exit code and output; its session is then "
      "removed.",
      R"({"type":"object","properties":{)" ECI_MCP_ID "," ECI_MCP_JOB R"(,
        "timeout_seconds":{"type":"number","exclusiveMinimum":0,"maximum":86400,"description":"deadline in seconds; default 600"}},
        "required":["sandbox_id","job_id"],"additionalProperties":false})",
      job_output_schema},
     wait_job},
    {{"kill_job", "Kill a job", "Kills a job (its processes get SIGHUP) and removes its session.",
      R"({"type":"object","properties":{)" ECI_MCP_ID "," ECI_MCP_JOB R"(},
        "required":["sandbox_id","job_id"],"additionalProperties":false})",
      R"({"type":"object","properties":{"sandbox_id":{"type":"string"},"job_id":{"type":"string"},
        "status":{"type":"string","enum":["killed","not_found"]}},"required":["sandbox_id","job_id","status"]})"},
     kill_job},
    {{"read_file", "Read a file",
      "Reads a file from a sandbox, byte-exact (at most 8 MiB). Text that is valid UTF-8 comes as "
      "is (encoding utf-8), anything else as base64 (encoding base64).",
      R"({"type":"object","properties":{)" ECI_MCP_ID R"(,
        "path":{"type":"string","minLength":1,"description":"absolute path in the sandbox"}},
        "required":["sandbox_id","path"],"additionalProperties":false})",
      R"({"type":"object","properties":{"sandbox_id":{"type":"string"},"path":{"type":"string"},
        "content":{"type":"string"},"encoding":{"type":"string","enum":["utf-8","base64"]},
        "size":{"type":"integer"},"sha256":{"type":"string"}},
        "required":["sandbox_id","path","content","encoding"]})"},
     read_file},
    {{"write_file", "Write a file",
      "Writes content to a file in a sandbox, byte-exact, replacing it whole (checked by size "
      "and SHA-256 before it replaces the file).",
      R"({"type":"object","properties":{)" ECI_MCP_ID R"(,
        "path":{"type":"string","minLength":1,"description":"absolute path in the sandbox"},
        "content":{"type":"string","description":"the file's content"},
        "encoding":{"type":"string","enum":["utf-8","base64"],"description":"how content is given; default utf-8"}},
        "required":["sandbox_id","path","content"],"additionalProperties":false})",
      R"({"type":"object","properties":{"sandbox_id":{"type":"string"},"path":{"type":"string"},
        "size":{"type":"integer"},"sha256":{"type":"string"},"status":{"type":"string","enum":["written"]}},
        "required":["sandbox_id","path","size","status"]})"},
     write_file},
};

#undef ECI_MCP_ID
#undef ECI_MCP_JOB

}  // namespace

std::span<const Tool> tools() {
    return tool_table;
}

std::vector<ToolInfo> tool_infos() {
    std::vector<ToolInfo> infos;
    for (const auto& tool : tool_table)
        infos.push_back(tool.info);
    return infos;
}

ToolOutcome error_outcome(const Error& error) {
    json::object details{{"kind", to_string(error.kind)},
                         {"code", valid_utf8(error.code)},
                         {"message", valid_utf8(error.message)},
                         {"service_message", valid_utf8(error.service_message)},
                         {"request_id", valid_utf8(error.request_id)},
                         {"http_status", error.http_status}};
    if (!error.sandbox_id.empty()) {
        details["sandbox_id"] = error.sandbox_id;
        details["sandbox_deleted"] = error.sandbox_deleted;
    }
    json::object value{{"error", std::move(details)}};
    if (error.partial) {
        value["stdout"] = valid_utf8(error.partial->stdout_text);
        value["stderr"] = valid_utf8(error.partial->stderr_text);
        value["exit_code"] = optional_int(error.partial->exit_code);
    }
    return ToolOutcome{true, std::move(value)};
}

}  // namespace eci::cli::mcp
