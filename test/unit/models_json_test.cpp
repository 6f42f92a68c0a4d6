// SPDX-License-Identifier: Apache-2.0
#include "core/models_json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

namespace json = boost::json;
using eci::detail::from_json;
using eci::detail::to_json;

namespace {

// Shaped like a real DescribeContainerGroups reply (SDK model names), with fields this
// library does not model (Volumes, DnsConfig, Discount...) that must be ignored.
constexpr const char* describe_body = R"({
  "RequestId": "89164E0F-1C5A-4E8A-8A5C-5E6B2A3E7F10",
  "TotalCount": 1,
  "NextToken": "",
  "ContainerGroups": [{
    "ContainerGroupId": "eci-2zelg8vwnlzdhf8hv****",
    "ContainerGroupName": "sandbox-a1",
    "RegionId": "cn-hangzhou",
    "ZoneId": "cn-hangzhou-h",
    "Status": "Running",
    "Cpu": 2.0,
    "Memory": 4,
    "InstanceType": "ecs.c5.large",
    "VSwitchId": "vsw-bp1xpiowfm5vo8o3c****",
    "SecurityGroupId": "sg-bp12ujq5zp12ydbs****",
    "VpcId": "vpc-1vzjjflab6wvjox****",
    "EniInstanceId": "eni-bp1a2b3c4d****",
    "IntranetIp": "172.16.0.10",
    "InternetIp": "47.96.0.1",
    "Ipv6Address": "2408:4321:180:1701:94c7:bc38:3bfa:****",
    "RestartPolicy": "Never",
    "CreationTime": "2024-05-01T10:00:00Z",
    "SucceededTime": "",
    "FailedTime": "",
    "ExpiredTime": "",
    "ResourceGroupId": "rg-acfmzw2jz2z****",
    "RamRoleName": "eci-role",
    "SpotStrategy": "NoSpot",
    "EphemeralStorage": 20,
    "Discount": 9,
    "SpotPriceLimit": 0.025,
    "DnsConfig": {"NameServers": ["1.1.1.1"], "Searches": [], "Options": []},
    "Volumes": [{"Name": "v", "Type": "EmptyDirVolume"}],
    "Tags": [{"Key": "owner", "Value": "ci"}, {"Key": "env", "Value": "test"}],
    "Events": [{
      "Count": 2, "Type": "Normal", "Name": "sandbox-a1.17a", "Reason": "Started",
      "Message": "Started container main",
      "FirstTimestamp": "2024-05-01T10:00:05Z", "LastTimestamp": "2024-05-01T10:00:06Z"
    }],
    "Containers": [{
      "Name": "main",
      "Image": "registry.cn-hangzhou.aliyuncs.com/eci/python:3.12",
      "Cpu": 1.5,
      "Memory": 3.0,
      "Gpu": 0,
      "Ready": true,
      "RestartCount": 1,
      "Commands": ["/bin/sh", "-c"],
      "Args": ["sleep infinity"],
      "EnvironmentVars": [{"Key": "LANG", "Value": "C.UTF-8",
                           "ValueFrom": {"FieldRef": {"FieldPath": ""}}}],
      "Ports": [{"Port": 8080, "Protocol": "TCP"}],
      "VolumeMounts": [],
      "WorkingDir": "/work",
      "ImagePullPolicy": "IfNotPresent",
      "Stdin": true,
      "StdinOnce": false,
      "Tty": false,
      "CurrentState": {"State": "Running", "DetailStatus": "", "Reason": "", "Message": "",
                       "ExitCode": 0, "Signal": 0, "StartTime": "2024-05-01T10:00:06Z",
                       "FinishTime": ""},
      "PreviousState": {"State": "Terminated", "DetailStatus": "", "Reason": "Error",
                        "Message": "oom", "ExitCode": 137, "Signal": 9,
                        "StartTime": "2024-05-01T10:00:01Z",
                        "FinishTime": "2024-05-01T10:00:04Z"}
    }],
    "InitContainers": [{"Name": "init", "Image": "busybox", "Command": ["true"], "Args": []}]
  }]
})";

template <class T>
T parse_ok(const json::value& value) {
    eci::Result<T> result = from_json<T>(value);
    INFO((result.ok() ? std::string() : result.error().to_string()));
    REQUIRE(result.ok());
    return std::move(result).value();
}

template <class T>
eci::Error parse_error(std::string_view body) {
    eci::Result<T> result = from_json<T>(json::parse(body));
    REQUIRE_FALSE(result.ok());
    return result.error();
}

}  // namespace

TEST_CASE("models_json: a realistic DescribeContainerGroups reply parses into every field",
          "[models_json]") {
    const auto response =
        parse_ok<eci::DescribeContainerGroupsResponse>(json::parse(describe_body));
    CHECK(response.request_id == "89164E0F-1C5A-4E8A-8A5C-5E6B2A3E7F10");
    CHECK(response.total_count == 1);
    CHECK(response.next_token.empty());
    REQUIRE(response.container_groups.size() == 1);

    const eci::ContainerGroup& g = response.container_groups[0];
    CHECK(g.container_group_id == "eci-2zelg8vwnlzdhf8hv****");
    CHECK(g.container_group_name == "sandbox-a1");
    CHECK(g.region_id == "cn-hangzhou");
    CHECK(g.zone_id == "cn-hangzhou-h");
    CHECK(g.status == eci::status::running);
    CHECK(g.cpu == 2.0);
    CHECK(g.memory == 4.0);  // an integer in a float field
    CHECK(g.instance_type == "ecs.c5.large");
    CHECK(g.v_switch_id == "vsw-bp1xpiowfm5vo8o3c****");
    CHECK(g.security_group_id == "sg-bp12ujq5zp12ydbs****");
    CHECK(g.vpc_id == "vpc-1vzjjflab6wvjox****");
    CHECK(g.eni_instance_id == "eni-bp1a2b3c4d****");
    CHECK(g.intranet_ip == "172.16.0.10");
    CHECK(g.internet_ip == "47.96.0.1");
    CHECK(g.ipv6_address == "2408:4321:180:1701:94c7:bc38:3bfa:****");
    CHECK(g.restart_policy == "Never");
    CHECK(g.creation_time == "2024-05-01T10:00:00Z");
    CHECK(g.succeeded_time.empty());
    CHECK(g.resource_group_id == "rg-acfmzw2jz2z****");
    CHECK(g.ram_role_name == "eci-role");
    CHECK(g.spot_strategy == "NoSpot");
    CHECK(g.ephemeral_storage == 20);
    CHECK(g.tags == std::vector<eci::Tag>{{"owner", "ci"}, {"env", "test"}});

    REQUIRE(g.events.size() == 1);
    CHECK(g.events[0] == eci::Event{2, "Normal", "sandbox-a1.17a", "Started",
                                    "Started container main", "2024-05-01T10:00:05Z",
                                    "2024-05-01T10:00:06Z"});

    REQUIRE(g.containers.size() == 1);
    const eci::Container& c = g.containers[0];
    CHECK(c.name == "main");
    CHECK(c.image == "registry.cn-hangzhou.aliyuncs.com/eci/python:3.12");
    CHECK(c.cpu == 1.5);
    CHECK(c.memory == 3.0);
    CHECK(c.ready);
    CHECK(c.restart_count == 1);
    CHECK(c.commands == std::vector<std::string>{"/bin/sh", "-c"});
    CHECK(c.args == std::vector<std::string>{"sleep infinity"});
    CHECK(c.environment_vars == std::vector<eci::EnvironmentVar>{{"LANG", "C.UTF-8"}});
    CHECK(c.ports == std::vector<eci::ContainerPort>{{8080, "TCP"}});
    CHECK(c.working_dir == "/work");
    CHECK(c.image_pull_policy == "IfNotPresent");
    CHECK(c.stdin);
    CHECK_FALSE(c.stdin_once);
    CHECK_FALSE(c.tty);
    CHECK(c.current_state.state == eci::container_state::running);
    CHECK(c.current_state.start_time == "2024-05-01T10:00:06Z");
    CHECK(c.previous_state == eci::ContainerState{"Terminated", "", "Error", "oom", 137, 9,
                                                  "2024-05-01T10:00:01Z", "2024-05-01T10:00:04Z"});

    // InitContainers[] spells the command list "Command" (SDK model): it still lands here.
    REQUIRE(g.init_containers.size() == 1);
    CHECK(g.init_containers[0].commands == std::vector<std::string>{"true"});
}

TEST_CASE("models_json: missing and null fields keep their defaults", "[models_json]") {
    const auto group = parse_ok<eci::ContainerGroup>(
        json::parse(R"({"ContainerGroupId":"eci-1","Cpu":null,"Containers":[{}],"New":1})"));
    CHECK(group.container_group_id == "eci-1");
    CHECK(group.cpu == 0);
    CHECK(group.status.empty());
    REQUIRE(group.containers.size() == 1);
    CHECK(group.containers[0] == eci::Container{});

    const auto empty = parse_ok<eci::DescribeContainerGroupsResponse>(json::parse("{}"));
    CHECK(empty == eci::DescribeContainerGroupsResponse{});
}

TEST_CASE("models_json: serialize then parse gives back every model and response",
          "[models_json]") {
    const auto original =
        parse_ok<eci::DescribeContainerGroupsResponse>(json::parse(describe_body));
    const json::value serialized = to_json(original);
    CHECK(parse_ok<eci::DescribeContainerGroupsResponse>(serialized) == original);
    // Through text too, as the emulator sends it.
    CHECK(parse_ok<eci::DescribeContainerGroupsResponse>(
              json::parse(json::serialize(serialized))) == original);

    const eci::CreateContainerGroupResponse create{"req-1", "eci-9"};
    CHECK(parse_ok<eci::CreateContainerGroupResponse>(to_json(create)) == create);
    const eci::DeleteContainerGroupResponse del{"req-2"};
    CHECK(parse_ok<eci::DeleteContainerGroupResponse>(to_json(del)) == del);
    const eci::RestartContainerGroupResponse restart{"req-3"};
    CHECK(parse_ok<eci::RestartContainerGroupResponse>(to_json(restart)) == restart);
    const eci::DescribeContainerLogResponse log{"req-4", "main", "line 1\nline 2 \xe4\xbd\xa0\n"};
    CHECK(parse_ok<eci::DescribeContainerLogResponse>(to_json(log)) == log);

    eci::ExecContainerCommandResponse exec{"req-5", "wss://eci-cn-hangzhou.aliyun.com/exec/?s=x",
                                           "https://eci.console.aliyun.com/terminal?param=y",
                                           std::nullopt};
    CHECK_FALSE(to_json(exec).as_object().contains("SyncResponse"));
    CHECK(parse_ok<eci::ExecContainerCommandResponse>(to_json(exec)) == exec);
    exec.sync_response = "";  // a sync exec with no output still reports the field
    CHECK(to_json(exec).as_object().contains("SyncResponse"));
    CHECK(parse_ok<eci::ExecContainerCommandResponse>(to_json(exec)) == exec);
}

TEST_CASE("models_json: serialization uses the service's PascalCase names", "[models_json]") {
    eci::ContainerGroup group;
    group.container_group_id = "eci-1";
    group.cpu = 2;
    group.memory = 0.5;
    group.tags = {{"k", "v"}};
    eci::Container container;
    container.commands = {"sh"};
    container.environment_vars = {{"A", "1"}};
    container.current_state.exit_code = 3;
    group.containers = {container};
    group.init_containers = {container};
    const json::object o = to_json(group).as_object();

    CHECK(o.at("ContainerGroupId") == "eci-1");
    CHECK(o.at("Cpu").is_int64());  // 2, not 2E0
    CHECK(o.at("Cpu") == 2);
    CHECK(o.at("Memory") == 0.5);
    CHECK(o.at("Tags").at(0).at("Key") == "k");
    CHECK(o.at("VSwitchId").is_string());
    const json::object& c = o.at("Containers").at(0).as_object();
    CHECK(c.at("Commands").at(0) == "sh");
    CHECK(c.at("EnvironmentVars").at(0).at("Value") == "1");
    CHECK(c.at("CurrentState").at("ExitCode") == 3);
    CHECK(c.contains("PreviousState"));
    CHECK(c.contains("Tty"));
    // The SDK's InitContainers model says "Command".
    CHECK(o.at("InitContainers").at(0).as_object().contains("Command"));
    CHECK_FALSE(o.at("InitContainers").at(0).as_object().contains("Commands"));
}

TEST_CASE("models_json: a field of the wrong type is a protocol error naming the field",
          "[models_json]") {
    using Response = eci::DescribeContainerGroupsResponse;
    auto e = parse_error<Response>(R"({"TotalCount":"3"})");
    CHECK(e.kind == eci::ErrorKind::protocol);
    CHECK_THAT(e.message, Catch::Contains("TotalCount") && Catch::Contains("an integer"));

    e = parse_error<Response>(R"({"ContainerGroups":[{},{"Containers":[{"Cpu":"2"}]}]})");
    CHECK(e.kind == eci::ErrorKind::protocol);
    CHECK_THAT(e.message, Catch::Contains("ContainerGroups[1].Containers[0].Cpu"));

    e = parse_error<Response>(R"({"ContainerGroups":{}})");
    CHECK_THAT(e.message, Catch::Contains("ContainerGroups") && Catch::Contains("an array"));

    e = parse_error<Response>(R"({"ContainerGroups":[{"Tags":[{"Key":5}]}]})");
    CHECK_THAT(e.message, Catch::Contains("ContainerGroups[0].Tags[0].Key"));

    e = parse_error<Response>(R"({"ContainerGroups":[{"Containers":[{"Ready":1}]}]})");
    CHECK_THAT(e.message, Catch::Contains("Ready") && Catch::Contains("a boolean"));

    e = parse_error<Response>(R"({"ContainerGroups":[{"Containers":[{"RestartCount":1.5}]}]})");
    CHECK_THAT(e.message, Catch::Contains("RestartCount"));

    e = parse_error<Response>(R"({"ContainerGroups":[{"Containers":[{"CurrentState":[]}]}]})");
    CHECK_THAT(e.message, Catch::Contains("CurrentState") && Catch::Contains("an object"));

    e = parse_error<Response>(R"({"TotalCount":4294967296})");
    CHECK_THAT(e.message, Catch::Contains("TotalCount"));

    e = parse_error<Response>(R"([1,2])");
    CHECK_THAT(e.message, Catch::Contains("(root)"));
}

TEST_CASE("models_json: an integer field accepts a float without fraction", "[models_json]") {
    const auto group = parse_ok<eci::ContainerGroup>(json::parse(R"({"EphemeralStorage":20.0})"));
    CHECK(group.ephemeral_storage == 20);
}

TEST_CASE("models_json: an XML-style list wrapper is unwrapped", "[models_json]") {
    const auto group =
        parse_ok<eci::ContainerGroup>(json::parse(R"({"Tags":{"Tag":[{"Key":"a","Value":"b"}]}})"));
    CHECK(group.tags == std::vector<eci::Tag>{{"a", "b"}});
}

TEST_CASE("models_json: terminal statuses", "[models_json]") {
    for (auto s : {eci::status::succeeded, eci::status::failed, eci::status::expired,
                   eci::status::schedule_failed})
        CHECK(eci::is_terminal_status(s));
    for (auto s : {eci::status::scheduling, eci::status::pending, eci::status::running,
                   eci::status::restarting, eci::status::updating, eci::status::terminating})
        CHECK_FALSE(eci::is_terminal_status(s));
    CHECK_FALSE(eci::is_terminal_status(""));
    CHECK_FALSE(eci::is_terminal_status("failed"));  // case matters, as on the wire
}

TEST_CASE("models_json: parse_reply reads reply text straight into the model", "[models_json]") {
    using eci::detail::parse_reply;
    using Response = eci::DescribeContainerGroupsResponse;
    // The same model as through a JSON tree.
    const auto direct = parse_reply<Response>(describe_body);
    REQUIRE(direct.ok());
    CHECK(*direct == parse_ok<Response>(json::parse(describe_body)));

    // Escapes in keys and values, long strings (the parser hands them over in parts).
    const std::string long_text(5000, 'x');
    const auto escaped = parse_reply<Response>(
        R"({"Req\u0075estId":"a\"b\\c\u00e9\n","NextToken":")" + long_text + R"("})");
    REQUIRE(escaped.ok());
    CHECK(escaped->request_id == "a\"b\\c\xc3\xa9\n");
    CHECK(escaped->next_token == long_text);

    // The last duplicate wins; a null resets to the default.
    const auto dup = parse_reply<Response>(
        R"({"TotalCount":3,"TotalCount":4,"NextToken":"t","NextToken":null,)"
        R"("ContainerGroups":[{"Tags":[{"Key":"a"}]}],"ContainerGroups":[{}]})");
    REQUIRE(dup.ok());
    CHECK(dup->total_count == 4);
    CHECK(dup->next_token.empty());
    REQUIRE(dup->container_groups.size() == 1);
    CHECK(dup->container_groups[0].tags.empty());

    // "Commands" wins over "Command" in either order.
    for (const char* body :
         {R"({"Commands":["a"],"Command":["b"]})", R"({"Command":["b"],"Commands":["a"]})"}) {
        const auto container = parse_reply<eci::Container>(body);
        REQUIRE(container.ok());
        CHECK(container->commands == std::vector<std::string>{"a"});
    }

    // Unknown members of any shape and depth are skipped.
    const auto skipped = parse_reply<eci::DeleteContainerGroupResponse>(
        R"({"X":{"Y":[1,{"Z":[[]]},"s",null,true]},"RequestId":"r","W":[{"RequestId":5}]})");
    REQUIRE(skipped.ok());
    CHECK(skipped->request_id == "r");

    // XML-style wrapper, and wrappers that are not one list.
    const auto wrapped = parse_reply<eci::ContainerGroup>(R"({"Tags":{"Tag":[{"Key":"k"}]}})");
    REQUIRE(wrapped.ok());
    CHECK(wrapped->tags == std::vector<eci::Tag>{{"k", ""}});
    for (const char* body : {R"({"Tags":{}})", R"({"Tags":{"Tag":1}})", R"({"Tags":{"Tag":{}}})",
                             R"({"Tags":{"Tag":[],"More":[]}})"}) {
        const auto bad = parse_reply<eci::ContainerGroup>(body);
        REQUIRE_FALSE(bad.ok());
        CHECK_THAT(bad.error().message, Catch::Contains("Tags should be an array"));
    }
}

TEST_CASE("models_json: parse_reply errors name the body or the field", "[models_json]") {
    using eci::detail::parse_reply;
    using Response = eci::DescribeContainerGroupsResponse;
    auto e = parse_reply<Response>(R"({"RequestId":"req-7","ContainerGroups":[{"Cpu":"x"}]})");
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().kind == eci::ErrorKind::protocol);
    CHECK_THAT(e.error().message, Catch::Contains("ContainerGroups[0].Cpu should be a number"));
    CHECK(e.error().request_id == "req-7");

    e = parse_reply<Response>(R"({"ContainerGroups":[null]})");
    REQUIRE_FALSE(e.ok());
    CHECK_THAT(e.error().message, Catch::Contains("ContainerGroups[0] should be an object"));

    e = parse_reply<Response>(R"({"ContainerGroups":[{"Tags":{"Tag":[{"Value":[]}]}}]})");
    REQUIRE_FALSE(e.ok());
    CHECK_THAT(e.error().message, Catch::Contains("ContainerGroups[0].Tags[0].Value"));

    // Invalid JSON wins over a wrong type before it (the body is unreadable as a whole).
    e = parse_reply<Response>(R"({"TotalCount":"x",)");
    REQUIRE_FALSE(e.ok());
    CHECK_THAT(e.error().message, Catch::Contains("not valid JSON"));

    for (const char* body : {"", "OK\n", R"({"a":1} x)", R"("text")", "[]", "5"}) {
        INFO(body);
        e = parse_reply<Response>(body);
        REQUIRE_FALSE(e.ok());
        CHECK(e.error().kind == eci::ErrorKind::protocol);
        CHECK_THAT(e.error().message, Catch::Contains("the reply body"));
    }
    CHECK_THAT(parse_reply<Response>("[]").error().message, Catch::Contains("not an object"));

    // The depth limit of issue 5 holds without a JSON tree too.
    std::string deep;
    for (int i = 0; i < 100; ++i)
        deep += "[";
    for (int i = 0; i < 100; ++i)
        deep += "]";
    e = parse_reply<Response>(R"({"X":)" + deep + "}");
    REQUIRE_FALSE(e.ok());
    CHECK_THAT(e.error().message, Catch::Contains("not valid JSON"));
}
