// SPDX-License-Identifier: Apache-2.0
#include "emulator/runtime/proc_scan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace eci::emulator::detail {

namespace {

/// Reads a whole /proc file (they report size 0, so read until EOF).
bool read_proc_file(const std::string& path, std::string& out) {
    out.clear();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buffer[8192];
    while (true) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0) {
            ::close(fd);
            return false;
        }
        if (n == 0)
            break;
        out.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return true;
}

template <class Visit>
void for_each_pid(Visit visit) {
    DIR* dir = ::opendir("/proc");
    if (dir == nullptr)
        return;
    const pid_t self = ::getpid();
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view name(entry->d_name);
        if (name.empty() ||
            !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            continue;
        }
        const auto pid = static_cast<pid_t>(std::strtol(entry->d_name, nullptr, 10));
        if (pid != self)
            visit(pid);
    }
    ::closedir(dir);
}

/// The one-letter state and the process group from /proc/<pid>/stat.
bool read_stat(pid_t pid, char& state, pid_t& group) {
    std::string text;
    if (!read_proc_file("/proc/" + std::to_string(pid) + "/stat", text))
        return false;
    // "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses, so find the last ')'.
    const std::size_t close = text.rfind(')');
    if (close == std::string::npos || close + 2 >= text.size())
        return false;
    state = text[close + 2];
    const char* cursor = text.c_str() + close + 3;
    char* end = nullptr;
    std::strtol(cursor, &end, 10);  // ppid
    group = static_cast<pid_t>(std::strtol(end, nullptr, 10));
    return true;
}

bool is_live(pid_t pid) {
    char state = 0;
    pid_t group = 0;
    return read_stat(pid, state, group) && state != 'Z' && state != 'X';
}

}  // namespace

std::vector<pid_t> find_marked_processes(const std::vector<std::string>& markers) {
    std::vector<pid_t> found;
    std::string environ;
    for_each_pid([&](pid_t pid) {
        if (!read_proc_file("/proc/" + std::to_string(pid) + "/environ", environ))
            return;
        std::size_t matched = 0;
        std::size_t begin = 0;
        while (begin < environ.size()) {
            std::size_t end = environ.find('\0', begin);
            if (end == std::string::npos)
                end = environ.size();
            const std::string_view entry(environ.data() + begin, end - begin);
            matched += static_cast<std::size_t>(std::count(markers.begin(), markers.end(), entry));
            begin = end + 1;
        }
        if (matched >= markers.size() && is_live(pid))
            found.push_back(pid);
    });
    return found;
}

ino_t pid_namespace_of(pid_t pid) {
    struct stat info {};
    if (::stat(("/proc/" + std::to_string(pid) + "/ns/pid").c_str(), &info) != 0)
        return 0;
    return info.st_ino;
}

std::size_t count_processes_in_namespaces(const std::unordered_set<ino_t>& namespaces) {
    std::size_t count = 0;
    if (namespaces.empty())
        return 0;
    for_each_pid([&](pid_t pid) {
        const ino_t ns = pid_namespace_of(pid);
        if (ns != 0 && namespaces.count(ns) != 0 && is_live(pid))
            ++count;
    });
    return count;
}

pid_t process_group_of(pid_t pid) {
    char state = 0;
    pid_t group = -1;
    return read_stat(pid, state, group) ? group : -1;
}

}  // namespace eci::emulator::detail
