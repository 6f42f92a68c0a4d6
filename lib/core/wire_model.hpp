// SPDX-License-Identifier: Apache-2.0
// One description per wire model (issue 15, item 3): for each struct of include/eci/models.hpp,
// one table lists its fields in wire order, each with its service name, the member it fills
// and how it is encoded. That table drives all four directions (core/models_json.*): to_json
// and the JSON reader for replies, to_params and from_params for requests. So a field is named
// once, and a field left out of the table is left out of every direction (the round-trip tests
// in test/unit/wire_model_test.cpp catch a model whose table misses a member).
//
// The tables of the models nested in requests and replies are below; an action's own request
// and response tables sit beside its description in core/actions.hpp.
//
// Internal to lib/core and its tests; never included by a public header.
#pragma once

#include <eci/models.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace eci::detail::wire {

/// How a member is held, so each direction knows how to read or write it.
enum class Kind : unsigned char {
    skip,              // nothing (a JSON member not modelled)
    string,            // std::string
    optional_string,   // std::optional<std::string>
    number,            // double
    integer,           // int
    boolean,           // bool
    optional_number,   // std::optional<double> (requests only)
    optional_integer,  // std::optional<int> (requests only)
    optional_int64,    // std::optional<std::int64_t> (requests only)
    optional_boolean,  // std::optional<bool> (requests only)
    object,            // a model struct (ObjectOps)
    array,             // std::vector of strings or of model structs (ArrayOps)
};

struct ObjectOps;
struct ArrayOps;

/// One member of one object: its kind and address. `name` is the wire name it was found or
/// is written under (static text; the JSON reader's error paths use it).
struct Target {
    Kind kind = Kind::skip;
    void* field = nullptr;
    const ObjectOps* object = nullptr;
    const ArrayOps* array = nullptr;
    std::string_view name;
};

/// How a field is encoded beyond its kind. Flags; combine with `|`.
enum Rule : unsigned {
    plain = 0,
    /// Params: from_params refuses an absent or empty value (MissingParameter); a list of
    /// models needs at least one item (MissingParameter naming `<Name>.1.<first field>`), a
    /// JSON-array list must be present and not empty (InvalidParameter "the <name> is empty").
    required = 1U << 0,
    /// Params: to_params writes the field even when empty (a string, or a JSON-array list).
    always_sent = 1U << 1,
    /// Params: a list of strings sent as one JSON-array string (`["a","b"]`), not `Name.N`.
    json_array = 1U << 2,
    /// JSON: the items of this list are written with their fields' `alt_name`s
    /// (InitContainers[] says "Command" where Containers[] says "Commands").
    alt_names_in_items = 1U << 3,
};

/// One field of a model's table.
struct Field {
    /// The service's name: the JSON member, and the flattened param unless `param_name` is set.
    std::string_view name;
    Target (*get)(void* object);
    unsigned rules = plain;
    /// The param name when it differs from the JSON name (lists: `Container.N`, `Tag.N`).
    std::string_view param_name;
    /// A second JSON name the reader accepts (`name` wins when both appear) and a parent with
    /// `alt_names_in_items` writes.
    std::string_view alt_name;

    constexpr std::string_view param() const { return param_name.empty() ? name : param_name; }
    constexpr bool has(Rule rule) const { return (rules & rule) != 0; }
};

/// One JSON name in a model's name hash (the reader's look-up).
struct NameSlot {
    std::string_view name;                  // empty: a free slot
    Target (*get)(void* object) = nullptr;  // the field's, here so a look-up reads one slot
    /// For a field with an alt_name: its bit in the reader's per-object "names seen" (the
    /// field's index modulo 32); 0 for the others.
    unsigned seen_bit = 0;
    bool alternative = false;  // this is the field's alt_name
};

/// What the four directions need of a model: its fields in wire order, its JSON names hashed,
/// and a reset to defaults (a JSON null).
struct ObjectOps {
    std::span<const Field> fields;
    std::span<const NameSlot> slots;  // a power of two, at most a quarter full
    void (*reset)(void* object);
};

/// How to walk and fill one std::vector.
struct ArrayOps {
    void (*clear)(void* vector);
    void* (*emplace)(void* vector);  // appends a default element, returns it
    std::size_t (*size)(const void* vector);
    void* (*at)(void* vector, std::size_t index);
    Kind element;  // Kind::string or Kind::object
    const ObjectOps* element_object;
};

/// A model's table: a std::array<Field, N> specialized per model (below and in
/// core/actions.hpp). The primary template is never used (an empty table fails to compile in
/// object_ops).
template <class T>
inline constexpr std::array<Field, 0> fields{};

/// The hash of a JSON name: three characters and the length, cheap and good enough for names
/// that differ early or in length.
constexpr std::size_t name_hash(std::string_view name) {
    const auto at = [&](std::size_t i) { return static_cast<std::size_t>(name[i]); };
    return name.size() * 131 + at(0) * 31 + at(name.size() / 2) * 7 + at(name.size() - 1);
}

template <class T>
constexpr std::size_t name_count() {
    std::size_t count = 0;
    for (const Field& field : fields<T>)
        count += field.alt_name.empty() ? 1 : 2;
    return count;
}

template <class T>
constexpr auto hashed_names() {
    std::array<NameSlot, std::bit_ceil(name_count<T>() * 4)> slots{};
    const auto insert = [&](std::string_view name, std::size_t field, bool alternative) {
        std::size_t slot = name_hash(name) % slots.size();
        while (!slots[slot].name.empty())
            slot = (slot + 1) % slots.size();
        const Field& entry = fields<T>[field];
        const unsigned seen_bit = entry.alt_name.empty() ? 0U : 1U << (field % 32);
        slots[slot] = NameSlot{name, entry.get, seen_bit, alternative};
    };
    for (std::size_t i = 0; i < fields<T>.size(); ++i) {
        insert(fields<T>[i].name, i, false);
        if (!fields<T>[i].alt_name.empty())
            insert(fields<T>[i].alt_name, i, true);
    }
    return slots;
}

template <class T>
inline constexpr auto name_slots = hashed_names<T>();

template <class T>
inline constexpr ObjectOps object_ops{fields<T>, name_slots<T>,
                                      [](void* object) { *static_cast<T*>(object) = T{}; }};

template <class T>
inline constexpr ArrayOps array_ops{
    [](void* vector) { static_cast<std::vector<T>*>(vector)->clear(); },
    [](void* vector) -> void* { return &static_cast<std::vector<T>*>(vector)->emplace_back(); },
    [](const void* vector) { return static_cast<const std::vector<T>*>(vector)->size(); },
    [](void* vector, std::size_t index) -> void* {
        return &(*static_cast<std::vector<T>*>(vector))[index];
    },
    std::is_same_v<T, std::string> ? Kind::string : Kind::object,
    [] {
        if constexpr (std::is_same_v<T, std::string>) {
            return static_cast<const ObjectOps*>(nullptr);
        } else {
            return &object_ops<T>;
        }
    }()};

inline Target make_target(Kind kind, void* field, const ObjectOps* object = nullptr,
                          const ArrayOps* array = nullptr) {
    Target t;
    t.kind = kind;
    t.field = field;
    t.object = object;
    t.array = array;
    return t;
}

inline Target target(std::string& out) {
    return make_target(Kind::string, &out);
}
inline Target target(std::optional<std::string>& out) {
    return make_target(Kind::optional_string, &out);
}
inline Target target(double& out) {
    return make_target(Kind::number, &out);
}
inline Target target(int& out) {
    return make_target(Kind::integer, &out);
}
inline Target target(bool& out) {
    return make_target(Kind::boolean, &out);
}
inline Target target(std::optional<double>& out) {
    return make_target(Kind::optional_number, &out);
}
inline Target target(std::optional<int>& out) {
    return make_target(Kind::optional_integer, &out);
}
inline Target target(std::optional<std::int64_t>& out) {
    return make_target(Kind::optional_int64, &out);
}
inline Target target(std::optional<bool>& out) {
    return make_target(Kind::optional_boolean, &out);
}
template <class T>
Target target(std::vector<T>& out) {
    return make_target(Kind::array, &out, nullptr, &array_ops<T>);
}
template <class T>
Target target(T& out) {
    static_assert(fields<T>.size() > 0, "a nested model needs its table (wire::fields)");
    return make_target(Kind::object, &out, &object_ops<T>);
}

template <class M>
struct member_traits;
template <class C, class F>
struct member_traits<F C::*> {
    using object = C;
};

template <auto member>
Target get_member(void* object) {
    using C = typename member_traits<decltype(member)>::object;
    return target(static_cast<C*>(object)->*member);
}

/// One entry of a table: `field<&Tag::key>("Key", required | always_sent)`.
template <auto member>
constexpr Field field(std::string_view name, unsigned rules = plain,
                      std::string_view param_name = {}, std::string_view alt_name = {}) {
    return Field{name, &get_member<member>, rules, param_name, alt_name};
}

/// The members of an object through its table, for the writing directions (to_json,
/// to_params): they only read through the pointer, so casting const away is safe.
inline Target get(const Field& field, const void* object) {
    return field.get(const_cast<void*>(object));
}

// ---------------------------------------------------------------------------------------
// The models nested in requests and replies. In wire order: to_json writes JSON members and
// to_params writes params in this order, from_params reports the first failure in it.

template <>
inline constexpr auto fields<Tag> = std::array{
    field<&Tag::key>("Key", required | always_sent),
    field<&Tag::value>("Value"),
};

// An environment variable's value is sent even when empty (an empty variable is a setting).
template <>
inline constexpr auto fields<EnvironmentVar> = std::array{
    field<&EnvironmentVar::key>("Key", required | always_sent),
    field<&EnvironmentVar::value>("Value", always_sent),
};

template <>
inline constexpr auto fields<ContainerPort> = std::array{
    field<&ContainerPort::port>("Port", required),
    field<&ContainerPort::protocol>("Protocol"),
};

template <>
inline constexpr auto fields<ContainerState> = std::array{
    field<&ContainerState::state>("State"),
    field<&ContainerState::detail_status>("DetailStatus"),
    field<&ContainerState::reason>("Reason"),
    field<&ContainerState::message>("Message"),
    field<&ContainerState::exit_code>("ExitCode"),
    field<&ContainerState::signal>("Signal"),
    field<&ContainerState::start_time>("StartTime"),
    field<&ContainerState::finish_time>("FinishTime"),
};

// InitContainers[] calls the command list "Command" (singular) where Containers[] says
// "Commands" (SDK models): the reader takes both ("Commands" wins).
template <>
inline constexpr auto fields<Container> = std::array{
    field<&Container::name>("Name"),
    field<&Container::image>("Image"),
    field<&Container::cpu>("Cpu"),
    field<&Container::memory>("Memory"),
    field<&Container::gpu>("Gpu"),
    field<&Container::ready>("Ready"),
    field<&Container::restart_count>("RestartCount"),
    field<&Container::current_state>("CurrentState"),
    field<&Container::previous_state>("PreviousState"),
    field<&Container::commands>("Commands", plain, {}, "Command"),
    field<&Container::args>("Args"),
    field<&Container::environment_vars>("EnvironmentVars"),
    field<&Container::ports>("Ports"),
    field<&Container::working_dir>("WorkingDir"),
    field<&Container::image_pull_policy>("ImagePullPolicy"),
    field<&Container::stdin>("Stdin"),
    field<&Container::stdin_once>("StdinOnce"),
    field<&Container::tty>("Tty"),
};

template <>
inline constexpr auto fields<Event> = std::array{
    field<&Event::count>("Count"),
    field<&Event::type>("Type"),
    field<&Event::name>("Name"),
    field<&Event::reason>("Reason"),
    field<&Event::message>("Message"),
    field<&Event::first_timestamp>("FirstTimestamp"),
    field<&Event::last_timestamp>("LastTimestamp"),
};

template <>
inline constexpr auto fields<ContainerGroup> = std::array{
    field<&ContainerGroup::container_group_id>("ContainerGroupId"),
    field<&ContainerGroup::container_group_name>("ContainerGroupName"),
    field<&ContainerGroup::region_id>("RegionId"),
    field<&ContainerGroup::zone_id>("ZoneId"),
    field<&ContainerGroup::status>("Status"),
    field<&ContainerGroup::cpu>("Cpu"),
    field<&ContainerGroup::memory>("Memory"),
    field<&ContainerGroup::instance_type>("InstanceType"),
    field<&ContainerGroup::v_switch_id>("VSwitchId"),
    field<&ContainerGroup::security_group_id>("SecurityGroupId"),
    field<&ContainerGroup::vpc_id>("VpcId"),
    field<&ContainerGroup::eni_instance_id>("EniInstanceId"),
    field<&ContainerGroup::intranet_ip>("IntranetIp"),
    field<&ContainerGroup::internet_ip>("InternetIp"),
    field<&ContainerGroup::ipv6_address>("Ipv6Address"),
    field<&ContainerGroup::restart_policy>("RestartPolicy"),
    field<&ContainerGroup::creation_time>("CreationTime"),
    field<&ContainerGroup::succeeded_time>("SucceededTime"),
    field<&ContainerGroup::failed_time>("FailedTime"),
    field<&ContainerGroup::expired_time>("ExpiredTime"),
    field<&ContainerGroup::resource_group_id>("ResourceGroupId"),
    field<&ContainerGroup::ram_role_name>("RamRoleName"),
    field<&ContainerGroup::spot_strategy>("SpotStrategy"),
    field<&ContainerGroup::ephemeral_storage>("EphemeralStorage"),
    field<&ContainerGroup::tags>("Tags"),
    field<&ContainerGroup::events>("Events"),
    field<&ContainerGroup::containers>("Containers"),
    field<&ContainerGroup::init_containers>("InitContainers", alt_names_in_items),
};

// A container of a CreateContainerGroup request: params only (`Container.N.*`).
template <>
inline constexpr auto fields<ContainerSpec> = std::array{
    field<&ContainerSpec::name>("Name", required | always_sent),
    field<&ContainerSpec::image>("Image", required | always_sent),
    field<&ContainerSpec::cpu>("Cpu"),
    field<&ContainerSpec::memory>("Memory"),
    field<&ContainerSpec::commands>("Command"),
    field<&ContainerSpec::args>("Arg"),
    field<&ContainerSpec::environment_vars>("EnvironmentVar"),
    field<&ContainerSpec::ports>("Port"),
    field<&ContainerSpec::working_dir>("WorkingDir"),
    field<&ContainerSpec::stdin>("Stdin"),
    field<&ContainerSpec::tty>("Tty"),
    field<&ContainerSpec::image_pull_policy>("ImagePullPolicy"),
};

}  // namespace eci::detail::wire
