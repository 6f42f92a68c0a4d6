// SPDX-License-Identifier: Apache-2.0
#include "core/models_json.hpp"

#include "core/actions.hpp"
#include "core/js_number.hpp"
#include "core/service_error.hpp"
#include "core/wire_model.hpp"

#include <fmt/format.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>

namespace eci {

bool is_terminal_status(std::string_view status) noexcept {
    return status == status::succeeded || status == status::failed || status == status::expired ||
           status == status::schedule_failed;
}

}  // namespace eci

namespace eci::detail {

namespace json = boost::json;

// =======================================================================================
// Models -> JSON
namespace {

json::value number_value(double number) {
    // Boost.JSON writes 2.0 as "2E0": valid JSON, but odd next to the service's output.
    constexpr double exact_int_limit = 9007199254740992.0;  // 2^53
    if (std::trunc(number) == number && std::fabs(number) < exact_int_limit)
        return static_cast<std::int64_t>(number);
    return number;
}

json::array string_array(const std::vector<std::string>& items) {
    json::array array;
    array.reserve(items.size());
    for (const std::string& item : items)
        array.emplace_back(item);
    return array;
}

json::value object_to_json(const wire::ObjectOps& ops, const void* object, bool alt_names);

json::array array_to_json(const wire::ArrayOps& ops, const void* vector, bool alt_names) {
    json::array array;
    const std::size_t size = ops.size(vector);
    array.reserve(size);
    for (std::size_t i = 0; i < size; ++i) {
        const void* item = ops.at(const_cast<void*>(vector), i);
        if (ops.element == wire::Kind::string) {
            array.emplace_back(*static_cast<const std::string*>(item));
        } else {
            array.push_back(object_to_json(*ops.element_object, item, alt_names));
        }
    }
    return array;
}

// Every field in table order; `alt_names`: under their alt_name where they have one.
json::value object_to_json(const wire::ObjectOps& ops, const void* object, bool alt_names) {
    using wire::Kind;
    json::object o;
    for (const wire::Field& field : ops.fields) {
        const wire::Target t = wire::get(field, object);
        const std::string_view name =
            alt_names && !field.alt_name.empty() ? field.alt_name : field.name;
        switch (t.kind) {
            case Kind::string:
                o[name] = *static_cast<const std::string*>(t.field);
                break;
            case Kind::optional_string:
                if (const auto& value = *static_cast<const std::optional<std::string>*>(t.field))
                    o[name] = *value;
                break;
            case Kind::number:
                o[name] = number_value(*static_cast<const double*>(t.field));
                break;
            case Kind::integer:
                o[name] = *static_cast<const int*>(t.field);
                break;
            case Kind::boolean:
                o[name] = *static_cast<const bool*>(t.field);
                break;
            case Kind::optional_number:
                if (const auto& value = *static_cast<const std::optional<double>*>(t.field))
                    o[name] = number_value(*value);
                break;
            case Kind::optional_integer:
                if (const auto& value = *static_cast<const std::optional<int>*>(t.field))
                    o[name] = *value;
                break;
            case Kind::optional_int64:
                if (const auto& value = *static_cast<const std::optional<std::int64_t>*>(t.field))
                    o[name] = *value;
                break;
            case Kind::optional_boolean:
                if (const auto& value = *static_cast<const std::optional<bool>*>(t.field))
                    o[name] = *value;
                break;
            case Kind::object:
                o[name] = object_to_json(*t.object, t.field, false);
                break;
            case Kind::array:
                o[name] = array_to_json(*t.array, t.field, field.has(wire::alt_names_in_items));
                break;
            case Kind::skip:
                break;
        }
    }
    return o;
}

}  // namespace

template <class T>
json::value to_json(const T& model) {
    return object_to_json(wire::object_ops<T>, &model, false);
}

// =======================================================================================
// Requests -> params
std::string to_json_array_string(const std::vector<std::string>& items) {
    return json::serialize(string_array(items));
}

namespace {

// Writes a request's params through its table. A param's name is only built when it is sent.
class ParamWriter {
  public:
    explicit ParamWriter(std::string_view region_id) {
        if (!region_id.empty())
            add(std::string("RegionId"), std::string(region_id));
    }
    Params take() { return std::move(params_); }

    // The fields of `object`, each named `<prefix><param name>`.
    void fields(const wire::ObjectOps& ops, const void* object, std::string_view prefix) {
        for (const wire::Field& field : ops.fields)
            one(field, wire::get(field, object), prefix);
    }

  private:
    void add(std::string name, std::string value) {
        params_.emplace_back(std::move(name), std::move(value));
    }
    static std::string join(std::string_view prefix, std::string_view name) {
        std::string joined;
        joined.reserve(prefix.size() + name.size());
        joined.append(prefix).append(name);
        return joined;
    }
    template <class T>
    static const T& value(const wire::Target& t) {
        return *static_cast<const T*>(t.field);
    }

    void one(const wire::Field& field, const wire::Target& t, std::string_view prefix) {
        using wire::Kind;
        const std::string_view name = field.param();
        switch (t.kind) {
            case Kind::string:
                if (field.has(wire::always_sent) || !value<std::string>(t).empty())
                    add(join(prefix, name), value<std::string>(t));
                break;
            case Kind::optional_string:
                if (const auto& v = value<std::optional<std::string>>(t))
                    add(join(prefix, name), *v);
                break;
            case Kind::number:
                add(join(prefix, name), js_number_string(value<double>(t)));
                break;
            case Kind::integer:
                add(join(prefix, name), std::to_string(value<int>(t)));
                break;
            case Kind::boolean:
                add(join(prefix, name), value<bool>(t) ? "true" : "false");
                break;
            case Kind::optional_number:
                if (const auto& v = value<std::optional<double>>(t))
                    add(join(prefix, name), js_number_string(*v));
                break;
            case Kind::optional_integer:
                if (const auto& v = value<std::optional<int>>(t))
                    add(join(prefix, name), std::to_string(*v));
                break;
            case Kind::optional_int64:
                if (const auto& v = value<std::optional<std::int64_t>>(t))
                    add(join(prefix, name), std::to_string(*v));
                break;
            case Kind::optional_boolean:
                if (const auto& v = value<std::optional<bool>>(t))
                    add(join(prefix, name), *v ? "true" : "false");
                break;
            case Kind::object:
                fields(*t.object, t.field, join(prefix, name) + '.');
                break;
            case Kind::array:
                list(field, *t.array, t.field, join(prefix, name));
                break;
            case Kind::skip:
                break;
        }
    }

    // `<name>` as one JSON-array string, or `<name>.N` (strings) / `<name>.N.<field>` (models).
    void list(const wire::Field& field, const wire::ArrayOps& ops, const void* vector,
              std::string name) {
        const std::size_t size = ops.size(vector);
        if (field.has(wire::json_array)) {
            if (size > 0 || field.has(wire::always_sent))
                add(std::move(name),
                    to_json_array_string(*static_cast<const std::vector<std::string>*>(vector)));
            return;
        }
        for (std::size_t i = 0; i < size; ++i) {
            const void* item = ops.at(const_cast<void*>(vector), i);
            if (ops.element == wire::Kind::string) {
                add(fmt::format("{}.{}", name, i + 1), *static_cast<const std::string*>(item));
            } else {
                fields(*ops.element_object, item, fmt::format("{}.{}.", name, i + 1));
            }
        }
    }

    Params params_;
};

}  // namespace

template <class T>
Params to_params(const T& request, std::string_view region_id) {
    ParamWriter writer(region_id);
    writer.fields(wire::object_ops<T>, &request, {});
    return writer.take();
}

// =======================================================================================
// Params -> requests
Result<std::vector<std::string>> parse_json_array_string(std::string_view text,
                                                         std::string_view param_name) {
    json::parse_options options;
    options.max_depth = 4;  // an array of strings needs 1; anything deeper is malformed anyway
    boost::system::error_code ec;
    const json::value value = json::parse(text, ec, json::storage_ptr(), options);
    if (ec)
        return invalid_parameter_error(param_name, "expected a JSON array of strings");
    const json::array* array = value.if_array();
    if (!array)
        return invalid_parameter_error(param_name, "expected a JSON array of strings");
    std::vector<std::string> items;
    items.reserve(array->size());
    for (const json::value& item : *array) {
        const json::string* s = item.if_string();
        if (!s)
            return invalid_parameter_error(param_name, "expected a JSON array of strings");
        items.emplace_back(s->data(), s->size());
    }
    return items;
}

namespace {

// Reads typed values out of params, keeping the first failure (see JsonReader for why).
class ParamReader {
  public:
    explicit ParamReader(const Params& params) {
        for (const Param& param : params)
            values_.try_emplace(param.first, param.second);
    }

    bool failed() const { return error_.has_value(); }
    Error take_error() { return std::move(*error_); }
    void fail(Error error) {
        if (!error_)
            error_ = std::move(error);
    }

    const std::string* find(std::string_view name) const {
        const auto it = values_.find(name);
        return it == values_.end() ? nullptr : &it->second;
    }

    void required_text(const std::string& name, std::string& out) {
        const std::string* value = find(name);
        if (!value || value->empty()) {
            fail(missing_parameter_error(name));
        } else {
            out = *value;
        }
    }
    void text(const std::string& name, std::string& out) {
        if (const std::string* value = find(name))
            out = *value;
    }
    void flag(const std::string& name, std::optional<bool>& out) {
        const std::string* value = find(name);
        if (!value)
            return;
        if (equals_ignoring_case(*value, "true")) {
            out = true;
        } else if (equals_ignoring_case(*value, "false")) {
            out = false;
        } else {
            fail(invalid_parameter_error(name, "expected true or false"));
        }
    }
    void number(const std::string& name, std::optional<double>& out) {
        const std::string* value = find(name);
        if (!value)
            return;
        double parsed = 0;
        const char* end = value->data() + value->size();
        const auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
        if (ec != std::errc() || ptr != end || !std::isfinite(parsed)) {
            fail(invalid_parameter_error(name, "expected a number"));
        } else {
            out = parsed;
        }
    }
    template <class Int>
    void integer(const std::string& name, std::optional<Int>& out) {
        const std::string* value = find(name);
        if (!value)
            return;
        Int parsed = 0;
        if (!parse_integer(*value, parsed)) {
            fail(invalid_parameter_error(name, "expected an integer"));
        } else {
            out = parsed;
        }
    }
    template <class Int>
    void required_integer(const std::string& name, Int& out) {
        std::optional<Int> value;
        if (!find(name)) {
            fail(missing_parameter_error(name));
            return;
        }
        integer(name, value);
        if (value)
            out = *value;
    }
    void string_array(const std::string& name, std::vector<std::string>& out) {
        const std::string* value = find(name);
        if (!value)
            return;
        Result<std::vector<std::string>> parsed = parse_json_array_string(*value, name);
        if (parsed.ok()) {
            out = std::move(*parsed);
        } else {
            fail(std::move(parsed).error());
        }
    }

    // The item numbers N of `<prefix>.N` (when `leaf`) or `<prefix>.N.<field>` params, in
    // increasing order, without repeats. A malformed N fails with InvalidParameter.
    std::vector<unsigned> indices(std::string_view prefix, bool leaf) {
        std::vector<unsigned> found;
        const std::string start = std::string(prefix) + '.';
        for (auto it = values_.lower_bound(start);
             it != values_.end() && std::string_view(it->first).starts_with(start); ++it) {
            std::string_view rest = std::string_view(it->first).substr(start.size());
            const std::size_t dot = rest.find('.');
            if (leaf && dot != std::string_view::npos)
                continue;  // not ours: e.g. X.1.Y
            if (!leaf && dot == std::string_view::npos)
                continue;
            const std::string_view digits = rest.substr(0, dot);
            unsigned index = 0;
            if (digits.starts_with('0') || !parse_integer(digits, index) || index == 0) {
                fail(invalid_parameter_error(it->first, "expected a list index from 1"));
                continue;
            }
            found.push_back(index);
        }
        std::sort(found.begin(), found.end());
        found.erase(std::unique(found.begin(), found.end()), found.end());
        return found;
    }

    // The `<prefix>.N` values in index order.
    void string_list(const std::string& prefix, std::vector<std::string>& out) {
        for (unsigned index : indices(prefix, true))
            out.push_back(*find(fmt::format("{}.{}", prefix, index)));
    }

    void tags(std::vector<Tag>& out) {
        for (unsigned index : indices("Tag", false)) {
            Tag& tag = out.emplace_back();
            required_text(fmt::format("Tag.{}.Key", index), tag.key);
            text(fmt::format("Tag.{}.Value", index), tag.value);
        }
    }

  private:
    static bool equals_ignoring_case(std::string_view a, std::string_view b) {
        return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
            auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
            return lower(x) == lower(y);
        });
    }
    template <class Int>
    static bool parse_integer(std::string_view text, Int& out) {
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, out);
        return !text.empty() && ec == std::errc() && ptr == end;
    }

    std::map<std::string, std::string, std::less<>> values_;
    std::optional<Error> error_;
};

void read_fields(ParamReader& reader, const wire::ObjectOps& ops, void* object,
                 std::string_view prefix);

// "the command is empty": a required JSON-array list's name, in lower case.
std::string empty_list_detail(std::string_view name) {
    std::string lower(name);
    for (char& c : lower)
        c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    return fmt::format("the {} is empty", lower);
}

void read_list(ParamReader& reader, const wire::Field& field, const wire::ArrayOps& ops,
               void* vector, const std::string& name) {
    const auto strings = [vector]() -> std::vector<std::string>& {
        return *static_cast<std::vector<std::string>*>(vector);
    };
    if (field.has(wire::json_array)) {
        if (!field.has(wire::required)) {
            reader.string_array(name, strings());
        } else if (!reader.find(name)) {
            reader.fail(missing_parameter_error(name));
        } else {
            reader.string_array(name, strings());
            if (strings().empty() && !reader.failed())
                reader.fail(invalid_parameter_error(name, empty_list_detail(field.param())));
        }
        return;
    }
    if (ops.element == wire::Kind::string) {
        reader.string_list(name, strings());
        return;
    }
    const std::vector<unsigned> indices = reader.indices(name, false);
    if (indices.empty() && field.has(wire::required))
        reader.fail(missing_parameter_error(
            fmt::format("{}.1.{}", name, ops.element_object->fields[0].param())));
    for (unsigned index : indices)
        read_fields(reader, *ops.element_object, ops.emplace(vector),
                    fmt::format("{}.{}.", name, index));
}

// A plain (not optional) scalar: read as an optional one, kept when the param is there.
template <class T, class Read>
void read_plain(void* field, Read read) {
    std::optional<T> value;
    read(value);
    if (value)
        *static_cast<T*>(field) = *value;
}

void read_field(ParamReader& reader, const wire::Field& field, const wire::Target& t,
                std::string_view prefix) {
    using wire::Kind;
    std::string name;
    name.reserve(prefix.size() + field.param().size());
    name.append(prefix).append(field.param());
    const bool required = field.has(wire::required);
    switch (t.kind) {
        case Kind::string:
            if (required) {
                reader.required_text(name, *static_cast<std::string*>(t.field));
            } else {
                reader.text(name, *static_cast<std::string*>(t.field));
            }
            break;
        case Kind::optional_string:
            if (const std::string* value = reader.find(name))
                *static_cast<std::optional<std::string>*>(t.field) = *value;
            break;
        case Kind::number:
            read_plain<double>(t.field, [&](auto& value) { reader.number(name, value); });
            break;
        case Kind::integer:
            if (required) {
                reader.required_integer(name, *static_cast<int*>(t.field));
            } else {
                read_plain<int>(t.field, [&](auto& value) { reader.integer(name, value); });
            }
            break;
        case Kind::boolean:
            read_plain<bool>(t.field, [&](auto& value) { reader.flag(name, value); });
            break;
        case Kind::optional_number:
            reader.number(name, *static_cast<std::optional<double>*>(t.field));
            break;
        case Kind::optional_integer:
            reader.integer(name, *static_cast<std::optional<int>*>(t.field));
            break;
        case Kind::optional_int64:
            reader.integer(name, *static_cast<std::optional<std::int64_t>*>(t.field));
            break;
        case Kind::optional_boolean:
            reader.flag(name, *static_cast<std::optional<bool>*>(t.field));
            break;
        case Kind::object:
            read_fields(reader, *t.object, t.field, name + '.');
            break;
        case Kind::array:
            read_list(reader, field, *t.array, t.field, name);
            break;
        case Kind::skip:
            break;
    }
}

// The fields of `object` in table order, so the first failure reported is the first in it.
void read_fields(ParamReader& reader, const wire::ObjectOps& ops, void* object,
                 std::string_view prefix) {
    for (const wire::Field& field : ops.fields)
        read_field(reader, field, field.get(object), prefix);
}

template <class T>
Result<T> finish(ParamReader& reader, T&& request) {
    if (reader.failed())
        return reader.take_error();
    return std::forward<T>(request);
}

}  // namespace

template <class T>
Result<T> from_params(const Params& params) {
    ParamReader reader(params);
    T request{};
    read_fields(reader, wire::object_ops<T>, &request, {});
    return finish(reader, std::move(request));
}

Result<std::string> region_id_from_params(const Params& params) {
    ParamReader reader(params);
    std::string region_id;
    reader.required_text("RegionId", region_id);
    return finish(reader, std::move(region_id));
}

// Each action's wire forms (core/actions.hpp), and the JSON of the models nested in replies.
#define ECI_ACTION_WIRE_FORMS(Request)                                    \
    template Params to_params<Request>(const Request&, std::string_view); \
    template Result<Request> from_params<Request>(const Params&);         \
    template json::value to_json<Action<Request>::Response>(const Action<Request>::Response&);
ECI_FOR_EACH_ACTION(ECI_ACTION_WIRE_FORMS)
#undef ECI_ACTION_WIRE_FORMS

template json::value to_json<Tag>(const Tag&);
template json::value to_json<EnvironmentVar>(const EnvironmentVar&);
template json::value to_json<ContainerPort>(const ContainerPort&);
template json::value to_json<ContainerState>(const ContainerState&);
template json::value to_json<Container>(const Container&);
template json::value to_json<Event>(const Event&);
template json::value to_json<ContainerGroup>(const ContainerGroup&);

}  // namespace eci::detail

namespace eci {

std::string to_json_text(const ContainerGroup& group) {
    return boost::json::serialize(detail::to_json(group));
}

}  // namespace eci
