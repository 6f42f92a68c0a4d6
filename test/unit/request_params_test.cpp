// SPDX-License-Identifier: Apache-2.0
#include "core/models_json.hpp"

#include <catch2/catch.hpp>

using eci::detail::from_params;
using eci::detail::Params;
using eci::detail::to_params;

namespace {

template <class T>
T round_trip(const T& request) {
    eci::Result<T> back = from_params<T>(to_params(request, "cn-hangzhou"));
    INFO((back.ok() ? std::string() : back.error().to_string()));
    REQUIRE(back.ok());
    return std::move(back).value();
}

template <class T>
eci::Error refused(const Params& params) {
    eci::Result<T> result = from_params<T>(params);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().kind == eci::ErrorKind::invalid_argument);
    CHECK(result.error().http_status == 400);
    return result.error();
}

eci::CreateContainerGroupRequest full_create_request() {
    eci::CreateContainerGroupRequest r;
    r.container_group_name = "sandbox-1";
    eci::ContainerSpec main;
    main.name = "main";
    main.image = "python:3.12";
    main.cpu = 1.0;
    main.memory = 0.5;
    main.commands = {"/bin/sh", "-c"};
    main.args = {"echo \"hi\" && sleep 1"};
    main.environment_vars = {{"LANG", "C.UTF-8"},
                             {"GREETING", "\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80"},
                             {"EMPTY", ""}};
    main.ports = {{8080, "TCP"}, {53, ""}};
    main.working_dir = "/work";
    main.stdin = true;
    main.tty = false;
    main.image_pull_policy = "IfNotPresent";
    eci::ContainerSpec side;
    side.name = "side";
    side.image = "busybox";
    r.containers = {main, side};
    r.cpu = 2;
    r.memory = 4;
    r.restart_policy = "Never";
    r.tags = {{"owner", "ci"}, {"note", ""}};
    r.v_switch_id = "vsw-1";
    r.security_group_id = "sg-1";
    r.zone_id = "cn-hangzhou-h";
    r.instance_type = "ecs.c5.large";
    r.client_token = "tok-123";
    r.active_deadline_seconds = 3600;
    r.termination_grace_period_seconds = 5;
    r.auto_create_eip = false;
    r.eip_bandwidth = 5;
    r.eip_instance_id = "eip-1";
    r.dry_run = true;
    return r;
}

}  // namespace

TEST_CASE("request_params: CreateContainerGroup flattens exactly as the SDK does",
          "[request_params]") {
    const Params expected{
        {"RegionId", "cn-hangzhou"},
        {"ContainerGroupName", "sandbox-1"},
        {"Container.1.Name", "main"},
        {"Container.1.Image", "python:3.12"},
        {"Container.1.Cpu", "1"},
        {"Container.1.Memory", "0.5"},
        {"Container.1.Command.1", "/bin/sh"},
        {"Container.1.Command.2", "-c"},
        {"Container.1.Arg.1", "echo \"hi\" && sleep 1"},
        {"Container.1.EnvironmentVar.1.Key", "LANG"},
        {"Container.1.EnvironmentVar.1.Value", "C.UTF-8"},
        {"Container.1.EnvironmentVar.2.Key", "GREETING"},
        {"Container.1.EnvironmentVar.2.Value", "\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80"},
        {"Container.1.EnvironmentVar.3.Key", "EMPTY"},
        {"Container.1.EnvironmentVar.3.Value", ""},
        {"Container.1.Port.1.Port", "8080"},
        {"Container.1.Port.1.Protocol", "TCP"},
        {"Container.1.Port.2.Port", "53"},
        {"Container.1.WorkingDir", "/work"},
        {"Container.1.Stdin", "true"},
        {"Container.1.Tty", "false"},
        {"Container.1.ImagePullPolicy", "IfNotPresent"},
        {"Container.2.Name", "side"},
        {"Container.2.Image", "busybox"},
        {"Cpu", "2"},
        {"Memory", "4"},
        {"RestartPolicy", "Never"},
        {"Tag.1.Key", "owner"},
        {"Tag.1.Value", "ci"},
        {"Tag.2.Key", "note"},
        {"VSwitchId", "vsw-1"},
        {"SecurityGroupId", "sg-1"},
        {"ZoneId", "cn-hangzhou-h"},
        {"InstanceType", "ecs.c5.large"},
        {"ClientToken", "tok-123"},
        {"ActiveDeadlineSeconds", "3600"},
        {"TerminationGracePeriodSeconds", "5"},
        {"AutoCreateEip", "false"},
        {"EipBandwidth", "5"},
        {"EipInstanceId", "eip-1"},
        {"DryRun", "true"},
    };
    CHECK(to_params(full_create_request(), "cn-hangzhou") == expected);
}

TEST_CASE("request_params: unset optionals and empty lists are not sent", "[request_params]") {
    eci::CreateContainerGroupRequest r;
    r.container_group_name = "a1";
    eci::ContainerSpec container;
    container.name = "c";
    container.image = "busybox";
    r.containers = {container};
    const Params expected{{"RegionId", "cn-beijing"},
                          {"ContainerGroupName", "a1"},
                          {"Container.1.Name", "c"},
                          {"Container.1.Image", "busybox"}};
    CHECK(to_params(r, "cn-beijing") == expected);

    // No region: no RegionId (DescribeContainerLog makes it optional).
    CHECK(to_params(eci::RestartContainerGroupRequest{"eci-1", ""}, "") ==
          Params{{"ContainerGroupId", "eci-1"}});
}

TEST_CASE("request_params: DescribeContainerGroups sends IDs as a JSON-array string",
          "[request_params]") {
    eci::DescribeContainerGroupsRequest r;
    r.container_group_ids = {"eci-1", "eci-\"2\""};
    r.container_group_name = "sb";
    r.status = "Running";
    r.tags = {{"k", "v"}};
    r.v_switch_id = "vsw";
    r.security_group_id = "sg";
    r.zone_id = "z";
    r.limit = 20;
    r.next_token = "tok";
    r.with_event = true;
    const Params expected{{"RegionId", "cn-hangzhou"},
                          {"ContainerGroupIds", R"(["eci-1","eci-\"2\""])"},
                          {"ContainerGroupName", "sb"},
                          {"Status", "Running"},
                          {"Tag.1.Key", "k"},
                          {"Tag.1.Value", "v"},
                          {"VSwitchId", "vsw"},
                          {"SecurityGroupId", "sg"},
                          {"ZoneId", "z"},
                          {"Limit", "20"},
                          {"NextToken", "tok"},
                          {"WithEvent", "true"}};
    CHECK(to_params(r, "cn-hangzhou") == expected);
    CHECK(round_trip(r) == r);
    CHECK(to_params(eci::DescribeContainerGroupsRequest{}, "r") == Params{{"RegionId", "r"}});
}

TEST_CASE("request_params: Delete, Restart, Exec and DescribeContainerLog flatten exactly",
          "[request_params]") {
    CHECK(to_params(eci::DeleteContainerGroupRequest{"eci-1", true, "tok"}, "r") ==
          Params{{"RegionId", "r"},
                 {"ContainerGroupId", "eci-1"},
                 {"Force", "true"},
                 {"ClientToken", "tok"}});
    CHECK(to_params(eci::RestartContainerGroupRequest{"eci-1", "tok"}, "r") ==
          Params{{"RegionId", "r"}, {"ContainerGroupId", "eci-1"}, {"ClientToken", "tok"}});

    eci::ExecContainerCommandRequest exec{
        "eci-1", "main", {"/bin/sh", "-c", "echo \xe4\xbd\xa0 \"$HOME\"\n"}, false, true, true};
    CHECK(to_params(exec, "r") ==
          Params{{"RegionId", "r"},
                 {"ContainerGroupId", "eci-1"},
                 {"ContainerName", "main"},
                 {"Command", "[\"/bin/sh\",\"-c\",\"echo \xe4\xbd\xa0 \\\"$HOME\\\"\\n\"]"},
                 {"TTY", "false"},
                 {"Stdin", "true"},
                 {"Sync", "true"}});

    eci::DescribeContainerLogRequest log{"eci-1", "main", 100,  60, "2024-05-01T10:00:00Z",
                                         4096,    true,   false};
    CHECK(to_params(log, "r") == Params{{"RegionId", "r"},
                                        {"ContainerGroupId", "eci-1"},
                                        {"ContainerName", "main"},
                                        {"Tail", "100"},
                                        {"SinceSeconds", "60"},
                                        {"StartTime", "2024-05-01T10:00:00Z"},
                                        {"LimitBytes", "4096"},
                                        {"LastTime", "true"},
                                        {"Timestamps", "false"}});
}

TEST_CASE("request_params: to_params then from_params gives back every request",
          "[request_params]") {
    CHECK(round_trip(full_create_request()) == full_create_request());
    const eci::DeleteContainerGroupRequest del{"eci-1", false, "tok"};
    CHECK(round_trip(del) == del);
    const eci::RestartContainerGroupRequest restart{"eci-1", ""};
    CHECK(round_trip(restart) == restart);
    const eci::ExecContainerCommandRequest exec{
        "eci-1", "main", {"bash", "-lc", "ls \xc3\xa9"}, std::nullopt, false, std::nullopt};
    CHECK(round_trip(exec) == exec);
    const eci::DescribeContainerLogRequest log{"eci-1", "main", std::nullopt, 5,
                                               "",      1,      false,        true};
    CHECK(round_trip(log) == log);
}

TEST_CASE("request_params: from_params takes list items in index order and ignores the rest",
          "[request_params]") {
    const Params params{{"Action", "CreateContainerGroup"},
                        {"Signature", "ignored"},
                        {"ContainerGroupName", "sb"},
                        {"Container.2.Image", "img2"},
                        {"Container.10.Name", "c10"},
                        {"Container.10.Image", "img10"},
                        {"Container.2.Name", "c2"},
                        {"Container.2.Command.2", "b"},
                        {"Container.2.Command.1", "a"},
                        {"Container.2.LivenessProbe.Exec.Command.1", "probe"},
                        {"Tag.3.Key", "k"},
                        {"DryRun", "TRUE"}};
    const auto r = from_params<eci::CreateContainerGroupRequest>(params);
    REQUIRE(r.ok());
    REQUIRE(r->containers.size() == 2);
    CHECK(r->containers[0].name == "c2");
    CHECK(r->containers[0].commands == std::vector<std::string>{"a", "b"});
    CHECK(r->containers[1].name == "c10");
    CHECK(r->tags == std::vector<eci::Tag>{{"k", ""}});
    CHECK(r->dry_run == true);
}

TEST_CASE("request_params: from_params refuses missing and malformed values service-style",
          "[request_params]") {
    using Create = eci::CreateContainerGroupRequest;
    const Params base{
        {"ContainerGroupName", "sb"}, {"Container.1.Name", "c"}, {"Container.1.Image", "img"}};
    auto with = [&](Params extra) {
        Params p = base;
        p.insert(p.end(), extra.begin(), extra.end());
        return p;
    };
    REQUIRE(from_params<Create>(base).ok());

    auto e = refused<Create>({{"Container.1.Name", "c"}, {"Container.1.Image", "img"}});
    CHECK(e.code == "MissingParameter");
    CHECK(e.message ==
          "The input parameter \"ContainerGroupName\" that is mandatory for processing this "
          "request is not supplied.");

    e = refused<Create>({{"ContainerGroupName", "sb"}});
    CHECK(e.code == "MissingParameter");
    CHECK_THAT(e.message, Catch::Contains("Container.1.Name"));

    e = refused<Create>({{"ContainerGroupName", "sb"}, {"Container.1.Name", "c"}});
    CHECK(e.code == "MissingParameter");
    CHECK_THAT(e.message, Catch::Contains("Container.1.Image"));

    e = refused<Create>(with({{"Container.1.Cpu", "two"}}));
    CHECK(e.code == "InvalidParameter");
    CHECK_THAT(e.message,
               Catch::StartsWith("The specified parameter \"Container.1.Cpu\" is not valid."));

    e = refused<Create>(with({{"Cpu", "1.5x"}}));
    CHECK_THAT(e.message, Catch::Contains("\"Cpu\""));
    e = refused<Create>(with({{"Memory", "nan"}}));
    CHECK_THAT(e.message, Catch::Contains("\"Memory\""));
    e = refused<Create>(with({{"DryRun", "yes"}}));
    CHECK_THAT(e.message, Catch::Contains("\"DryRun\""));
    e = refused<Create>(with({{"ActiveDeadlineSeconds", "1.5"}}));
    CHECK_THAT(e.message, Catch::Contains("\"ActiveDeadlineSeconds\""));
    e = refused<Create>(with({{"Container.1.Port.1.Port", "http"}}));
    CHECK_THAT(e.message, Catch::Contains("\"Container.1.Port.1.Port\""));
    e = refused<Create>(with({{"Container.1.Port.1.Protocol", "TCP"}}));
    CHECK(e.code == "MissingParameter");
    CHECK_THAT(e.message, Catch::Contains("\"Container.1.Port.1.Port\""));
    e = refused<Create>(with({{"Container.1.EnvironmentVar.1.Value", "v"}}));
    CHECK_THAT(e.message, Catch::Contains("\"Container.1.EnvironmentVar.1.Key\""));
    e = refused<Create>(with({{"Container.1.Command.0", "x"}}));
    CHECK(e.code == "InvalidParameter");
    CHECK_THAT(e.message, Catch::Contains("\"Container.1.Command.0\""));
    e = refused<Create>(with({{"Tag.x.Key", "k"}}));
    CHECK_THAT(e.message, Catch::Contains("\"Tag.x.Key\""));
    e = refused<Create>(with({{"Tag.01.Key", "k"}}));
    CHECK_THAT(e.message, Catch::Contains("\"Tag.01.Key\""));

    using Describe = eci::DescribeContainerGroupsRequest;
    e = refused<Describe>({{"ContainerGroupIds", "eci-1,eci-2"}});
    CHECK(e.code == "InvalidParameter");
    CHECK_THAT(e.message, Catch::Contains("\"ContainerGroupIds\""));
    e = refused<Describe>({{"ContainerGroupIds", "[1]"}});
    CHECK_THAT(e.message, Catch::Contains("\"ContainerGroupIds\""));
    e = refused<Describe>({{"Limit", "-"}});
    CHECK_THAT(e.message, Catch::Contains("\"Limit\""));

    using Exec = eci::ExecContainerCommandRequest;
    e = refused<Exec>({{"ContainerGroupId", "eci-1"}, {"ContainerName", "c"}});
    CHECK(e.code == "MissingParameter");
    CHECK_THAT(e.message, Catch::Contains("\"Command\""));
    e = refused<Exec>({{"ContainerGroupId", "eci-1"}, {"ContainerName", "c"}, {"Command", "ls"}});
    CHECK(e.code == "InvalidParameter");
    e = refused<Exec>({{"ContainerGroupId", "eci-1"}, {"ContainerName", "c"}, {"Command", "[]"}});
    CHECK(e.code == "InvalidParameter");
    e = refused<Exec>(
        {{"ContainerGroupId", "eci-1"}, {"ContainerName", ""}, {"Command", "[\"ls\"]"}});
    CHECK(e.code == "MissingParameter");
    CHECK_THAT(e.message, Catch::Contains("\"ContainerName\""));

    e = refused<eci::DeleteContainerGroupRequest>({{"Force", "true"}});
    CHECK_THAT(e.message, Catch::Contains("\"ContainerGroupId\""));
    e = refused<eci::RestartContainerGroupRequest>({});
    CHECK_THAT(e.message, Catch::Contains("\"ContainerGroupId\""));
    e = refused<eci::DescribeContainerLogRequest>(
        {{"ContainerGroupId", "eci-1"}, {"ContainerName", "c"}, {"Tail", "10lines"}});
    CHECK_THAT(e.message, Catch::Contains("\"Tail\""));
}

TEST_CASE("request_params: RegionId and JSON-array string helpers", "[request_params]") {
    CHECK(eci::detail::region_id_from_params({{"RegionId", "cn-shanghai"}}).value() ==
          "cn-shanghai");
    const auto missing = eci::detail::region_id_from_params({{"RegionId", ""}});
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code == "MissingParameter");

    CHECK(eci::detail::to_json_array_string({}) == "[]");
    CHECK(eci::detail::to_json_array_string({"a b", "\xe4\xbd\xa0"}) ==
          "[\"a b\",\"\xe4\xbd\xa0\"]");
    const auto parsed = eci::detail::parse_json_array_string(R"(["x", "y\u00e9"])", "P");
    REQUIRE(parsed.ok());
    CHECK(*parsed == std::vector<std::string>{"x", "y\xc3\xa9"});
    CHECK_FALSE(eci::detail::parse_json_array_string("[[\"x\"]]", "P").ok());
    CHECK_FALSE(eci::detail::parse_json_array_string("[\"x\"", "P").ok());
}
