// SPDX-License-Identifier: Apache-2.0
#include "emulator/runtime/userns.hpp"

#include "emulator/runtime/spawn.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <string>

namespace eci::emulator::detail {

std::optional<std::uint32_t> UsernsSlots::acquire() {
    const std::uint64_t slots =
        (std::uint64_t{std::numeric_limits<std::uint32_t>::max()} - base_) / userns_range;
    std::uint32_t slot = 0;
    for (std::uint32_t used : used_) {
        if (used != slot)
            break;
        ++slot;
    }
    if (slot >= slots)
        return std::nullopt;
    used_.insert(slot);
    return base_ + slot * userns_range;
}

void UsernsSlots::release(std::uint32_t first_id) noexcept {
    used_.erase((first_id - base_) / userns_range);
}

namespace {

Result<void> write_map(pid_t pid, const char* file, const std::string& line) {
    const std::string path = fmt::format("/proc/{}/{}", pid, file);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return Error::make(ErrorKind::service, errno_message("open " + path, errno));
    const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    const int saved = errno;
    ::close(fd);
    if (!ok)
        return Error::make(ErrorKind::service, errno_message("write " + path, saved));
    return {};
}

}  // namespace

Result<void> write_id_maps(pid_t pid, std::uint32_t first_id) {
    // Written by a process with CAP_SETUID/CAP_SETGID in the parent namespace, so any range
    // may be mapped and setgroups() stays allowed inside (as in a container).
    const std::string line = fmt::format("0 {} {}\n", first_id, userns_range);
    if (auto uid = write_map(pid, "uid_map", line); !uid)
        return uid;
    return write_map(pid, "gid_map", line);
}

bool child_wait_for_id_maps(int fd) noexcept {
    char byte = 0;
    ssize_t n = 0;
    while ((n = ::read(fd, &byte, 1)) < 0 && errno == EINTR) {
    }
    ::close(fd);
    if (n != 1) {
        errno = n == 0 ? EPERM : errno;
        return false;
    }
    return true;
}

bool child_become_namespace_root() noexcept {
    return ::syscall(SYS_setresgid, 0, 0, 0) == 0 && ::syscall(SYS_setgroups, 0, nullptr) == 0 &&
           ::syscall(SYS_setresuid, 0, 0, 0) == 0;
}

}  // namespace eci::emulator::detail
