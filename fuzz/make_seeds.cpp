// SPDX-License-Identifier: Apache-2.0
// Writes the generated seeds of the fuzz corpora: requests signed with the fuzz key
// (emulator_request). Usage: eci-fuzz-seeds <corpus-dir>. The other seeds are plain files
// kept in fuzz/corpus/<target>/.
#include "core/encoding.hpp"
#include "core/signing.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using eci::detail::Params;

constexpr std::string_view key_id = "LTAIfuzzkey0001";
constexpr std::string_view secret = "fuzz-secret-0001";
constexpr std::string_view timestamp = "2026-11-26T00:00:00Z";
constexpr std::string_view host = "eci.cn-hangzhou.aliyuncs.com";

struct Call {
    std::string action;
    Params params;
};

std::vector<Call> calls() {
    return {
        {"CreateContainerGroup",
         {{"RegionId", "cn-hangzhou"},
          {"ContainerGroupName", "sandbox-fuzz"},
          {"Container.1.Name", "main"},
          {"Container.1.Image", "debian:12"},
          {"Container.1.Cpu", "1.0"},
          {"Container.1.Memory", "2.0"},
          {"Container.1.Command.1", "sleep"},
          {"Container.1.Arg.1", "infinity"},
          {"Container.1.EnvironmentVar.1.Key", "GREETING"},
          {"Container.1.EnvironmentVar.1.Value", "a+b=c&d \xc3\xa9"},
          {"Tag.1.Key", "eci-sandbox/owner"},
          {"Tag.1.Value", "fuzz"},
          {"ClientToken", "tok-1"}}},
        {"DescribeContainerGroups",
         {{"RegionId", "cn-hangzhou"}, {"ContainerGroupIds", R"(["eci-abc"])"}, {"Limit", "20"}}},
        {"ExecContainerCommand",
         {{"RegionId", "cn-hangzhou"},
          {"ContainerGroupId", "eci-abc"},
          {"ContainerName", "main"},
          {"Command", R"(["/bin/sh","-c","echo hi"])"},
          {"Sync", "true"}}},
        {"DeleteContainerGroup", {{"RegionId", "cn-hangzhou"}, {"ContainerGroupId", "eci-abc"}}},
    };
}

void write(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

std::string http_request(std::string_view method, std::string_view target,
                         const eci::detail::Headers& headers, std::string_view body) {
    std::string out = fmt::format("{} {} HTTP/1.1\r\n", method, target);
    bool has_host = false;
    for (const auto& [name, value] : headers) {
        out += fmt::format("{}: {}\r\n", name, value);
        has_host = has_host || name == "host";
    }
    if (!has_host)
        out += fmt::format("host: {}\r\n", host);
    if (!body.empty())
        out += fmt::format("content-length: {}\r\n", body.size());
    return out + "\r\n" + std::string(body);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        fmt::print(stderr, "usage: eci-fuzz-seeds <corpus-dir>\n");
        return 2;
    }
    const std::filesystem::path dir = std::filesystem::path(argv[1]) / "emulator_request";
    std::filesystem::create_directories(dir);
    int n = 0;
    for (std::string_view token : {std::string_view(), std::string_view("CAIS-fuzz-token")}) {
        const eci::detail::SigningKey key{key_id, secret, token};
        for (const auto& call : calls()) {
            const std::string nonce = fmt::format("nonce-{}", ++n);
            // RPC V2 in the query (GET and POST), and in a form body.
            for (std::string_view method : {"GET", "POST"}) {
                const auto signed_params = eci::detail::sign_rpc(
                    key, {call.action, "2018-08-08", method, call.params}, timestamp, nonce);
                write(dir / fmt::format("rpc-{}-{}-{}", method, call.action, n),
                      http_request(method, "/?" + eci::detail::build_query(signed_params), {}, ""));
            }
            const auto form = eci::detail::sign_rpc(
                key, {call.action, "2018-08-08", "POST", call.params}, timestamp, nonce);
            write(dir / fmt::format("rpc-form-{}-{}", call.action, n),
                  http_request("POST", "/", {{"content-type", "application/x-www-form-urlencoded"}},
                               eci::detail::build_query(form)));
            // ACS3 with the parameters in the query, as the official SDK sends them.
            eci::detail::Acs3Request acs3;
            acs3.action = call.action;
            acs3.version = "2018-08-08";
            acs3.host = host;
            acs3.query = call.params;
            const auto headers = eci::detail::sign_acs3(key, acs3, timestamp, nonce);
            write(dir / fmt::format("acs3-{}-{}", call.action, n),
                  http_request("POST", "/?" + eci::detail::build_query(call.params), headers, ""));
        }
    }
    fmt::print("wrote {} seeds to {}\n", n * 4, dir.string());
    return 0;
}
