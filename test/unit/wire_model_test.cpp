// SPDX-License-Identifier: Apache-2.0
// One table per wire model drives all four directions (core/wire_model.hpp, the action tables
// in core/actions.hpp). These tests fill every member of each model with a value unlike its
// default (Boost.PFR walks the members, so a member added to models.hpp is filled too) and send
// it through its two directions: a request through to_params then from_params, a reply model
// through to_json then the reader. A member missing from a table, or mapped to the wrong member,
// comes back different. The exact wire forms are pinned by models_json_test.cpp and
// request_params_test.cpp.
#include "core/wire_model.hpp"
#include "core/actions.hpp"
#include "core/models_json.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>
#include <boost/pfr/core.hpp>
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace {

namespace wire = eci::detail::wire;

// Gives every member a value unlike its default and unlike the other members' values.
class Filler {
  public:
    void fill(std::string& text) { text = fmt::format("value-{}", next_++); }
    void fill(double& number) { number = next_++ + 0.5; }
    void fill(int& number) { number = next_++; }
    void fill(std::int64_t& number) { number = next_++; }
    void fill(bool& flag) { flag = true; }
    void fill(std::optional<bool>& flag) { flag = (next_++ % 2) == 0; }
    template <class T>
    void fill(std::optional<T>& value) {
        fill(value.emplace());
    }
    template <class T>
    void fill(std::vector<T>& items) {
        fill(items.emplace_back());
        fill(items.emplace_back());
    }
    template <class T>
    requires std::is_aggregate_v<T>
    void fill(T& model) {
        boost::pfr::for_each_field(model, [this](auto& member) { fill(member); });
    }

  private:
    int next_ = 1;
};

template <class T>
T filled() {
    T model{};
    Filler filler;
    filler.fill(model);
    return model;
}

// Every member of T has exactly one entry in T's table.
template <class T>
void check_table_covers_members() {
    CHECK(wire::fields<T>.size() == boost::pfr::tuple_size_v<T>);
}

template <class Request>
void check_params_round_trip() {
    const Request request = filled<Request>();
    check_table_covers_members<Request>();
    const eci::Result<Request> back =
        eci::detail::from_params<Request>(eci::detail::to_params(request, "cn-hangzhou"));
    INFO((back.ok() ? std::string() : back.error().to_string()));
    REQUIRE(back.ok());
    CHECK(back.value() == request);
}

template <class Model>
void check_json_round_trip() {
    const Model model = filled<Model>();
    check_table_covers_members<Model>();
    const std::string text = boost::json::serialize(eci::detail::to_json(model));
    INFO(text);
    const eci::Result<Model> back = eci::detail::parse_reply<Model>(text);
    INFO((back.ok() ? std::string() : back.error().to_string()));
    REQUIRE(back.ok());
    CHECK(back.value() == model);
}

}  // namespace

TEST_CASE("wire model: every request goes through to_params and from_params unchanged",
          "[wire_model]") {
#define ECI_CHECK_REQUEST(Request) check_params_round_trip<eci::Request>();
    ECI_FOR_EACH_ACTION(ECI_CHECK_REQUEST)
#undef ECI_CHECK_REQUEST
    check_table_covers_members<eci::ContainerSpec>();
}

TEST_CASE("wire model: every response goes through to_json and the reader unchanged",
          "[wire_model]") {
#define ECI_CHECK_RESPONSE(Request) \
    check_json_round_trip<eci::detail::Action<eci::Request>::Response>();
    ECI_FOR_EACH_ACTION(ECI_CHECK_RESPONSE)
#undef ECI_CHECK_RESPONSE
}

TEST_CASE("wire model: every model nested in a reply goes through to_json and the reader",
          "[wire_model]") {
    check_json_round_trip<eci::Tag>();
    check_json_round_trip<eci::EnvironmentVar>();
    check_json_round_trip<eci::ContainerPort>();
    check_json_round_trip<eci::ContainerState>();
    check_json_round_trip<eci::Container>();
    check_json_round_trip<eci::Event>();
    check_json_round_trip<eci::ContainerGroup>();
}

TEST_CASE("wire model: init containers keep their commands under the name Command",
          "[wire_model]") {
    eci::ContainerGroup group = filled<eci::ContainerGroup>();
    const std::string text = boost::json::serialize(eci::detail::to_json(group));
    CHECK(text.find("\"InitContainers\":[{\"Name\":") != std::string::npos);
    const std::size_t init = text.find("\"InitContainers\"");
    CHECK(text.find("\"Command\":", init) != std::string::npos);
    CHECK(text.find("\"Commands\":", init) == std::string::npos);
    CHECK(text.substr(0, init).find("\"Commands\":") != std::string::npos);
}
