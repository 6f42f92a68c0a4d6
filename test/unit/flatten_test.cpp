// SPDX-License-Identifier: Apache-2.0
#include "core/js_number.hpp"
#include "support/flatten_json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include <limits>

using namespace eci::detail;
using eci::test::append_flattened_json;
using eci::test::flatten_json;

TEST_CASE("flatten: objects and arrays become dotted 1-based names", "[flatten]") {
    const auto request = boost::json::parse(R"({
        "RegionId": "cn-hangzhou",
        "Container": [{
            "Name": "sandbox",
            "Cpu": 1.0,
            "Memory": 2.5,
            "Command": ["sh", "-c", "sleep 1"],
            "EnvironmentVar": [{"Key": "A", "Value": "1"}, {"Key": "B", "Value": ""}],
            "Tty": true,
            "Stdin": false,
            "LivenessProbe": {"Exec": {"Command": ["true"]}, "PeriodSeconds": 10}
        }],
        "Tag": [{"Key": "owner", "Value": "me"}],
        "DryRun": null
    })");
    const Params expected = {{"RegionId", "cn-hangzhou"},
                             {"Container.1.Name", "sandbox"},
                             {"Container.1.Cpu", "1"},
                             {"Container.1.Memory", "2.5"},
                             {"Container.1.Command.1", "sh"},
                             {"Container.1.Command.2", "-c"},
                             {"Container.1.Command.3", "sleep 1"},
                             {"Container.1.EnvironmentVar.1.Key", "A"},
                             {"Container.1.EnvironmentVar.1.Value", "1"},
                             {"Container.1.EnvironmentVar.2.Key", "B"},
                             {"Container.1.EnvironmentVar.2.Value", ""},
                             {"Container.1.Tty", "true"},
                             {"Container.1.Stdin", "false"},
                             {"Container.1.LivenessProbe.Exec.Command.1", "true"},
                             {"Container.1.LivenessProbe.PeriodSeconds", "10"},
                             {"Tag.1.Key", "owner"},
                             {"Tag.1.Value", "me"}};
    CHECK(flatten_json(request, "") == expected);
}

TEST_CASE("flatten: prefixes, nulls in arrays, nested arrays and empty containers", "[flatten]") {
    CHECK(flatten_json(boost::json::parse(R"(["a", null, "c"])"), "X") ==
          Params{{"X.1", "a"}, {"X.3", "c"}});
    CHECK(flatten_json(boost::json::parse(R"([[1, 2], [3]])"), "M") ==
          Params{{"M.1.1", "1"}, {"M.1.2", "2"}, {"M.2.1", "3"}});
    CHECK(flatten_json(boost::json::parse(R"({"A": [], "B": {}, "C": null})"), "").empty());
    CHECK(flatten_json(boost::json::parse(R"("x")"), "Name") == Params{{"Name", "x"}});
    CHECK(flatten_json(boost::json::parse(R"({"K": 18446744073709551615, "N": -7})"), "P") ==
          Params{{"P.K", "18446744073709551615"}, {"P.N", "-7"}});

    Params out = {{"Action", "Run"}};
    append_flattened_json(out, boost::json::parse(R"({"A": 1})"), "");
    CHECK(out == Params{{"Action", "Run"}, {"A", "1"}});
}

TEST_CASE("flatten: numbers print as JavaScript's Number toString", "[flatten]") {
    CHECK(js_number_string(1.0) == "1");
    CHECK(js_number_string(0.5) == "0.5");
    CHECK(js_number_string(-2.25) == "-2.25");
    CHECK(js_number_string(0.1) == "0.1");
    CHECK(js_number_string(0.1 + 0.2) == "0.30000000000000004");
    CHECK(js_number_string(123456789.0) == "123456789");
    CHECK(js_number_string(1e20) == "100000000000000000000");
    CHECK(js_number_string(1e21) == "1e+21");
    CHECK(js_number_string(1.5e21) == "1.5e+21");
    CHECK(js_number_string(0.000001) == "0.000001");
    CHECK(js_number_string(0.0000015) == "0.0000015");
    CHECK(js_number_string(1e-7) == "1e-7");
    CHECK(js_number_string(-1.25e-7) == "-1.25e-7");
    CHECK(js_number_string(0.0) == "0");
    CHECK(js_number_string(-0.0) == "0");
    CHECK(js_number_string(5e-324) == "5e-324");
    CHECK(js_number_string(1.7976931348623157e308) == "1.7976931348623157e+308");
    CHECK(js_number_string(std::numeric_limits<double>::quiet_NaN()) == "NaN");
    CHECK(js_number_string(std::numeric_limits<double>::infinity()) == "Infinity");
    CHECK(js_number_string(-std::numeric_limits<double>::infinity()) == "-Infinity");
}
