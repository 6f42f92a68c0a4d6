// SPDX-License-Identifier: Apache-2.0
// create, list, info, restart, delete: the lifecycle of sandboxes.
#include "cli/commands.hpp"
#include "cli/json_output.hpp"

#include <eci/reaper.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <fmt/format.h>

#include <algorithm>

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
    {"wait", false, false, "", "wait until the sandbox is Running"},
    {"wait-timeout", true, false, "SECONDS", "bound of --wait (default 300)"},
};

constexpr OptionSpec list_options[] = {
    {"status", true, false, "STATUS", "only sandboxes in this status (e.g. Running)"},
    {"name", true, false, "NAME", "only sandboxes with this name"},
    {"tag", true, true, "K=V", "only sandboxes with this tag"},
};

constexpr OptionSpec delete_options[] = {
    {"force", false, false, "", "skip the grace period"},
};

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
    const bool wait = invocation.args.has("wait");
    auto wait_timeout =
        seconds_option(invocation, "wait-timeout", std::chrono::milliseconds(300000));
    if (!wait_timeout)
        return exit_code::usage;

    auto* client = invocation.client();
    if (client == nullptr)
        return exit_code::error;
    auto created = client->create(std::move(options));
    if (!created)
        return report_error(created.error());
    const std::string id = created->id();
    if (!wait) {
        if (invocation.json)
            print_json(json::object{{"sandbox_id", id}});
        else
            print_line(id);
        return exit_code::ok;
    }
    Result<SandboxInfo> running = [&] {
        Progress progress(fmt::format("waiting for {} to be Running", id));
        return created->wait_until_running(*wait_timeout);
    }();
    if (!running) {
        // The sandbox exists (and is billed): say which one, so it can be deleted.
        if (invocation.json)
            print_json(json::object{{"sandbox_id", id}, {"status", nullptr}});
        else
            print_line(id);
        return report_error(running.error());
    }
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
    options.status = invocation.args.value("status").value_or("");
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
    auto listed = client->list_pages(std::move(options), [&](const ListPage& page) {
        for (const auto& info : page.sandboxes) {
            if (invocation.json) {
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
    if (!listed)
        return report_error(listed.error());
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

/// restart and delete: one call on one sandbox id, printed as `VERB ID` (--json: the id and
/// the RequestId).
template <class Call>
int run_receipt_call(Invocation& invocation, std::string_view verb, Call call) {
    if (!invocation.expect_positionals({"ID"}))
        return exit_code::usage;
    auto* client = invocation.client();
    if (client == nullptr)
        return exit_code::error;
    const auto& id = invocation.args.positionals[0];
    Result<Receipt> receipt = call(*client, id);
    if (!receipt)
        return report_error(receipt.error());
    if (invocation.json)
        print_json(json::object{{"sandbox_id", id}, {"request_id", receipt->request_id}});
    else
        print_line(fmt::format("{} {}", verb, id));
    return exit_code::ok;
}

int run_restart(Invocation& invocation) {
    return run_receipt_call(invocation, "restarted", [](EciSandbox& client, const std::string& id) {
        return client.restart(id);
    });
}

int run_delete(Invocation& invocation) {
    const bool force = invocation.args.has("force");
    return run_receipt_call(
        invocation, "deleted",
        [force](EciSandbox& client, const std::string& id) { return client.remove(id, force); });
}

const Command commands[] = {
    {"create", "--image IMAGE [options]", "create a sandbox and print its id", create_options,
     "Prints the new sandbox id on stdout (with --json: {\"sandbox_id\": ...}, and with --wait\n"
     "the whole description). With --wait, a sandbox that never reaches Running is still\n"
     "printed before the error, so it can be deleted.\n",
     run_create},
    {"list", "[options]", "list sandboxes (every page)", list_options, "", run_list},
    {"info", "ID", "describe one sandbox", {}, "", run_info},
    {"restart", "ID", "restart a sandbox's containers", {}, "", run_restart},
    {"delete", "ID [--force]", "delete a sandbox (a sandbox already gone counts as deleted)",
     delete_options, "", run_delete},
};

}  // namespace

std::span<const Command> sandbox_commands() {
    return commands;
}

}  // namespace eci::cli
