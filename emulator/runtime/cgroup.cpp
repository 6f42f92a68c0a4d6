// SPDX-License-Identifier: Apache-2.0
#include "emulator/runtime/cgroup.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

namespace eci::emulator::detail {

namespace {

bool write_file(const std::string& path, const std::string& text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text;
}

bool has_word(const std::string& text, std::string_view word) {
    std::size_t at = 0;
    while ((at = text.find(word, at)) != std::string::npos) {
        const bool start = at == 0 || text[at - 1] == ' ';
        const std::size_t end = at + word.size();
        if (start && (end == text.size() || text[end] == ' ' || text[end] == '\n'))
            return true;
        at = end;
    }
    return false;
}

bool make_dir(const std::string& path) {
    return ::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST;
}

}  // namespace

Result<CgroupTree> CgroupTree::create(const std::string& instance) {
    const std::string name = "eci-emulator-" + instance.substr(0, 8);
    CgroupTree tree;
    // cgroup v2: the unified hierarchy mounted at /sys/fs/cgroup with the controllers.
    const std::string unified = "/sys/fs/cgroup";
    const std::string available = read_file(unified + "/cgroup.controllers");
    if (has_word(available, "pids") && has_word(available, "memory")) {
        const std::string wanted =
            has_word(available, "cpu") ? "+pids +memory +cpu" : "+pids +memory";
        const std::string base = unified + "/" + name;
        // The root cgroup may hold processes and still delegate (the no-internal-process
        // rule does not apply to it), so our cgroups go right under it.
        if (write_file(unified + "/cgroup.subtree_control", wanted) && make_dir(base) &&
            write_file(base + "/cgroup.subtree_control", wanted)) {
            tree.v2_ = true;
            tree.bases_ = {base};
            tree.description_ = "cgroup v2 (" + wanted + ")";
            return tree;
        }
        ::rmdir(base.c_str());
    }
    // cgroup v1: one hierarchy per controller.
    std::vector<std::string> found;
    for (const char* controller : {"pids", "memory", "cpu"}) {
        const std::string root = std::string("/sys/fs/cgroup/") + controller;
        if (::access((root + "/cgroup.procs").c_str(), W_OK) != 0)
            continue;
        const std::string base = root + "/" + name;
        if (!make_dir(base))
            continue;
        tree.bases_.push_back(base);
        tree.controllers_.emplace_back(controller);
        found.emplace_back(controller);
    }
    if (tree.controllers_.empty() ||
        std::find(found.begin(), found.end(), std::string("pids")) == found.end()) {
        tree.remove();
        return Error::make(ErrorKind::service,
                           "no writable cgroup controller (looked for cgroup v2 pids+memory at "
                           "/sys/fs/cgroup and cgroup v1 pids, memory, cpu under it)");
    }
    std::string list;
    for (const auto& c : found)
        list += (list.empty() ? "" : ", ") + c;
    tree.description_ = "cgroup v1 (" + list + ")";
    return tree;
}

Result<SandboxCgroup> CgroupTree::make(const std::string& id, const SandboxLimits& limits) const {
    SandboxCgroup group;
    std::vector<std::string> procs;
    auto fail = [&](const std::string& what) -> Error {
        group.remove();
        return Error::make(
            ErrorKind::service,
            errno_message("setting up the cgroup of sandbox " + id + ": " + what, errno));
    };
    const auto period = 100000;
    const auto quota =
        limits.cpu > 0 ? std::max<long long>(1000, std::llround(limits.cpu * period)) : 0;
    for (std::size_t i = 0; i < bases_.size(); ++i) {
        const std::string dir = bases_[i] + "/" + id;
        if (!make_dir(dir))
            return fail("mkdir " + dir);
        group.dirs.push_back(dir);
        procs.push_back(dir + "/cgroup.procs");
        auto set = [&](const char* file, const std::string& value, bool required) {
            const std::string path = dir + "/" + file;
            return write_file(path, value) || !required || ::access(path.c_str(), F_OK) != 0;
        };
        const std::string controller = v2_ ? std::string() : controllers_[i];
        const bool pids = v2_ || controller == "pids";
        const bool memory = v2_ || controller == "memory";
        const bool cpu = v2_ || controller == "cpu";
        if (pids && limits.pids > 0 && !set("pids.max", std::to_string(limits.pids), true))
            return fail("pids.max");
        if (memory && limits.memory_bytes > 0) {
            const std::string bytes = std::to_string(limits.memory_bytes);
            const bool ok =
                v2_ ? set("memory.max", bytes, true) && set("memory.swap.max", "0", false)
                    : set("memory.limit_in_bytes", bytes, true) &&
                          set("memory.memsw.limit_in_bytes", bytes, false);
            if (!ok)
                return fail("the memory limit");
        }
        if (cpu && quota > 0) {
            const bool ok = v2_ ? set("cpu.max", fmt::format("{} {}", quota, period), false)
                                : set("cpu.cfs_period_us", std::to_string(period), false) &&
                                      set("cpu.cfs_quota_us", std::to_string(quota), false);
            if (!ok)
                return fail("the cpu limit");
        }
    }
    group.procs = CStringArray(procs);
    return group;
}

SandboxCgroup::Removal SandboxCgroup::remove_once() const noexcept {
    Removal outcome = Removal::removed;
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
        if (::rmdir(it->c_str()) == 0 || errno == ENOENT)
            continue;
        if (errno == EBUSY)
            outcome = Removal::busy;
        else if (outcome == Removal::removed)
            outcome = Removal::failed;
    }
    return outcome;
}

bool SandboxCgroup::remove() const noexcept {
    // Tasks that just died may still be counted for a moment.
    for (int attempt = 0; attempt < 50; ++attempt) {
        const auto removal = remove_once();
        if (removal != Removal::busy)
            return removal == Removal::removed;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
}

void CgroupTree::remove() const noexcept {
    for (const auto& base : bases_)
        ::rmdir(base.c_str());
}

bool child_join_cgroups(const int* fds, int count) noexcept {
    for (int i = 0; i < count; ++i) {
        if (::write(fds[i], "0", 1) != 1)
            return false;
    }
    return true;
}

int child_open_cgroups(const CStringArray& procs, int* fds) noexcept {
    int opened = 0;
    for (std::size_t i = 0; i < procs.size() && i < 4; ++i) {
        const int fd = ::open(procs[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        fds[opened++] = fd;
    }
    return opened;
}

}  // namespace eci::emulator::detail
