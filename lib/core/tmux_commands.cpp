// SPDX-License-Identifier: Apache-2.0
#include "core/tmux_commands.hpp"
#include "core/redact.hpp"

#include "core/crypto.hpp"
#include "core/encoding.hpp"
#include "core/shell_wrappers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace eci::detail {
namespace {

constexpr std::string_view frame_started = "__ECI_TMUX_STARTED__";
constexpr std::string_view frame_exists = "__ECI_TMUX_EXISTS__";
constexpr std::string_view frame_missing = "__ECI_TMUX_MISSING__";
constexpr std::string_view frame_script_missing = "__ECI_TMUX_SCRIPT_MISSING__";
constexpr std::string_view frame_failed = "__ECI_TMUX_FAILED__";
constexpr std::string_view frame_found = "__ECI_TMUX_FOUND__:";
constexpr std::string_view frame_not_found = "__ECI_TMUX_NOT_FOUND__";
constexpr std::string_view frame_killed = "__ECI_TMUX_KILLED__";
constexpr std::string_view frame_list = "__ECI_TMUX_LIST__";

bool is_session_id_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        auto end = text.find('\n');
        if (end == std::string_view::npos) {
            lines.push_back(text);
            break;
        }
        lines.push_back(text.substr(0, end));
        text.remove_prefix(end + 1);
    }
    for (auto& line : lines) {
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
    }
    return lines;
}

std::string_view trim_right(std::string_view text) {
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                             text.back() == '\n')) {
        text.remove_suffix(1);
    }
    return text;
}

std::string_view trim(std::string_view text) {
    text = trim_right(text);
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n')) {
        text.remove_prefix(1);
    }
    return text;
}

template <class Int>
std::optional<Int> parse_int(std::string_view text) {
    Int value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return value;
}

// An exit status as tmux or the job's rc file reports it: 0-255. Anything else is no exit
// code (256 taken modulo 256 would read as success), so it is not taken as one.
std::optional<int> parse_exit_code(std::string_view text) {
    auto code = parse_int<int>(text);
    if (!code || *code < 0 || *code > 255)
        return std::nullopt;
    return code;
}

// The exit code in a marker line of this session, when `line` is one.
std::optional<int> marker_exit_code(std::string_view line, std::string_view session_id) {
    line = trim_right(line);
    if (!line.starts_with(tmux_marker_exit_code))
        return std::nullopt;
    line.remove_prefix(tmux_marker_exit_code.size());
    if (!line.starts_with(session_id))
        return std::nullopt;
    line.remove_prefix(session_id.size());
    if (!line.starts_with("__"))
        return std::nullopt;
    line.remove_prefix(2);
    return parse_exit_code(line);
}

// The first line of `text` that starts with `prefix`, with the text after that line.
struct Framed {
    std::string_view line;
    std::string_view rest;
};
std::optional<Framed> find_frame(std::string_view text, std::string_view prefix) {
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto end = text.find('\n', pos);
        auto line = text.substr(pos, end == std::string_view::npos ? end : end - pos);
        if (trim_right(line).starts_with(prefix)) {
            auto rest = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
            return Framed{trim_right(line), rest};
        }
        if (end == std::string_view::npos)
            break;
        pos = end + 1;
    }
    return std::nullopt;
}

std::string target_session(std::string_view session_id) {
    // `=` asks tmux for an exact name match (a plain name also matches as a prefix).
    return shell_quote(fmt::format("={}", session_id));
}

std::string target_pane(std::string_view session_id) {
    return shell_quote(fmt::format("={}:", session_id));
}

}  // namespace

std::vector<std::string> shell_argv(std::string script) {
    return {"sh", "-c", std::move(script)};
}

Result<std::string> generate_tmux_session_id() {
    auto hex = random_hex(6);
    if (!hex.ok())
        return std::move(hex).error();
    return fmt::format("{}{}", tmux_session_prefix, *hex);
}

Result<void> validate_tmux_session_id(std::string_view session_id) {
    if (session_id.empty()) {
        return Error::make(ErrorKind::invalid_argument, "tmux session id is empty");
    }
    if (session_id.size() > tmux_max_session_id_length) {
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format("tmux session id is longer than {} characters",
                                       tmux_max_session_id_length));
    }
    for (std::size_t i = 0; i < session_id.size(); ++i) {
        if (!is_session_id_char(session_id[i])) {
            return Error::make(
                ErrorKind::invalid_argument,
                fmt::format("tmux session id may hold only letters, digits, '_' and '-'; "
                            "byte 0x{:02x} at position {} is none of them",
                            static_cast<unsigned char>(session_id[i]), i));
        }
    }
    return {};
}

std::chrono::milliseconds next_tmux_poll_delay(std::chrono::milliseconds current) {
    auto next = std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(
        static_cast<double>(current.count()) * tmux_poll_backoff_factor));
    return std::min(std::max(next, tmux_poll_initial_delay), tmux_poll_max_delay);
}

std::string tmux_script_path(std::string_view session_id) {
    return fmt::format("/tmp/tmux_cmd_{}.sh", session_id);
}

std::string tmux_rc_path(std::string_view session_id) {
    return fmt::format("/tmp/eci_tmux_{}.rc", session_id);
}

std::string tmux_wrapped_command(std::string_view command, std::string_view session_id,
                                 std::optional<std::string_view> exec_dir) {
    // The command sits on lines of its own so a trailing comment or heredoc cannot swallow
    // the closing parenthesis.
    std::string script;
    if (exec_dir)
        script += fmt::format("cd -- {} && ", shell_quote(*exec_dir));
    script += fmt::format("(\n{}\n)\n", command);
    // The file first: the pane may die before tmux reads the marker line from the pty, but
    // the file is on disk before the pane can die.
    // Then, before the pane may end, wait (at most ~2 s) until tmux shows the marker in the
    // pane, so the job's last output is never lost either; the pane's own exit status is
    // the job's too.
    script += fmt::format(
        "__eci_rc=$?\nprintf '%s\\n' \"$__eci_rc\" >{} 2>/dev/null\n"
        "printf '\\n%s%s__%s\\n' {} {} \"$__eci_rc\"\n"
        "if [ -n \"$TMUX_PANE\" ]; then __eci_i=0; while [ $__eci_i -lt 100 ] && ! tmux "
        "capture-pane -p -t \"$TMUX_PANE\" 2>/dev/null | grep -qF -- {}; do sleep 0.02; "
        "__eci_i=$((__eci_i+1)); done; fi\nexit \"$__eci_rc\"\n",
        shell_quote(tmux_rc_path(session_id)), shell_quote(tmux_marker_exit_code),
        shell_quote(session_id),
        shell_quote(fmt::format("{}{}__", tmux_marker_exit_code, session_id)));
    return script;
}

Result<TmuxStartPlan> plan_tmux_start(std::string_view command, std::string_view session_id,
                                      std::optional<std::string_view> exec_dir, int history_limit) {
    if (auto valid = validate_tmux_session_id(session_id); !valid.ok()) {
        return std::move(valid).error();
    }
    if (history_limit <= 0) {
        return Error::make(ErrorKind::invalid_argument, "tmux history limit must be positive");
    }
    if (exec_dir && exec_dir->find('\0') != std::string_view::npos) {
        return Error::make(ErrorKind::invalid_argument, "exec_dir holds a NUL byte");
    }
    TmuxStartPlan plan;
    auto wrapped = tmux_wrapped_command(command, session_id, exec_dir);
    auto encoded = base64_encode(wrapped);
    std::string pane_command;
    std::string preamble =
        "command -v tmux >/dev/null 2>&1 || { echo __ECI_TMUX_MISSING__; "
        "exit 127; }\n";
    if (encoded.size() <= tmux_inline_base64_limit) {
        // Run as `bash -c <script>`, not piped into bash: the command's stdin stays the pane's
        // terminal, so a command that reads stdin cannot eat the marker lines.
        pane_command = fmt::format("bash -lc \"$(printf %s {} | base64 -d)\"", encoded);
    } else {
        auto path = tmux_script_path(session_id);
        pane_command = fmt::format("bash -l {}", shell_quote(path));
        preamble += fmt::format("[ -f {} ] || {{ echo __ECI_TMUX_SCRIPT_MISSING__; exit 66; }}\n",
                                shell_quote(path));
        plan.script_file = std::move(path);
        plan.script_file_content = std::move(wrapped);
    }
    // history-limit applies only to panes created after it is set, so the session starts
    // with a placeholder window, gets its options, then the real window replaces the
    // placeholder. One tmux invocation: the server runs the whole chain before it handles
    // the pane's exit or another client, and stops the chain at the first error (a
    // duplicate session never reaches the command). `=` asks tmux for an exact name match
    // (a plain name also matches as a prefix). The id is named once to keep the script short.
    plan.start_script = fmt::format(
        "{}"
        "s={}; x=\"=$s\"; p=\"=$s:\"\n"
        "if tmux has-session -t \"$x\" 2>/dev/null; then echo __ECI_TMUX_EXISTS__; exit 73; fi\n"
        "rm -f -- \"/tmp/eci_tmux_$s.rc\"\n"  // tmux_rc_path, through $s: the script stays short
        "e=$(tmux new-session -d -s \"$s\" 'sleep 60' \\; set-option -t \"$p\" history-limit {} "
        "\\; new-window -t \"$p\" {} \\; set-option -w -t \"$p\" remain-on-exit on \\; "
        "kill-window -a -t \"$p\" 2>&1) && {{ echo __ECI_TMUX_STARTED__; exit 0; }}\n"
        "case $e in *'duplicate session'*) echo __ECI_TMUX_EXISTS__; exit 73;; esac\n"
        "tmux kill-session -t \"$x\" 2>/dev/null\n"
        "printf '__ECI_TMUX_FAILED__%s\\n' \"$e\"; exit 1\n",
        preamble, shell_quote(session_id), history_limit, shell_quote(pane_command));
    return plan;
}

TmuxStartReply parse_tmux_start_reply(std::string_view stdout_text) {
    if (find_frame(stdout_text, frame_started))
        return {TmuxStartOutcome::started, {}};
    if (find_frame(stdout_text, frame_exists))
        return {TmuxStartOutcome::session_exists, {}};
    if (find_frame(stdout_text, frame_missing))
        return {TmuxStartOutcome::tmux_missing, {}};
    if (find_frame(stdout_text, frame_script_missing)) {
        return {TmuxStartOutcome::script_missing, {}};
    }
    if (auto failed = find_frame(stdout_text, frame_failed)) {
        auto detail = failed->line.substr(frame_failed.size());
        return {TmuxStartOutcome::failed,
                std::string(trim(fmt::format("{}\n{}", detail, failed->rest)))};
    }
    return {TmuxStartOutcome::failed, std::string(trim(stdout_text))};
}

std::size_t tmux_poll_reply_bound(int tail_lines) noexcept {
    return static_cast<std::size_t>(std::max(tail_lines, 1)) * 2048 + 64 * 1024;
}

std::string tmux_poll_script(std::string_view session_id, int tail_lines) {
    auto pane = target_pane(session_id);
    // The dead flag is read before the capture: a pane that dies in between still shows its
    // marker in the capture. `$(...)` drops the blank rows below the last output, so they do
    // not count against tail_lines.
    //
    // A pane dead without an exit status (`1::`) is one whose terminal closed before tmux
    // reaped the process. tmux 3.3a sometimes never does: it misses the SIGCHLD and the
    // process stays a zombie (seen about once in 20 runs of a job that kills its own shell).
    // Sending the server a SIGCHLD makes it reap; the status is then read again.
    return fmt::format(
        "f='#{{pane_dead}}:#{{pane_dead_status}}:#{{pane_dead_signal}}'; "
        "if s=$(tmux display-message -p -t {} \"$f\" 2>/dev/null) && "
        "{{ [ \"$s\" != 1:: ] || {{ kill -s CHLD \"$(tmux display-message -p '#{{pid}}')\" "
        "2>/dev/null; sleep 0.05; s=$(tmux display-message -p -t {} \"$f\" 2>/dev/null); }}; }} "
        "&& c=$(tmux capture-pane -p -J -S - -t {} 2>/dev/null); then "
        "r=$(cat {} 2>/dev/null); "
        "printf '__ECI_TMUX_FOUND__:%s:%s\\n' \"$s\" \"$r\"; printf '%s\\n' \"$c\" | tail -n {}; "
        "else echo __ECI_TMUX_NOT_FOUND__; fi\n",
        pane, pane, pane, shell_quote(tmux_rc_path(session_id)), std::max(tail_lines, 1));
}

Result<TmuxPollResult> parse_tmux_poll_reply(std::string_view stdout_text,
                                             std::string_view session_id, int tail_lines) {
    auto found = find_frame(stdout_text, frame_found);
    if (!found) {
        if (find_frame(stdout_text, frame_not_found)) {
            TmuxPollResult gone;
            gone.session_id = std::string(session_id);
            return gone;
        }
        return Error::make(ErrorKind::protocol,
                           "tmux poll reply has no framing line (the poll script did not run)");
    }
    // `<pane_dead>:<exit status>:<signal>`, status and signal empty while the pane lives; a
    // signal gives the shell's convention, 128 + signal.
    // The rc field is the exit code the job wrote to its file (empty while it runs).
    auto state = found->line.substr(frame_found.size());
    std::array<std::string_view, 4> fields{};
    for (std::size_t i = 0; i < fields.size(); ++i) {
        auto colon = state.find(':');
        fields[i] = trim(state.substr(0, colon));
        if (colon == std::string_view::npos)
            break;
        state.remove_prefix(colon + 1);
    }
    bool pane_dead = fields[0] == "1";
    std::optional<int> dead_status = parse_exit_code(fields[1]);
    if (!dead_status) {
        if (auto signal = parse_int<int>(fields[2]); signal && *signal > 0 && *signal < 128)
            dead_status = 128 + *signal;
    }
    std::optional<int> file_status = parse_exit_code(fields[3]);

    auto lines = split_lines(found->rest);
    TmuxPollResult poll;
    poll.session_id = std::string(session_id);
    poll.output_truncated = static_cast<long long>(lines.size()) >= std::max(tail_lines, 1);
    std::vector<std::string_view> kept;
    kept.reserve(lines.size());
    for (auto line : lines) {
        if (auto code = marker_exit_code(line, session_id)) {
            poll.exit_code = code;  // the last marker wins
            continue;
        }
        if (line.starts_with("Pane is dead"))
            continue;
        kept.push_back(line);
    }
    while (!kept.empty() && trim(kept.back()).empty())
        kept.pop_back();
    for (std::size_t i = 0; i < kept.size(); ++i) {
        if (i != 0)
            poll.output.push_back('\n');
        poll.output.append(kept[i]);
    }
    if (poll.exit_code) {
        poll.status = TmuxStatus::completed;
    } else if (pane_dead && (file_status || dead_status)) {
        // The pane ended without its marker in the capture: the job may have ended too fast
        // for tmux to read its last bytes (its rc file then holds the code), or it was killed
        // or bash itself failed before writing the file (tmux's record of the pane tells).
        poll.status = TmuxStatus::completed;
        poll.exit_code = file_status ? file_status : dead_status;
    } else {
        // Live, or dead with no status yet: tmux marks a pane dead when its terminal closes
        // and records the exit status when it reaps the process, a moment later. The next
        // poll sees the status.
        poll.status = TmuxStatus::running;
    }
    return poll;
}

std::string tmux_kill_script(std::string_view session_id) {
    return fmt::format(
        "if tmux kill-session -t {} 2>/dev/null; then echo __ECI_TMUX_KILLED__; "
        "else echo __ECI_TMUX_NOT_FOUND__; fi; rm -f -- {} {}\n",
        target_session(session_id), shell_quote(tmux_script_path(session_id)),
        shell_quote(tmux_rc_path(session_id)));
}

Result<bool> parse_tmux_kill_reply(std::string_view stdout_text) {
    if (find_frame(stdout_text, frame_killed))
        return true;
    if (find_frame(stdout_text, frame_not_found))
        return false;
    return Error::make(ErrorKind::protocol,
                       "tmux kill reply has no framing line (the kill script did not run)");
}

std::string tmux_list_script() {
    // tmux 3.3 says "no server running" or "error connecting to <socket>" when no server is
    // up; both mean no sessions.
    return "e=$(tmux list-sessions -F '#{session_name}:#{session_created}:#{session_attached}' "
           "2>&1); r=$?\n"
           "if [ $r -eq 0 ]; then printf '__ECI_TMUX_LIST__\\n%s\\n' \"$e\"; exit 0; fi\n"
           "case $e in *'no server running'*|*'error connecting to'*|*'not found'*) "
           "echo __ECI_TMUX_LIST__; exit 0;; esac\n"
           "printf '__ECI_TMUX_FAILED__%s\\n' \"$e\"; exit 1\n";
}

Result<std::vector<TmuxSessionInfo>> parse_tmux_list_reply(std::string_view stdout_text) {
    auto listed = find_frame(stdout_text, frame_list);
    if (!listed) {
        if (auto failed = find_frame(stdout_text, frame_failed)) {
            auto error = Error::make(ErrorKind::service, "tmux list-sessions failed");
            error.service_message = redact_secrets(trim(
                fmt::format("{}\n{}", failed->line.substr(frame_failed.size()), failed->rest)));
            return error;
        }
        return Error::make(ErrorKind::protocol,
                           "tmux list reply has no framing line (the list script did not run)");
    }
    std::vector<TmuxSessionInfo> sessions;
    for (auto line : split_lines(listed->rest)) {
        line = trim_right(line);
        if (line.empty())
            continue;
        // Parse from the right: a session made by someone else may have ':' in its name.
        auto last = line.rfind(':');
        auto middle = last == std::string_view::npos || last == 0 ? std::string_view::npos
                                                                  : line.rfind(':', last - 1);
        if (middle == std::string_view::npos) {
            return Error::make(ErrorKind::protocol,
                               fmt::format("malformed tmux session line: {}", line));
        }
        auto created = parse_int<std::int64_t>(line.substr(middle + 1, last - middle - 1));
        auto attached = parse_int<int>(line.substr(last + 1));
        if (!created || !attached) {
            return Error::make(ErrorKind::protocol,
                               fmt::format("malformed tmux session line: {}", line));
        }
        sessions.push_back({std::string(line.substr(0, middle)), *created, *attached});
    }
    return sessions;
}

}  // namespace eci::detail

namespace eci {

std::string_view to_string(TmuxStatus status) noexcept {
    switch (status) {
        case TmuxStatus::running:
            return "running";
        case TmuxStatus::completed:
            return "completed";
        case TmuxStatus::not_found:
            return "not_found";
    }
    return "unknown";
}

}  // namespace eci
