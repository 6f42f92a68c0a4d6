// SPDX-License-Identifier: Apache-2.0
// Spawning processes from a multi-threaded emulator: what is prepared before fork (parent
// side) and the async-signal-safe steps a child may take before execve (child side).
//
// The emulator runs Asio threads and allocates freely, so a child forked from it may hold
// copies of locks some other thread owned at fork time. Everything a child needs (argv,
// envp, candidate paths, mount lists) is therefore built as plain C arrays BEFORE forking,
// and `child_*` functions use raw system calls only: no malloc, no stdio, no locks, no
// glibc fork() (its atfork handlers take locks; children fork with clone3 instead).
#pragma once

#include "emulator/runtime/exit_status.hpp"
#include "emulator/runtime/init_protocol.hpp"
#include "emulator/runtime/unique_fd.hpp"

#include <eci/result.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eci::emulator::detail {

using EnvList = std::vector<std::pair<std::string, std::string>>;

/// A NULL-terminated array of C strings (argv/envp style) whose storage does not move when
/// the object is moved, so pointers taken before fork stay valid in the child.
class CStringArray {
  public:
    CStringArray() { pointers_.push_back(nullptr); }
    explicit CStringArray(const std::vector<std::string>& items);

    char* const* data() const noexcept { return pointers_.data(); }
    std::size_t size() const noexcept { return pointers_.size() - 1; }
    const char* operator[](std::size_t i) const noexcept { return pointers_[i]; }

  private:
    std::vector<char> blob_;       // all strings, each NUL-terminated
    std::vector<char*> pointers_;  // into blob_, then nullptr
};

/// Everything a child needs to execute one program, built before fork.
struct ProgramImage {
    CStringArray argv;
    CStringArray envp;
    /// Absolute (or relative, when argv[0] has a '/') paths to try with execve, in order:
    /// argv[0] looked up along the PATH of `envp`, as execvp would.
    CStringArray candidates;
    std::string working_dir;   ///< entered before execve
    std::string fallback_dir;  ///< entered when working_dir cannot be
};

/// Builds a program image. `env` is applied in order (a later entry replaces an earlier one
/// with the same name). Errors: invalid_argument when argv is empty or a string holds a NUL.
Result<ProgramImage> make_program_image(const std::vector<std::string>& argv, const EnvList& env,
                                        std::string working_dir, std::string fallback_dir);

/// Merges `overrides` into `base` (same name: replaced in place; new names appended).
void merge_env(EnvList& base, const EnvList& overrides);

/// The child-side step that failed, for error messages.
enum class ChildStage : std::int32_t {
    none = 0,
    mount_private,
    mount_root,
    mount_bind,
    mount_readonly,
    mount_tmpfs,
    mount_proc,
    mount_dev,
    pivot_root,
    join_namespaces,
    spawn,
    session,
    terminal,
    exec,
    network,
    confine,
    init_program,
    cgroup,
    user_namespace,
};
std::string_view to_string(ChildStage stage) noexcept;

// ---- parent side --------------------------------------------------------------------------

/// clone3(CLONE_PIDFD | namespace_flags): returns the pid (and the pidfd through `pidfd`) in
/// the parent, 0 in the child, -1 with errno on failure. The child starts with every signal
/// blocked so no handler of the emulator can run in it; it must call child_reset_signals().
pid_t spawn_child(std::uint64_t namespace_flags, int* pidfd) noexcept;

/// Waits up to `timeout` for one ChildReport on `fd`. nullopt: the writer closed the pipe
/// without reporting (for an exec: execve succeeded). Errors: timeout, service (read error
/// or a torn record).
Result<std::optional<ChildReport>> read_child_report(int fd, std::chrono::milliseconds timeout);

/// Waits up to `timeout` for the process behind `pidfd` (a child of ours) to end and reaps it.
/// nullopt when it is still running at the deadline (or was already reaped elsewhere).
std::optional<ExitStatus> reap_pidfd(int pidfd, std::chrono::milliseconds timeout) noexcept;

/// A pipe whose both ends are O_CLOEXEC. Errors: service (with errno text).
Result<std::pair<UniqueFd, UniqueFd>> make_pipe();

/// A message "<what>: <strerror(error)>".
std::string errno_message(std::string_view what, int error);

// ---- child side (async-signal-safe) --------------------------------------------------------

/// Forks the calling (single-threaded) child with a raw clone3: 0 in the new child.
pid_t child_fork() noexcept;

/// Sleeps `duration` with the signal mask as it is (RuntimeOptions::exec_child_stall).
void child_stall(std::chrono::milliseconds duration) noexcept;

/// Makes `sources[i]` available as fd i for i < count (a source of -1 leaves fd i closed) and
/// closes every other descriptor. count <= 8. Sources may overlap targets.
bool child_install_fds(const int* sources, int count) noexcept;

/// Resets every signal disposition to the default (so inherited handlers of the emulator
/// never run here) and leaves the mask as it is.
void child_reset_signals() noexcept;
/// Unblocks every signal.
void child_unblock_signals() noexcept;

/// Writes one report to `fd` (ignores failures: the parent then sees EOF).
void child_write_report(int fd, std::int32_t type, ChildStage stage, std::int32_t value) noexcept;
/// Reports a failed stage with `error` and exits with status 127.
[[noreturn]] void child_fail(int report_fd, ChildStage stage, int error) noexcept;

/// Becomes a session leader, takes fd 0 as controlling terminal when `controlling_tty`,
/// enters the working directory, unblocks signals and executes the image. On failure it
/// reports the stage to `report_fd` (or, when report_fd < 0, writes a line to fd 2) and
/// exits with status 127 (126 when the file exists but cannot be executed).
[[noreturn]] void child_exec(const ProgramImage& image, int report_fd,
                             bool controlling_tty) noexcept;

}  // namespace eci::emulator::detail
