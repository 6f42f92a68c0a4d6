// SPDX-License-Identifier: Apache-2.0
// reap: crash recovery from the command line, on top of EciSandbox::reap (docs/leases.md).
#include "cli/commands.hpp"
#include "cli/json_output.hpp"

#include <eci/reaper.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace eci::cli {

namespace {

namespace json = boost::json;

constexpr OptionSpec reap_options[] = {
    {"orphans", false, false, "", "also reap orphans: made on this host by a process that is gone"},
    {"all-owners", false, false, "", "every owner's sandboxes, not only this client's owner"},
    {"dry-run", false, false, "", "list what would be deleted, delete nothing"},
};

json::value candidate_json(const ReapCandidate& candidate) {
    return json::object{
        {"sandbox_id", candidate.sandbox_id},
        {"name", candidate.name},
        {"status", candidate.status},
        {"owner", candidate.owner},
        {"lease_expires", candidate.lease_expires},
        {"process", candidate.process},
        {"reason", to_string(candidate.reason)},
    };
}

json::value failure_json(const ReapFailure& failure) {
    const Error& error = failure.error;
    return json::object{
        {"sandbox_id", failure.sandbox_id}, {"kind", to_string(error.kind)},  {"code", error.code},
        {"message", error.message},         {"request_id", error.request_id},
    };
}

json::value report_json(const ReapReport& report, const ReapOptions& options,
                        const std::string& owner) {
    json::array found;
    for (const auto& candidate : report.found)
        found.push_back(candidate_json(candidate));
    json::array deleted;
    for (const auto& id : report.deleted)
        deleted.push_back(json::value(id));
    json::array failed;
    for (const auto& failure : report.failed)
        failed.push_back(failure_json(failure));
    return json::object{
        {"dry_run", report.dry_run},
        {"owner", options.all_owners ? json::value(nullptr) : json::value(owner)},
        {"all_owners", options.all_owners},
        {"orphans", options.include_orphans},
        {"examined", report.examined},
        {"found", std::move(found)},
        {"deleted", std::move(deleted)},
        {"failed", std::move(failed)},
    };
}

void print_report_text(const ReapReport& report) {
    // One line per selected sandbox, what happened to it first, so scripts can cut fields.
    for (const auto& candidate : report.found) {
        const bool deleted = std::find(report.deleted.begin(), report.deleted.end(),
                                       candidate.sandbox_id) != report.deleted.end();
        const std::string_view verb = report.dry_run ? "would-delete"
                                      : deleted      ? "deleted"
                                                     : "failed";
        print_line(fmt::format("{} {} {} {} {} owner={}", verb, candidate.sandbox_id,
                               to_string(candidate.reason), candidate.status, candidate.name,
                               candidate.owner));
    }
    if (report.dry_run)
        print_line(fmt::format("dry run: {} examined, {} would be deleted", report.examined,
                               report.found.size()));
    else
        print_line(fmt::format("{} examined, {} deleted, {} failed", report.examined,
                               report.deleted.size(), report.failed.size()));
}

int run_reap(Invocation& invocation) {
    if (!invocation.expect_positionals({}))
        return exit_code::usage;
    ReapOptions options;
    options.include_orphans = invocation.args.has("orphans");
    options.all_owners = invocation.args.has("all-owners");
    options.dry_run = invocation.args.has("dry-run");
    auto* client = invocation.client();
    if (client == nullptr)
        return exit_code::error;
    const std::string owner = client->lease_owner();
    auto report = client->reap(options);
    if (!report)
        return report_error(report.error());
    if (invocation.json)
        print_json(report_json(*report, options, owner));
    else
        print_report_text(*report);
    // Every failed delete gets its own error line; any failure makes the run a failure, so a
    // cron job notices sandboxes still burning money.
    int code = exit_code::ok;
    for (const auto& failure : report->failed) {
        Error error = failure.error;
        error.message = fmt::format("delete {}: {}", failure.sandbox_id, error.message);
        code = report_error(error);
    }
    return report->failed.empty() ? exit_code::ok : code;
}

const Command commands[] = {
    {"reap", "[--orphans] [--all-owners] [--dry-run]",
     "delete sandboxes whose lease expired (or, with --orphans, whose creator died)", reap_options,
     "Considers only sandboxes this library tagged (eci-sandbox:owner), by default those of\n"
     "this client's owner (ECI_SANDBOX_OWNER, else <user>@<host>). Selects a sandbox when its\n"
     "eci-sandbox:lease-expires has passed, or with --orphans when its eci-sandbox:process\n"
     "names a process on this host that no longer exists. Sandboxes made by `eci-sandbox\n"
     "create` are never orphans (they are meant to outlive the command). Prints one line per\n"
     "selected sandbox (`deleted|would-delete|failed ID REASON STATUS NAME owner=OWNER`) and a\n"
     "summary; with --json one object (docs/cli.md). Exits 1 when a delete failed.\n",
     run_reap},
};

}  // namespace

std::span<const Command> reap_commands() {
    return commands;
}

}  // namespace eci::cli
