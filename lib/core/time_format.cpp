// SPDX-License-Identifier: Apache-2.0
#include "core/time_format.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace eci::detail {

namespace {

// Reads `count` ASCII digits at `pos`; -1 if any is not a digit.
int read_digits(std::string_view text, std::size_t pos, std::size_t count) {
    int value = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

}  // namespace

std::string format_utc_timestamp(std::chrono::system_clock::time_point time) {
    using namespace std::chrono;
    const auto seconds = floor<std::chrono::seconds>(time);
    const auto day = floor<days>(seconds);
    const year_month_day date(day);
    const hh_mm_ss clock(seconds - day);
    const int year = std::clamp(static_cast<int>(date.year()), 0, 9999);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", year,
                       static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                       clock.hours().count(), clock.minutes().count(), clock.seconds().count());
}

std::optional<std::chrono::sys_seconds> parse_utc_timestamp(std::string_view text) {
    using namespace std::chrono;
    // yyyy-MM-ddTHH:mm:ssZ
    // 0123456789012345678 9
    if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
        text[13] != ':' || text[16] != ':' || text[19] != 'Z') {
        return std::nullopt;
    }
    const int y = read_digits(text, 0, 4);
    const int mo = read_digits(text, 5, 2);
    const int d = read_digits(text, 8, 2);
    const int h = read_digits(text, 11, 2);
    const int mi = read_digits(text, 14, 2);
    const int s = read_digits(text, 17, 2);
    if (y < 0 || mo < 0 || d < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) {
        return std::nullopt;
    }
    const year_month_day date{year{y}, month{static_cast<unsigned>(mo)},
                              day{static_cast<unsigned>(d)}};
    if (!date.ok())
        return std::nullopt;
    return sys_days(date) + hours(h) + minutes(mi) + seconds(s);
}

}  // namespace eci::detail
