#include "emulator/runtime/rootfs.hpp"

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
        entry.target = plan.root + "/" + name;
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
    plan.tmp = plan.root + "/tmp";
    plan.home = plan.root + "/root";
    plan.workspace = plan.root + "/workspace";
    plan.proc = plan.root + "/proc";
    plan.dev = plan.root + "/dev";
    plan.dev_shm = plan.dev + "/shm";
    plan.mountpoints = {plan.tmp, plan.home, plan.workspace, plan.proc, plan.dev};
    return plan;
}

namespace {

bool make_dir(const std::string& path) noexcept {
    return ::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST;
}

bool mount_tmpfs(const std::string& target, const char* options) noexcept {
    return ::mount("tmpfs", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options) == 0;
}

}  // namespace

ChildStage child_enter_rootfs(const RootfsPlan& plan) noexcept {
    // Nothing we mount may propagate back to the host (or to other sandboxes).
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        return ChildStage::mount_private;
    }
    // A small tmpfs holds the new root's top-level directories and symlinks. Unbindable, so
    // binding a host directory that contains the mountpoint does not copy the new root into
    // itself.
    if (!mount_tmpfs(plan.root, "mode=0755,size=1m") ||
        ::mount(nullptr, plan.root.c_str(), nullptr, MS_UNBINDABLE, nullptr) != 0) {
        return ChildStage::mount_root;
    }
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
    if (::syscall(SYS_mount_setattr, AT_FDCWD, plan.root.c_str(), AT_RECURSIVE, &attr,
                  sizeof attr) != 0) {
        return ChildStage::mount_readonly;
    }
    if (!mount_tmpfs(plan.tmp, "mode=1777") || !mount_tmpfs(plan.home, "mode=0700") ||
        !mount_tmpfs(plan.workspace, "mode=0755")) {
        return ChildStage::mount_tmpfs;
    }
    if (::mount("proc", plan.proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) !=
        0) {
        return ChildStage::mount_proc;
    }
    if (::mount("/dev", plan.dev.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
        return ChildStage::mount_dev;
    }
    // /dev/shm is shared memory: private per sandbox like /tmp (best effort).
    mount_tmpfs(plan.dev_shm, "mode=1777");
    // pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves
    // only the new root, with no path back to the host's writable tree.
    if (::chdir(plan.root.c_str()) != 0 || ::syscall(SYS_pivot_root, ".", ".") != 0 ||
        ::umount2(".", MNT_DETACH) != 0 || ::chdir("/") != 0) {
        return ChildStage::pivot_root;
    }
    return ChildStage::none;
}

}  // namespace eci::emulator::detail
