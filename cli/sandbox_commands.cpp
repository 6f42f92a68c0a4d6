// SPDX-License-Identifier: Apache-2.0
// create, list, info, restart, delete: the lifecycle of sandboxes.
#include "cli/commands.hpp"
#include "cli/json_output.hpp"

#include <eci/reaper.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

namespace eci::cli {

namespace {

namespace json = boost::json;

constexpr OptionSpec create_options[] = {
    {"image", true, false, "IMAGE", "container image (required)"},
    {"name", true, false, "NAME", "sandbox name (default: sandbox-<random>)"},
    {"cpu", true, false, "VCPU", "vCPU (default 1)"},
    {"memory", true, false, "GIB", "memory in GiB (default 2)"},
    {"env", true, true, "K=V", "environment variable of the container"},
    {"port", true, true, "N[/TCP|UDP]", "container port"},
    {"tag", true, true, "K=V", "tag of the sandbox"},
    {"container-name", true, false, "NAME", "name of the container (default sandbox)"},
    {"no-wait", false, false, "", "return once the create is accepted, before Running"},
    {"wait", false, false, "", "deprecated, the default since 0.2: wait until Running"},
    {"wait-timeout", true, false, "SECONDS", "bound of the wait for Running (default 300)"},
    {"quiet", false, false, "", "print the id only", 'q'},
};

constexpr OptionSpec list_options[] = {
    {"status", true, false, "STATUS", "only sandboxes in this status (e.g. Running)"},
    {"name", true, false, "NAME", "only sandboxes with this name"},
    {"tag", true, true, "K=V", "only sandboxes with this tag"},
    {"quiet", false, false, "", "print the ids only, one per line", 'q'},
};

constexpr OptionSpec restart_options[] = {
    {"quiet", false, false, "", "print the id only", 'q'},
};

constexpr OptionSpec delete_options[] = {
    {"force", false, false, "", "skip the grace period"},
    {"tag", true, true, "K=V", "delete every sandbox with these tags (all of them)"},
    {"quiet", false, false, "", "print the deleted ids only", 'q'},
};

constexpr OptionSpec logs_options[] = {
    {"container", true, false, "NAME", "container (default: the first)"},
    {"tail", true, false, "LINES", "the last LINES lines, 1..2000 (default: the service's 500)"},
    {"since", true, false, "SECONDS", "only lines of the last SECONDS seconds"},
    {"limit-bytes", true, false, "N", "at most N bytes, 1..1048576"},
    {"timestamps", false, false, "", "prefix each line with its time"},
    {"previous", false, false, "", "the run before the last restart"},
};

/// The instance statuses of ECI (the API reference's status table); `list --status` takes
/// them in any case.
constexpr std::string_view sandbox_statuses[] = {
    "Scheduling",  "Pending",   "Running", "Restarting", "Updating",
    "Terminating", "Succeeded", "Failed",  "Expired",    "ScheduleFailed",
};

bool same_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
               return lower(x) == lower(y);
           });
}

template <class Apply>
bool parse_pairs(Invocation& invocation, std::string_view option, Apply apply) {
    for (const auto& text : invocation.args.all(option)) {
        auto pair = parse_key_value(fmt::format("--{}", option), text);
        if (!pair) {
            usage_error(invocation, pair.error().message);
            return false;
        }
        apply(std::move(pair->first), std::move(pair->second));
    }
    return true;
}

int run_create(Invocation& invocation) {
    if (!invocation.expect_positionals({}))
        return exit_code::usage;
    CreateOptions options;
    auto image = invocation.args.value("image");
    if (!image || image->empty())
        return usage_error(invocation, "--image is required");
    options.image = *image;
    // `-- COMMAND ARGS...`: the container's main process instead of the image's entrypoint.
    options.command = invocation.args.rest;
    options.name = invocation.args.value("name").value_or("");
    if (auto name = invocation.args.value("container-name"))
        options.container_name = *name;
    if (auto text = invocation.args.value("cpu")) {
        auto cpu = parse_number("--cpu", *text, 0.01, 1024);
        if (!cpu)
            return usage_error(invocation, cpu.error().message);
        options.cpu = *cpu;
    }
    if (auto text = invocation.args.value("memory")) {
        auto memory = parse_number("--memory", *text, 0.01, 16384);
        if (!memory)
            return usage_error(invocation, memory.error().message);
        options.memory = *memory;
    }
    if (!parse_pairs(invocation, "env", [&](std::string key, std::string value) {
            options.env.push_back({std::move(key), std::move(value)});
        }))
        return exit_code::usage;
    if (!parse_pairs(invocation, "tag", [&](std::string key, std::string value) {
            options.tags.push_back({std::move(key), std::move(value)});
        }))
        return exit_code::usage;
    // This process exits right after the create, on purpose: tag the sandbox as detached so
    // `reap --orphans` does not take it for a crashed creator's leftover (docs/leases.md).
    const bool process_tagged =
        std::any_of(options.tags.begin(), options.tags.end(),
                    [](const Tag& tag) { return tag.key == lease_tags::process; });
    if (!process_tagged)
        options.tags.push_back(
            {std::string(lease_tags::process), std::string(lease_tags::detached)});
    for (const auto& text : invocation.args.all("port")) {
        auto port = parse_port("--port", text);
        if (!port)
            return usage_error(invocation, port.error().message);
        options.ports.push_back({port->first, std::move(port->second)});
    }
    // Waiting for Running is the default (0.2); --wait is kept, as a no-op, for one version.
    const bool wait = !invocation.args.has("no-wait");
    if (!wait && invocation.args.has("wait"))
        return usage_error(invocation, "--wait and --no-wait contradict each other");
    if (!wait && invocation.args.value("wait-timeout"))
        return usage_error(invocation, "--wait-timeout bounds the wait, which --no-wait skips");
    auto wait_timeout =
        seconds_option(invocation, "wait-timeout", std::chrono::milliseconds(300000));
    if (!wait_timeout)
        return exit_code::usage;

    auto* client = invocation.client();
    if (client == nullptr)
        return exit_code::error;
    // The wait below is this command's own, with progress on stderr.
    options.wait_until_running = false;
    auto created = client->create(std::move(options));
    if (!created)
        return report_error(created.error());
    const std::string id = created->id();
    // --json prints the same description with or without --no-wait; a failure after the create
    // names the sandbox in the error ("sandbox_id"), so it can be deleted.
    auto failed_after_create = [&](Error error) {
        if (error.sandbox_id.empty())
            error.sandbox_id = id;
        if (!invocation.json)
            print_line(id);
        return report_error(error);
    };
    if (!wait) {
        if (!invocation.json) {
            print_line(id);
            return exit_code::ok;
        }
        auto described = created->info();
        if (!described)
            return failed_after_create(std::move(described).error());
        print_json(sandbox_json(*described));
        return exit_code::ok;
    }
    Result<SandboxInfo> running = [&] {
        std::optional<Progress> progress;
        if (!invocation.args.has("quiet"))
            progress.emplace(fmt::format("waiting for {} to be Running", id));
        return created->wait_until_running(*wait_timeout);
    }();
    if (!running)  // the sandbox exists (and is billed): say which one
        return failed_after_create(std::move(running).error());
    if (invocation.json) {
        print_json(sandbox_json(*running));
    } else {
        print_line(id);
    }
    return exit_code::ok;
}

int run_list(Invocation& invocation) {
    if (!invocation.expect_positionals({}))
        return exit_code::usage;
    ListOptions options;
    if (auto status = invocation.args.value("status")) {
        // An unknown status would filter out everything: an empty success that looks like
        // "nothing runs".
        auto known =
            std::find_if(std::begin(sandbox_statuses), std::end(sandbox_statuses),
                         [&](std::string_view name) { return same_ignoring_case(name, *status); });
        if (known == std::end(sandbox_statuses)) {
            auto near = closest_match(*status, sandbox_statuses);
            return usage_error(
                invocation,
                fmt::format("--status: unknown status{} (one of Scheduling, Pending, Running, "
                            "Restarting, Updating, Terminating, Succeeded, Failed, Expired, "
                            "ScheduleFailed)",
                            near ? fmt::format(" (did you mean {}?)", *near) : std::string()));
        }
        options.status = std::string(*known);
    }
    options.name = invocation.args.value("name").value_or("");
    if (!parse_pairs(invocation, "tag", [&](std::string key, std::string value) {
            options.tags.push_back({std::move(key), std::move(value)});
        }))
        return exit_code::usage;
    auto* client = invocation.client();
    if (client == nullptr)
        return exit_code::error;
    // Each page is printed as it arrives and dropped: a long listing never sits in memory,
    // and a listing that fails part way has shown what it got (with the error, exit 1).
    // --json writes the array one element at a time: on success the same single line as a
    // serialized array; after a failure it stays unterminated, so no parser takes a partial
    // listing for a whole one.
    bool first = true;
    const bool quiet = invocation.args.has("quiet");
    auto listed = client->list_pages(std::move(options), [&](const ListPage& page) {
        for (const auto& info : page.sandboxes) {
            if (quiet && !invocation.json) {
                print_line(info.sandbox_id);
            } else if (invocation.json) {
                write_fd(STDOUT_FILENO, (first ? "[" : ",") + json_text(sandbox_json(info)));
            } else {
                if (first)
                    print_line(
                        fmt::format("{:<24} {:<24} {:<12} {}", "ID", "NAME", "STATUS", "CREATED"));
                print_line(fmt::format("{:<24} {:<24} {:<12} {}", info.sandbox_id, info.name,
                                       info.status, info.creation_time));
            }
            first = false;
        }
        return true;
    });
    if (!listed) {
        // The unterminated array ends its line; the error object follows on its own.
        if (invocation.json && !first)
            write_fd(STDOUT_FILENO, "\n");
        return report_error(listed.error());
    }
    if (invocation.json)
        write_fd(STDOUT_FILENO, first ? "[]\n" : "]\n");
    return exit_code::ok;
}

int run_info(Invocation& invocation) {
    if (!invocation.expect_positionals({"ID"}))
        return exit_code::usage;
    auto* client = invocation.client();
    if (client == nullptr)
        return exit_code::error;
    auto info = client->get_sandbox(invocation.args.positionals[0]);
    if (!info)
        return report_error(info.error());
    if (invocation.json) {
        print_json(sandbox_json(*info));
        return exit_code::ok;
    }
    print_line(fmt::format("id:            {}", info->sandbox_id));
    print_line(fmt::format("name:          {}", info->name));
    print_line(fmt::format("status:        {}", info->status));
    print_line(fmt::format("cpu:           {}", info->cpu));
    print_line(fmt::format("memory:        {} GiB", info->memory));
    print_line(fmt::format("region:        {}", info->region_id));
    print_line(fmt::format("zone:          {}", info->zone_id));
    print_line(fmt::format("intranet ip:   {}", info->intranet_ip));
    print_line(fmt::format("internet ip:   {}", info->internet_ip));
    print_line(fmt::format("created:       {}", info->creation_time));
    for (const auto& container : info->containers)
        print_line(fmt::format("container:     {} ({}) {}", container.name, container.image,
                               container.current_state.state));
    return exit_code::ok;
}

/// restart and delete: one call per sandbox id, each printed as `VERB ID` (--quiet: the id;
/// --json: one {sandbox_id, request_id} line per sandbox). Every id is tried; a failure is
/// reported and the exit code is that of the last failure.
template <class Call>
int run_receipt_calls(Invocation& invocation, std::string_view verb,
                      const std::vector<std::string>& ids, Call call) {
    auto* client = invocation.client();
    if (client == nullptr)
        return exit_code::error;
    int status = exit_code::ok;
    for (const auto& id : ids) {
        Result<Receipt> receipt = call(*client, id);
        if (!receipt) {
            status = report_error(receipt.error());
            continue;
        }
        if (invocation.json)
            print_json(json::object{{"sandbox_id", id}, {"request_id", receipt->request_id}});
        else if (invocation.args.has("quiet"))
            print_line(id);
        else
            print_line(fmt::format("{} {}", verb, id));
    }
    return status;
}

int run_restart(Invocation& invocation) {
    if (!invocation.expect_positionals({"ID"}))
        return exit_code::usage;
    return run_receipt_calls(
        invocation, "restarted", invocation.args.positionals,
        [](EciSandbox& client, const std::string& id) { return client.restart(id); });
}

int run_delete(Invocation& invocation) {
    const bool force = invocation.args.has("force");
    std::vector<std::string> ids = invocation.args.positionals;
    const bool by_tag = invocation.args.has("tag");
    if (ids.empty() == !by_tag)
        return usage_error(invocation, by_tag ? "give sandbox ids or --tag, not both"
                                              : "missing argument ID (or --tag K=V)");
    if (by_tag) {
        ListOptions filter;
        if (!parse_pairs(invocation, "tag", [&](std::string key, std::string value) {
                filter.tags.push_back({std::move(key), std::move(value)});
            }))
            return exit_code::usage;
        auto* client = invocation.client();
        if (client == nullptr)
            return exit_code::error;
        // The whole listing first: deleting while paging would shift the pages under it.
        auto listed = client->list_all(std::move(filter));
        if (!listed)
            return report_error(listed.error());
        for (const auto& info : *listed)
            ids.push_back(info.sandbox_id);
    }
    return run_receipt_calls(
        invocation, "deleted", ids,
        [force](EciSandbox& client, const std::string& id) { return client.remove(id, force); });
}

int run_logs(Invocation& invocation) {
    if (!invocation.expect_positionals({"ID"}))
        return exit_code::usage;
    LogOptions options;
    options.container_name = invocation.args.value("container").value_or("");
    options.timestamps = invocation.args.has("timestamps");
    options.previous = invocation.args.has("previous");
    struct Bounded {
        const char* name;
        long long max;
        std::optional<int>& into;
    };
    for (auto [name, max, into] :
         {Bounded{"tail", 2000, options.tail}, Bounded{"since", 1LL << 30, options.since_seconds},
          Bounded{"limit-bytes", 1048576, options.limit_bytes}}) {
        auto text = invocation.args.value(name);
        if (!text)
            continue;
        auto number = parse_integer(fmt::format("--{}", name), *text, 1, max);
        if (!number)
            return usage_error(invocation, number.error().message);
        into = static_cast<int>(*number);
    }
    auto* client = invocation.client();
    if (client == nullptr)
        return exit_code::error;
    const auto& id = invocation.args.positionals[0];
    auto log = client->logs(id, std::move(options));
    if (!log)
        return report_error(log.error());
    if (invocation.json)
        print_json(json::object{{"sandbox_id", id},
                                {"container_name", log->container_name},
                                {"content", log->content},
                                {"request_id", log->request_id}});
    else
        write_fd(STDOUT_FILENO, log->content);  // the container's own output, as docker logs
    return exit_code::ok;
}

const Command commands[] = {
    {"create", "--image IMAGE [options] [-- COMMAND...]", "create a sandbox and print its id",
     create_options,
     "Prints the new sandbox id on stdout; with --json the sandbox's description (as `info\n"
     "--json`). It waits until the sandbox is Running (bounded by --wait-timeout) unless\n"
     "--no-wait is given. A sandbox that never reaches Running is still named (its id before\n"
     "the error; with --json the error's sandbox_id), so it can be deleted.\n",
     run_create},
    {"list", "[options]", "list sandboxes (every page)", list_options, "", run_list},
    {"info", "ID", "describe one sandbox", {}, "", run_info},
    {"logs", "ID [options]", "print a container's log (stdout and stderr of its main process)",
     logs_options,
     "DescribeContainerLog: at most 1 MiB, the last 500 lines unless --tail says otherwise.\n"
     "The log is printed as the container wrote it. --json: {sandbox_id, container_name,\n"
     "content, request_id}.\n",
     run_logs},
    {"restart", "ID", "restart a sandbox's containers", restart_options, "", run_restart},
    {"delete", "ID... | --tag K=V... [--force]",
     "delete sandboxes (a sandbox already gone counts as deleted)", delete_options,
     "Deletes every ID given, or every sandbox carrying all the --tag pairs. Each one is\n"
     "tried even when another fails; the exit code is 1 when any failed.\n",
     run_delete},
};

}  // namespace

std::span<const Command> sandbox_commands() {
    return commands;
}

}  // namespace eci::cli
