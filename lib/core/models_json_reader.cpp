// SPDX-License-Identifier: Apache-2.0
// JSON text -> models in one pass: a Boost.JSON SAX handler (basic_parser) writes each value
// straight into the field of the model it belongs to. No JSON tree is built, so a reply costs
// one scan of its text and the model's own allocations (a DOM parse then a walk cost about
// four times as much; docs/performance.md).
//
// The rules are those documented at from_json in models_json.hpp. The mapping of JSON names
// to fields is one table per model (`field_table` below); everything else is generic.
#include "core/models_json.hpp"

#include "core/service_error.hpp"

#include <fmt/format.h>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>

namespace eci::detail {

namespace json = boost::json;

namespace {

// What a JSON value is read into.
enum class Kind : unsigned char {
    skip,             // not modelled: the value (and all it holds) is ignored
    string,           // std::string
    optional_string,  // std::optional<std::string>
    number,           // double: any JSON number
    integer,          // int: an integer, or a float without fraction, within the int range
    boolean,          // bool
    object,           // a model struct (ObjectOps)
    array,            // std::vector of strings or of model structs (ArrayOps)
};

struct Target;

// How to read one model struct: the field a JSON name maps to, and reset to defaults.
struct ObjectOps {
    // `flags` is per-object scratch state for name rules that depend on earlier members.
    Target (*field)(void* object, std::string_view name, unsigned& flags);
    void (*reset)(void* object);
};

// How to fill one std::vector.
struct ArrayOps {
    void (*clear)(void* vector);
    void* (*emplace)(void* vector);  // appends a default element, returns it
    Kind element;                    // Kind::string or Kind::object
    const ObjectOps* element_object;
};

// One value's destination. `name` is the JSON name (static text) for error paths.
struct Target {
    Kind kind = Kind::skip;
    void* field = nullptr;
    const ObjectOps* object = nullptr;
    const ArrayOps* array = nullptr;
    std::string_view name;
};

Target make_target(Kind kind, void* field, const ObjectOps* object = nullptr,
                   const ArrayOps* array = nullptr) {
    Target t;
    t.kind = kind;
    t.field = field;
    t.object = object;
    t.array = array;
    return t;
}

std::string_view json_kind_name(const json::value& value) {
    switch (value.kind()) {
        case json::kind::null:
            return "null";
        case json::kind::bool_:
            return "a boolean";
        case json::kind::int64:
        case json::kind::uint64:
            return "an integer";
        case json::kind::double_:
            return "a float";
        case json::kind::string:
            return "a string";
        case json::kind::array:
            return "an array";
        case json::kind::object:
            return "an object";
    }
    return "unknown";
}

std::string_view expected_text(Kind kind) {
    switch (kind) {
        case Kind::string:
        case Kind::optional_string:
            return "a string";
        case Kind::number:
            return "a number";
        case Kind::integer:
            return "an integer within the int range";
        case Kind::boolean:
            return "a boolean";
        case Kind::object:
            return "an object";
        case Kind::array:
            return "an array";
        case Kind::skip:
            break;
    }
    return "nothing";
}

// ---------------------------------------------------------------------------------------
// The models' JSON names (field_table below). Declared first: the ops refer to them.
template <class T>
Target fields(T& out, std::string_view name, unsigned& flags);

template <class T>
constexpr ObjectOps object_ops{[](void* object, std::string_view name, unsigned& flags) {
                                   return fields(*static_cast<T*>(object), name, flags);
                               },
                               [](void* object) { *static_cast<T*>(object) = T{}; }};

template <class T>
constexpr Kind element_kind = std::is_same_v<T, std::string> ? Kind::string : Kind::object;

template <class T>
constexpr const ObjectOps* element_ops() {
    if constexpr (std::is_same_v<T, std::string>) {
        return nullptr;
    } else {
        return &object_ops<T>;
    }
}

template <class T>
constexpr ArrayOps array_ops{
    [](void* vector) { static_cast<std::vector<T>*>(vector)->clear(); },
    [](void* vector) -> void* { return &static_cast<std::vector<T>*>(vector)->emplace_back(); },
    element_kind<T>, element_ops<T>()};

Target target(std::string& out) {
    return make_target(Kind::string, &out);
}
Target target(std::optional<std::string>& out) {
    return make_target(Kind::optional_string, &out);
}
Target target(double& out) {
    return make_target(Kind::number, &out);
}
Target target(int& out) {
    return make_target(Kind::integer, &out);
}
Target target(bool& out) {
    return make_target(Kind::boolean, &out);
}
template <class T>
Target target(std::vector<T>& out) {
    return make_target(Kind::array, &out, nullptr, &array_ops<T>);
}
template <class T>
Target target(T& out) {
    return make_target(Kind::object, &out, &object_ops<T>);
}

// A model's JSON names, each with the field it fills.
struct FieldEntry {
    std::string_view name;
    Target (*get)(void* object);
};

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

// A model's names in an open-addressing hash table (built at compile time, at most a quarter
// full): a look-up is a hash of three characters and the length, then usually one compare.
constexpr std::size_t name_hash(std::string_view name) {
    const auto at = [&](std::size_t i) { return static_cast<std::size_t>(name[i]); };
    return name.size() * 131 + at(0) * 31 + at(name.size() / 2) * 7 + at(name.size() - 1);
}

template <std::size_t N>
struct FieldTable {
    static constexpr std::size_t slot_count = std::bit_ceil(N * 4);
    // An empty slot has an empty name (no member's is). Not `get == nullptr`: GCC's
    // sanitizer builds refuse to compare function addresses in a constant expression.
    std::array<FieldEntry, slot_count> slots{};
};

template <std::size_t N>
constexpr FieldTable<N> hashed(std::array<FieldEntry, N> entries) {
    FieldTable<N> table;
    for (const FieldEntry& entry : entries) {
        std::size_t slot = name_hash(entry.name) % table.slot_count;
        while (!table.slots[slot].name.empty())
            slot = (slot + 1) % table.slot_count;
        table.slots[slot] = entry;
    }
    return table;
}

template <std::size_t N>
Target find_field(const FieldTable<N>& table, void* object, std::string_view name) {
    if (name.empty())
        return {};
    std::size_t slot = name_hash(name) % table.slot_count;
    for (; !table.slots[slot].name.empty(); slot = (slot + 1) % table.slot_count) {
        const FieldEntry& entry = table.slots[slot];
        if (entry.name == name) {
            Target found = entry.get(object);
            found.name = entry.name;
            return found;
        }
    }
    return {};
}

// The table of each model (the primary template is never used).
template <class T>
constexpr FieldTable<0> field_table{};

template <>
constexpr auto field_table<Tag> = hashed(std::array{
    FieldEntry{"Key", get_member<&Tag::key>},
    FieldEntry{"Value", get_member<&Tag::value>},
});

template <>
constexpr auto field_table<EnvironmentVar> = hashed(std::array{
    FieldEntry{"Key", get_member<&EnvironmentVar::key>},
    FieldEntry{"Value", get_member<&EnvironmentVar::value>},
});

template <>
constexpr auto field_table<ContainerPort> = hashed(std::array{
    FieldEntry{"Port", get_member<&ContainerPort::port>},
    FieldEntry{"Protocol", get_member<&ContainerPort::protocol>},
});

template <>
constexpr auto field_table<ContainerState> = hashed(std::array{
    FieldEntry{"State", get_member<&ContainerState::state>},
    FieldEntry{"DetailStatus", get_member<&ContainerState::detail_status>},
    FieldEntry{"Reason", get_member<&ContainerState::reason>},
    FieldEntry{"Message", get_member<&ContainerState::message>},
    FieldEntry{"ExitCode", get_member<&ContainerState::exit_code>},
    FieldEntry{"Signal", get_member<&ContainerState::signal>},
    FieldEntry{"StartTime", get_member<&ContainerState::start_time>},
    FieldEntry{"FinishTime", get_member<&ContainerState::finish_time>},
});

// InitContainers[] calls the command list "Command" (singular) where Containers[] says
// "Commands" (SDK models); both are here, and fields<Container> makes "Commands" win.
template <>
constexpr auto field_table<Container> = hashed(std::array{
    FieldEntry{"Name", get_member<&Container::name>},
    FieldEntry{"Image", get_member<&Container::image>},
    FieldEntry{"Cpu", get_member<&Container::cpu>},
    FieldEntry{"Memory", get_member<&Container::memory>},
    FieldEntry{"Gpu", get_member<&Container::gpu>},
    FieldEntry{"Ready", get_member<&Container::ready>},
    FieldEntry{"RestartCount", get_member<&Container::restart_count>},
    FieldEntry{"CurrentState", get_member<&Container::current_state>},
    FieldEntry{"PreviousState", get_member<&Container::previous_state>},
    FieldEntry{"Commands", get_member<&Container::commands>},
    FieldEntry{"Command", get_member<&Container::commands>},
    FieldEntry{"Args", get_member<&Container::args>},
    FieldEntry{"EnvironmentVars", get_member<&Container::environment_vars>},
    FieldEntry{"Ports", get_member<&Container::ports>},
    FieldEntry{"WorkingDir", get_member<&Container::working_dir>},
    FieldEntry{"ImagePullPolicy", get_member<&Container::image_pull_policy>},
    FieldEntry{"Stdin", get_member<&Container::stdin>},
    FieldEntry{"StdinOnce", get_member<&Container::stdin_once>},
    FieldEntry{"Tty", get_member<&Container::tty>},
});

template <>
constexpr auto field_table<Event> = hashed(std::array{
    FieldEntry{"Count", get_member<&Event::count>},
    FieldEntry{"Type", get_member<&Event::type>},
    FieldEntry{"Name", get_member<&Event::name>},
    FieldEntry{"Reason", get_member<&Event::reason>},
    FieldEntry{"Message", get_member<&Event::message>},
    FieldEntry{"FirstTimestamp", get_member<&Event::first_timestamp>},
    FieldEntry{"LastTimestamp", get_member<&Event::last_timestamp>},
});

template <>
constexpr auto field_table<ContainerGroup> = hashed(std::array{
    FieldEntry{"ContainerGroupId", get_member<&ContainerGroup::container_group_id>},
    FieldEntry{"ContainerGroupName", get_member<&ContainerGroup::container_group_name>},
    FieldEntry{"RegionId", get_member<&ContainerGroup::region_id>},
    FieldEntry{"ZoneId", get_member<&ContainerGroup::zone_id>},
    FieldEntry{"Status", get_member<&ContainerGroup::status>},
    FieldEntry{"Cpu", get_member<&ContainerGroup::cpu>},
    FieldEntry{"Memory", get_member<&ContainerGroup::memory>},
    FieldEntry{"InstanceType", get_member<&ContainerGroup::instance_type>},
    FieldEntry{"VSwitchId", get_member<&ContainerGroup::v_switch_id>},
    FieldEntry{"SecurityGroupId", get_member<&ContainerGroup::security_group_id>},
    FieldEntry{"VpcId", get_member<&ContainerGroup::vpc_id>},
    FieldEntry{"EniInstanceId", get_member<&ContainerGroup::eni_instance_id>},
    FieldEntry{"IntranetIp", get_member<&ContainerGroup::intranet_ip>},
    FieldEntry{"InternetIp", get_member<&ContainerGroup::internet_ip>},
    FieldEntry{"Ipv6Address", get_member<&ContainerGroup::ipv6_address>},
    FieldEntry{"RestartPolicy", get_member<&ContainerGroup::restart_policy>},
    FieldEntry{"CreationTime", get_member<&ContainerGroup::creation_time>},
    FieldEntry{"SucceededTime", get_member<&ContainerGroup::succeeded_time>},
    FieldEntry{"FailedTime", get_member<&ContainerGroup::failed_time>},
    FieldEntry{"ExpiredTime", get_member<&ContainerGroup::expired_time>},
    FieldEntry{"ResourceGroupId", get_member<&ContainerGroup::resource_group_id>},
    FieldEntry{"RamRoleName", get_member<&ContainerGroup::ram_role_name>},
    FieldEntry{"SpotStrategy", get_member<&ContainerGroup::spot_strategy>},
    FieldEntry{"EphemeralStorage", get_member<&ContainerGroup::ephemeral_storage>},
    FieldEntry{"Tags", get_member<&ContainerGroup::tags>},
    FieldEntry{"Events", get_member<&ContainerGroup::events>},
    FieldEntry{"Containers", get_member<&ContainerGroup::containers>},
    FieldEntry{"InitContainers", get_member<&ContainerGroup::init_containers>},
});

template <>
constexpr auto field_table<CreateContainerGroupResponse> = hashed(std::array{
    FieldEntry{"RequestId", get_member<&CreateContainerGroupResponse::request_id>},
    FieldEntry{"ContainerGroupId", get_member<&CreateContainerGroupResponse::container_group_id>},
});

template <>
constexpr auto field_table<DescribeContainerGroupsResponse> = hashed(std::array{
    FieldEntry{"RequestId", get_member<&DescribeContainerGroupsResponse::request_id>},
    FieldEntry{"TotalCount", get_member<&DescribeContainerGroupsResponse::total_count>},
    FieldEntry{"NextToken", get_member<&DescribeContainerGroupsResponse::next_token>},
    FieldEntry{"ContainerGroups", get_member<&DescribeContainerGroupsResponse::container_groups>},
});

template <>
constexpr auto field_table<DeleteContainerGroupResponse> = hashed(std::array{
    FieldEntry{"RequestId", get_member<&DeleteContainerGroupResponse::request_id>},
});

template <>
constexpr auto field_table<RestartContainerGroupResponse> = hashed(std::array{
    FieldEntry{"RequestId", get_member<&RestartContainerGroupResponse::request_id>},
});

template <>
constexpr auto field_table<ExecContainerCommandResponse> = hashed(std::array{
    FieldEntry{"RequestId", get_member<&ExecContainerCommandResponse::request_id>},
    FieldEntry{"WebSocketUri", get_member<&ExecContainerCommandResponse::web_socket_uri>},
    FieldEntry{"HttpUrl", get_member<&ExecContainerCommandResponse::http_url>},
    FieldEntry{"SyncResponse", get_member<&ExecContainerCommandResponse::sync_response>},
});

template <>
constexpr auto field_table<DescribeContainerLogResponse> = hashed(std::array{
    FieldEntry{"RequestId", get_member<&DescribeContainerLogResponse::request_id>},
    FieldEntry{"ContainerName", get_member<&DescribeContainerLogResponse::container_name>},
    FieldEntry{"Content", get_member<&DescribeContainerLogResponse::content>},
});

constexpr unsigned seen_commands = 1;

template <class T>
Target fields(T& out, std::string_view name, unsigned& flags) {
    if constexpr (std::is_same_v<T, Container>) {
        if (name == "Commands")
            flags |= seen_commands;
        if (name == "Command" && (flags & seen_commands) != 0)
            return {};
    } else {
        (void)flags;
    }
    return find_field(field_table<T>, &out, name);
}

// ---------------------------------------------------------------------------------------
// The SAX handler.

// What the root value must be; when it is something else, which error to report.
enum class RootRule {
    reply_body,  // "the reply body is JSON but not an object"
    model,       // "the reply field (root) should be an object but is ..."
};

class ModelHandler {
  public:
    static constexpr std::size_t max_object_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_array_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_key_size = std::numeric_limits<std::uint32_t>::max();
    static constexpr std::size_t max_string_size = std::numeric_limits<std::uint32_t>::max();

    ModelHandler(void* root, const ObjectOps* root_ops, RootRule rule)
        : root_(root), root_ops_(root_ops), rule_(rule) {}

    bool failed() const { return error_.has_value(); }
    Error take_error() { return std::move(*error_); }

    bool on_document_begin(json::error_code&) { return true; }
    bool on_document_end(json::error_code&) { return true; }
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }
    bool on_number_part(json::string_view, json::error_code&) { return true; }

    bool on_object_begin(json::error_code&) {
        if (skipping()) {
            ++skip_depth_;
            return true;
        }
        if (depth_ == 0 && !root_done_) {
            root_done_ = true;
            push(make_frame(FrameType::model, root_, root_ops_, nullptr, {}));
            return true;
        }
        if (depth_ > 0 && top().type == FrameType::wrapper_key) {
            // cannot happen: a key always comes between an object's begin and a value
            return true;
        }
        if (depth_ > 0 && top().type == FrameType::wrapper_value) {
            fail_here("an array", "an object");
            return true;
        }
        const Target t = take_target();
        if (t.kind == Kind::skip) {
            skip_depth_ = 1;
        } else if (t.kind == Kind::object) {
            push(make_frame(FrameType::model, t.field, t.object, nullptr, t.name));
        } else if (t.kind == Kind::array) {
            // An XML-style wrapper ({"Tag":[...]}): one member holding the array.
            push(make_frame(FrameType::wrapper_key, t.field, nullptr, t.array, t.name));
        } else {
            fail(t, "an object");
        }
        return true;
    }

    bool on_object_end(std::size_t, json::error_code&) {
        if (skipping()) {
            --skip_depth_;
            return true;
        }
        if (depth_ == 0)
            return true;
        Frame& frame = top();
        if (frame.type == FrameType::wrapper_key) {
            fail_here("an array", "an object");  // {} holds no list
            return true;
        }
        --depth_;
        return true;
    }

    bool on_array_begin(json::error_code&) {
        if (skipping()) {
            ++skip_depth_;
            return true;
        }
        if (depth_ == 0 && !root_done_) {
            root_done_ = true;
            fail_root("an array");
            return true;
        }
        if (depth_ > 0 && top().type == FrameType::wrapper_value) {
            Frame& frame = top();
            frame.array->clear(frame.target);
            frame.type = FrameType::wrapped_list;
            return true;
        }
        const Target t = take_target();
        if (t.kind == Kind::skip) {
            skip_depth_ = 1;
        } else if (t.kind == Kind::array) {
            t.array->clear(t.field);
            push(make_frame(FrameType::list, t.field, nullptr, t.array, t.name));
        } else {
            fail(t, "an array");
        }
        return true;
    }

    bool on_array_end(std::size_t, json::error_code&) {
        if (skipping()) {
            --skip_depth_;
            return true;
        }
        if (depth_ == 0)
            return true;
        Frame& frame = top();
        if (frame.type == FrameType::wrapped_list) {
            frame.type = FrameType::wrapper_end;
        } else {
            --depth_;
        }
        return true;
    }

    bool on_key_part(json::string_view part, std::size_t, json::error_code&) {
        if (!skipping())
            key_.append(part.data(), part.size());
        return true;
    }

    bool on_key(json::string_view last, std::size_t total, json::error_code&) {
        if (skipping())
            return true;
        std::string_view name(last.data(), last.size());
        if (total != last.size()) {
            key_.append(last.data(), last.size());
            name = key_;
        }
        Frame& frame = top();
        switch (frame.type) {
            case FrameType::model:
                pending_ = frame.object->field(frame.target, name, frame.flags);
                break;
            case FrameType::wrapper_key:
                frame.type = FrameType::wrapper_value;
                break;
            case FrameType::wrapper_end:
                fail_here("an array", "an object");  // more than one member
                break;
            default:
                break;
        }
        key_.clear();
        return true;
    }

    bool on_string_part(json::string_view part, std::size_t total, json::error_code&) {
        if (skipping())
            return true;
        if (total == part.size())
            string_ = begin_string();
        if (string_)
            string_->append(part.data(), part.size());
        return true;
    }

    bool on_string(json::string_view last, std::size_t total, json::error_code&) {
        if (skipping())
            return true;
        if (total == last.size())
            string_ = begin_string();
        if (string_)
            string_->append(last.data(), last.size());
        string_ = nullptr;
        return true;
    }

    bool on_int64(std::int64_t value, json::string_view, json::error_code&) {
        if (skipping())
            return true;
        const Target t = scalar_target("an integer");
        if (t.kind == Kind::number) {
            *static_cast<double*>(t.field) = static_cast<double>(value);
        } else if (t.kind == Kind::integer) {
            if (value >= int_low && value <= int_high) {
                *static_cast<int*>(t.field) = static_cast<int>(value);
            } else {
                fail(t, "an integer");
            }
        } else if (t.kind != Kind::skip) {
            fail(t, "an integer");
        }
        return true;
    }

    bool on_uint64(std::uint64_t value, json::string_view, json::error_code&) {
        if (skipping())
            return true;
        const Target t = scalar_target("an integer");
        if (t.kind == Kind::number) {
            *static_cast<double*>(t.field) = static_cast<double>(value);
        } else if (t.kind == Kind::integer) {
            if (value <= std::uint64_t{int_high}) {
                *static_cast<int*>(t.field) = static_cast<int>(value);
            } else {
                fail(t, "an integer");
            }
        } else if (t.kind != Kind::skip) {
            fail(t, "an integer");
        }
        return true;
    }

    bool on_double(double value, json::string_view, json::error_code&) {
        if (skipping())
            return true;
        const Target t = scalar_target("a float");
        if (t.kind == Kind::number) {
            *static_cast<double*>(t.field) = value;
        } else if (t.kind == Kind::integer) {
            if (std::trunc(value) == value && value >= int_low && value <= int_high) {
                *static_cast<int*>(t.field) = static_cast<int>(value);
            } else {
                fail(t, "a float");
            }
        } else if (t.kind != Kind::skip) {
            fail(t, "a float");
        }
        return true;
    }

    bool on_bool(bool value, json::error_code&) {
        if (skipping())
            return true;
        const Target t = scalar_target("a boolean");
        if (t.kind == Kind::boolean) {
            *static_cast<bool*>(t.field) = value;
        } else if (t.kind != Kind::skip) {
            fail(t, "a boolean");
        }
        return true;
    }

    bool on_null(json::error_code&) {
        if (skipping())
            return true;
        const bool in_object = depth_ > 0 && top().type == FrameType::model;
        const Target t = scalar_target("null");
        if (t.kind == Kind::skip)
            return true;
        if (!in_object) {
            fail(t, "null");  // a null list element is not a value of the element's type
            return true;
        }
        // A null member keeps the default, even over an earlier duplicate of the member.
        switch (t.kind) {
            case Kind::string:
                static_cast<std::string*>(t.field)->clear();
                break;
            case Kind::optional_string:
                static_cast<std::optional<std::string>*>(t.field)->reset();
                break;
            case Kind::number:
                *static_cast<double*>(t.field) = 0;
                break;
            case Kind::integer:
                *static_cast<int*>(t.field) = 0;
                break;
            case Kind::boolean:
                *static_cast<bool*>(t.field) = false;
                break;
            case Kind::object:
                t.object->reset(t.field);
                break;
            case Kind::array:
                t.array->clear(t.field);
                break;
            case Kind::skip:
                break;
        }
        return true;
    }

  private:
    static constexpr std::int64_t int_low = std::numeric_limits<int>::min();
    static constexpr std::int64_t int_high = std::numeric_limits<int>::max();
    // Models nest 7 deep (response, groups, group, containers, container, list, item).
    static constexpr std::size_t max_frames = 16;

    enum class FrameType : unsigned char {
        model,          // a model struct
        list,           // a list
        wrapper_key,    // a list given as {"Name":[...]}: before its member's name
        wrapper_value,  // ... before its member's value
        wrapped_list,   // ... inside the array
        wrapper_end,    // ... after the array
    };

    struct Frame {
        FrameType type = FrameType::model;
        void* target = nullptr;
        const ObjectOps* object = nullptr;
        const ArrayOps* array = nullptr;
        std::string_view name;  // the member name in the parent object (static text)
        std::size_t items = 0;  // lists: elements begun so far
        unsigned flags = 0;     // objects: ObjectOps::field scratch
    };

    bool skipping() const { return skip_depth_ > 0 || error_.has_value(); }
    Frame& top() { return frames_[depth_ - 1]; }

    static Frame make_frame(FrameType type, void* target, const ObjectOps* object,
                            const ArrayOps* array, std::string_view name) {
        Frame frame;
        frame.type = type;
        frame.target = target;
        frame.object = object;
        frame.array = array;
        frame.name = name;
        return frame;
    }

    void push(const Frame& frame) {
        if (depth_ == max_frames) {  // unreachable with the models above; never overflow
            skip_depth_ = 1;
            return;
        }
        frames_[depth_++] = frame;
    }

    // The destination of the next value (not a key) in the current container.
    Target take_target() {
        if (depth_ == 0)
            return {};
        Frame& frame = top();
        if (frame.type == FrameType::model) {
            const Target t = pending_;
            pending_ = Target{};
            return t;
        }
        if (frame.type == FrameType::list || frame.type == FrameType::wrapped_list) {
            ++frame.items;
            const ArrayOps& ops = *frame.array;
            return make_target(ops.element, ops.emplace(frame.target), ops.element_object);
        }
        return {};
    }

    // take_target for a scalar: a scalar root, or a scalar where a list wrapper wants its
    // array, fails here (and gives Kind::skip to the caller).
    Target scalar_target(std::string_view got) {
        if (depth_ == 0) {
            if (!root_done_) {
                root_done_ = true;
                fail_root(got);
            }
            return {};
        }
        if (top().type == FrameType::wrapper_value) {
            fail_here("an array", "an object");  // the wrapper's member is no list
            return {};
        }
        return take_target();
    }

    std::string* begin_string() {
        const Target t = scalar_target("a string");
        if (t.kind == Kind::string) {
            auto* out = static_cast<std::string*>(t.field);
            out->clear();
            return out;
        }
        if (t.kind == Kind::optional_string)
            return &static_cast<std::optional<std::string>*>(t.field)->emplace();
        if (t.kind != Kind::skip)
            fail(t, "a string");
        return nullptr;
    }

    // The path of the current container: "ContainerGroups[0].Containers[1]".
    std::string container_path(std::size_t depth) const {
        std::string path;
        for (std::size_t i = 1; i < depth; ++i)
            append_step(path, frames_[i - 1], frames_[i].name);
        return path;
    }

    void append_step(std::string& path, const Frame& parent, std::string_view name) const {
        if (parent.type == FrameType::model) {
            if (!path.empty())
                path += '.';
            path += name;
        } else {
            fmt::format_to(std::back_inserter(path), "[{}]", parent.items - 1);
        }
    }

    void record(std::string path, std::string_view expected, std::string_view got) {
        if (error_)
            return;
        error_ = Error::make(ErrorKind::protocol,
                             fmt::format("the reply field {} should be {} but is {}",
                                         path.empty() ? "(root)" : path, expected, got));
    }

    // Target `t` of the current container got a value of the wrong kind.
    void fail(const Target& t, std::string_view got) {
        std::string path = container_path(depth_);
        append_step(path, top(), t.name);
        record(std::move(path), expected_text(t.kind), got);
    }

    // The current container (a list wrapper) is not the list it should be.
    void fail_here(std::string_view expected, std::string_view got) {
        record(container_path(depth_), expected, got);
    }

    void fail_root(std::string_view got) {
        if (rule_ == RootRule::model) {
            record({}, "an object", got);
        } else if (!error_) {
            root_not_object_ = true;
            error_ = Error::make(ErrorKind::protocol, "");
        }
    }

  public:
    bool root_not_object() const { return root_not_object_; }

  private:
    void* root_;
    const ObjectOps* root_ops_;
    RootRule rule_;
    std::array<Frame, max_frames> frames_{};
    std::size_t depth_ = 0;
    std::size_t skip_depth_ = 0;
    bool root_done_ = false;
    bool root_not_object_ = false;
    Target pending_;
    std::string* string_ = nullptr;
    std::string key_;
    std::optional<Error> error_;
};

template <class T>
Result<T> read_model(std::string_view text, RootRule rule) {
    T out{};
    json::parse_options options;
    options.max_depth = max_json_depth;
    json::basic_parser<ModelHandler> parser(options, &out, &object_ops<T>, rule);
    json::error_code ec;
    const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
    if (!ec && used < text.size())
        ec = json::error::extra_data;
    if (ec) {
        return Error::make(ErrorKind::protocol,
                           fmt::format("the reply body is not valid JSON ({}): \"{}\"",
                                       ec.message(), sanitized_excerpt(text)));
    }
    ModelHandler& handler = parser.handler();
    if (handler.root_not_object()) {
        return Error::make(ErrorKind::protocol,
                           fmt::format("the reply body is JSON but not an object: \"{}\"",
                                       sanitized_excerpt(text)));
    }
    if (handler.failed()) {
        Error error = handler.take_error();
        if constexpr (requires(T & model) { model.request_id; })
            error.request_id = out.request_id;
        return error;
    }
    return out;
}

}  // namespace

template <class T>
Result<T> parse_reply(std::string_view body) {
    return read_model<T>(body, RootRule::reply_body);
}

template <class T>
Result<T> from_json(const json::value& value) {
    if (!value.is_object()) {
        return Error::make(ErrorKind::protocol,
                           fmt::format("the reply field (root) should be an object but is {}",
                                       json_kind_name(value)));
    }
    return read_model<T>(json::serialize(value), RootRule::model);
}

#define ECI_MODEL_READERS(T)                             \
    template Result<T> from_json<T>(const json::value&); \
    template Result<T> parse_reply<T>(std::string_view)

ECI_MODEL_READERS(Tag);
ECI_MODEL_READERS(EnvironmentVar);
ECI_MODEL_READERS(ContainerPort);
ECI_MODEL_READERS(ContainerState);
ECI_MODEL_READERS(Container);
ECI_MODEL_READERS(Event);
ECI_MODEL_READERS(ContainerGroup);
ECI_MODEL_READERS(CreateContainerGroupResponse);
ECI_MODEL_READERS(DescribeContainerGroupsResponse);
ECI_MODEL_READERS(DeleteContainerGroupResponse);
ECI_MODEL_READERS(RestartContainerGroupResponse);
ECI_MODEL_READERS(ExecContainerCommandResponse);
ECI_MODEL_READERS(DescribeContainerLogResponse);

#undef ECI_MODEL_READERS

}  // namespace eci::detail
