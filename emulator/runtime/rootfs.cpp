// SPDX-License-Identifier: Apache-2.0
#include "emulator/runtime/rootfs.hpp"

#include "emulator/runtime/userns.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>

namespace eci::emulator::detail {

Result<RootfsPlan> make_rootfs_plan(const std::filesystem::path& mountpoint) {
    std::error_code ec;
    std::filesystem::create_directories(mountpoint, ec);
    if (ec) {
        return Error::make(ErrorKind::service, "cannot create the sandbox root mountpoint " +
                                                   mountpoint.string() + ": " + ec.message());
    }
    RootfsPlan plan;
    plan.root = mountpoint.string();
    // Replaced per sandbox, never taken from the host.
    constexpr std::array<std::string_view, 5> private_names = {"proc", "dev", "tmp", "root",
                                                               "workspace"};
    std::vector<std::filesystem::directory_entry> host_entries;
    for (std::filesystem::directory_iterator it("/", ec), end; !ec && it != end; it.increment(ec)) {
        host_entries.push_back(*it);
    }
    if (ec)
        return Error::make(ErrorKind::service, "cannot list /: " + ec.message());
    std::sort(host_entries.begin(), host_entries.end());
    for (const auto& host : host_entries) {
        const std::string name = host.path().filename().string();
        if (std::find(private_names.begin(), private_names.end(), name) != private_names.end()) {
            continue;
        }
        RootfsEntry entry;
        entry.host_path = host.path().string();
        entry.target = name;
        std::error_code kind_ec;
        if (host.is_symlink(kind_ec)) {
            entry.kind = RootfsEntry::Kind::symlink;
            entry.link_target = std::filesystem::read_symlink(host.path(), kind_ec).string();
        } else if (host.is_directory(kind_ec)) {
            entry.kind = RootfsEntry::Kind::directory;
        } else if (host.is_regular_file(kind_ec)) {
            entry.kind = RootfsEntry::Kind::file;
        } else {
            continue;  // sockets, devices at the top level: nothing a sandbox needs
        }
        if (kind_ec)
            continue;
        plan.entries.push_back(std::move(entry));
    }
    plan.tmp = "tmp";
    plan.home = "root";
    plan.workspace = "workspace";
    plan.proc = "proc";
    plan.dev = "dev";
    plan.dev_shm = plan.dev + "/shm";
    plan.dev_pts = plan.dev + "/pts";
    plan.dev_ptmx = plan.dev + "/ptmx";
    for (const char* name : {"null", "zero", "full", "random", "urandom", "tty"}) {
        plan.devices.emplace_back(std::string("/dev/") + name, plan.dev + "/" + name);
    }
    plan.dev_links = {{"pts/ptmx", plan.dev_ptmx},
                      {"/proc/self/fd", plan.dev + "/fd"},
                      {"/proc/self/fd/0", plan.dev + "/stdin"},
                      {"/proc/self/fd/1", plan.dev + "/stdout"},
                      {"/proc/self/fd/2", plan.dev + "/stderr"}};
    for (const char* name : {"sys", "sysrq-trigger", "irq", "bus", "fs"}) {
        plan.proc_readonly.push_back(plan.proc + "/" + name);
    }
    plan.mountpoints = {plan.tmp, plan.home, plan.workspace, plan.proc, plan.dev};
    return plan;
}

TmpfsOptions TmpfsOptions::sized(std::uint64_t memory) {
    TmpfsOptions options;
    if (memory == 0)
        return options;
    const std::string size = ",size=" + std::to_string(memory / 2);
    options.tmp += size;
    options.home += size;
    options.workspace += size;
    options.shm += size;
    return options;
}

namespace {

bool make_dir(const std::string& path) noexcept {
    return ::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST;
}

bool mount_tmpfs(const std::string& target, const char* options) noexcept {
    return ::mount("tmpfs", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options) == 0;
}

// A minimal /dev: no host block devices, no /dev/mem, /dev/kmsg or the host's ptys. The
// tmpfs is nodev, so a node made with mknod inside cannot be opened; the bound host nodes
// are separate mounts and keep working.
bool child_mount_dev(const RootfsPlan& plan, const char* shm_options) noexcept {
    if (::mount("tmpfs", plan.dev.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "mode=0755,size=64k") != 0) {
        return false;
    }
    for (const auto& [host, target] : plan.devices) {
        const int fd = ::open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
        if (fd < 0)
            return false;
        ::close(fd);
        if (::mount(host.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0)
            return false;
    }
    // A private devpts instance: tmux inside opens /dev/ptmx; the host's terminals stay out.
    if (!make_dir(plan.dev_pts) ||
        ::mount("devpts", plan.dev_pts.c_str(), "devpts", MS_NOSUID | MS_NOEXEC,
                "newinstance,ptmxmode=0666,mode=0620") != 0) {
        return false;
    }
    for (const auto& [target, path] : plan.dev_links) {
        if (::symlink(target.c_str(), path.c_str()) != 0)
            return false;
    }
    // /dev/shm is shared memory: private per sandbox like /tmp.
    return make_dir(plan.dev_shm) && mount_tmpfs(plan.dev_shm, shm_options);
}

}  // namespace

ChildStage child_enter_rootfs(const RootfsPlan& plan, const TmpfsOptions& tmpfs,
                              bool become_namespace_root) noexcept {
    // Nothing we mount may propagate back to the host (or to other sandboxes).
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        return ChildStage::mount_private;
    }
    // A small tmpfs holds the new root's top-level directories and symlinks. Unbindable, so
    // binding a host directory that contains the mountpoint does not copy the new root into
    // itself. Owned by the sandbox's root (uid=0 is read in the sandbox's user namespace).
    if (!mount_tmpfs(plan.root, "mode=0755,size=1m,uid=0,gid=0") ||
        ::mount(nullptr, plan.root.c_str(), nullptr, MS_UNBINDABLE, nullptr) != 0 ||
        ::chdir(plan.root.c_str()) != 0) {
        return ChildStage::mount_root;
    }
    // From here every path is relative to the new root (or an absolute host path of a bind
    // source): the sandbox's root may not search the state directory (often 0700), and in a
    // user namespace it must be the one creating files, since the host's root has no id
    // there (mkdir would fail with EOVERFLOW).
    if (become_namespace_root && !child_become_namespace_root())
        return ChildStage::user_namespace;
    for (const auto& dir : plan.mountpoints) {
        if (!make_dir(dir))
            return ChildStage::mount_root;
    }
    for (const auto& entry : plan.entries) {
        switch (entry.kind) {
            case RootfsEntry::Kind::symlink:
                if (::symlink(entry.link_target.c_str(), entry.target.c_str()) != 0) {
                    return ChildStage::mount_bind;
                }
                continue;
            case RootfsEntry::Kind::directory:
                if (!make_dir(entry.target))
                    return ChildStage::mount_bind;
                break;
            case RootfsEntry::Kind::file: {
                const int fd = ::open(entry.target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
                if (fd < 0)
                    return ChildStage::mount_bind;
                ::close(fd);
                break;
            }
        }
        if (::mount(entry.host_path.c_str(), entry.target.c_str(), nullptr, MS_BIND | MS_REC,
                    nullptr) != 0) {
            if (errno == ENOENT)
                continue;  // vanished since the plan was made
            return ChildStage::mount_bind;
        }
    }
    // Everything so far (the root tmpfs and every host mount below it) becomes read-only in
    // one step; what is mounted afterwards (tmpfs, /proc, /dev) stays writable.
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (::syscall(SYS_mount_setattr, AT_FDCWD, ".", AT_RECURSIVE, &attr, sizeof attr) != 0) {
        return ChildStage::mount_readonly;
    }
    if (!mount_tmpfs(plan.tmp, tmpfs.tmp.c_str()) || !mount_tmpfs(plan.home, tmpfs.home.c_str()) ||
        !mount_tmpfs(plan.workspace, tmpfs.workspace.c_str())) {
        return ChildStage::mount_tmpfs;
    }
    if (::mount("proc", plan.proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) !=
        0) {
        return ChildStage::mount_proc;
    }
    // The kernel's knobs (/proc/sys/kernel/core_pattern runs a program as host root) are
    // read-only, as in a container; the mount flags cannot be changed back from inside.
    for (const auto& path : plan.proc_readonly) {
        if (::mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
            if (errno == ENOENT)
                continue;
            return ChildStage::mount_proc;
        }
        if (::syscall(SYS_mount_setattr, AT_FDCWD, path.c_str(), AT_RECURSIVE, &attr,
                      sizeof attr) != 0) {
            return ChildStage::mount_proc;
        }
    }
    if (!child_mount_dev(plan, tmpfs.shm.c_str()))
        return ChildStage::mount_dev;
    // pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves
    // only the new root, with no path back to the host's writable tree.
    if (::syscall(SYS_pivot_root, ".", ".") != 0 || ::umount2(".", MNT_DETACH) != 0 ||
        ::chdir("/") != 0) {
        return ChildStage::pivot_root;
    }
    return ChildStage::none;
}

}  // namespace eci::emulator::detail
