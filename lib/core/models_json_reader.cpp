// SPDX-License-Identifier: Apache-2.0
// JSON text -> models in one pass: a Boost.JSON SAX handler (basic_parser) writes each value
// straight into the field of the model it belongs to. No JSON tree is built, so a reply costs
// one scan of its text and the model's own allocations (a DOM parse then a walk cost about
// four times as much; docs/performance.md).
//
// The rules are those documented at from_json in models_json.hpp. The mapping of JSON names
// to fields is one table per model (core/wire_model.hpp); everything else is generic.
#include "core/models_json.hpp"

#include "core/actions.hpp"
#include "core/service_error.hpp"
#include "core/wire_model.hpp"

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

// What a JSON value is read into, and where: the models' tables (core/wire_model.hpp, and each
// action's request and response in core/actions.hpp).
using wire::ArrayOps;
using wire::Kind;
using wire::make_target;
using wire::ObjectOps;
using wire::Target;

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
        // Request-only kinds (core/wire_model.hpp): replies hold none, so the reader never
        // meets them; a value for one is refused as for a skipped kind.
        case Kind::optional_number:
        case Kind::optional_integer:
        case Kind::optional_int64:
        case Kind::optional_boolean:
            break;
    }
    return "nothing";
}

// The field `name` names in the model `ops` describes, looked up in its name hash: usually one
// hash of three characters and one compare. A field read under its alt_name is skipped once its
// main name was seen in this object (`seen`: one bit per field), so the main name wins.
Target find_field(const ObjectOps& ops, void* object, std::string_view name, unsigned& seen) {
    if (name.empty())
        return {};
    const std::size_t mask = ops.slots.size() - 1;
    for (std::size_t slot = wire::name_hash(name) & mask; !ops.slots[slot].name.empty();
         slot = (slot + 1) & mask) {
        const wire::NameSlot& entry = ops.slots[slot];
        if (entry.name != name)
            continue;
        if (entry.seen_bit != 0) {
            if (!entry.alternative) {
                seen |= entry.seen_bit;
            } else if ((seen & entry.seen_bit) != 0) {
                return {};
            }
        }
        Target found = entry.get(object);
        found.name = entry.name;
        return found;
    }
    return {};
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
                pending_ = find_field(*frame.object, frame.target, name, frame.flags);
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
            case Kind::optional_number:  // request-only kinds, see expected_text
            case Kind::optional_integer:
            case Kind::optional_int64:
            case Kind::optional_boolean:
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
        unsigned flags = 0;     // objects: find_field's names seen
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
    json::basic_parser<ModelHandler> parser(options, &out, &wire::object_ops<T>, rule);
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
#define ECI_ACTION_READERS(Request) ECI_MODEL_READERS(Action<Request>::Response);
ECI_FOR_EACH_ACTION(ECI_ACTION_READERS)
#undef ECI_ACTION_READERS

#undef ECI_MODEL_READERS

}  // namespace eci::detail
