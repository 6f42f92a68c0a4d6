// SPDX-License-Identifier: Apache-2.0
#include "emulator/runtime/confine.hpp"

#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace eci::emulator::detail {

namespace {

#if defined(__x86_64__)
constexpr std::uint32_t native_arch = AUDIT_ARCH_X86_64;
// x32 system calls share the x86_64 audit arch and set this bit in the number.
constexpr std::uint32_t x32_bit = 0x40000000U;
#elif defined(__aarch64__)
constexpr std::uint32_t native_arch = AUDIT_ARCH_AARCH64;
constexpr std::uint32_t x32_bit = 0;
#else
#error "the sandbox seccomp filter knows x86_64 and aarch64 only"
#endif

constexpr std::uint32_t namespace_flags = CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID |
                                          CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC |
                                          CLONE_NEWCGROUP;

constexpr int denied_calls[] = {
    SYS_mount,
    SYS_umount2,
    SYS_pivot_root,
    SYS_fsopen,
    SYS_fsmount,
    SYS_fsconfig,
    SYS_fspick,
    SYS_move_mount,
    SYS_open_tree,
    SYS_mount_setattr,
    SYS_unshare,
    SYS_setns,
    SYS_kexec_load,
    SYS_kexec_file_load,
    SYS_init_module,
    SYS_finit_module,
    SYS_delete_module,
    SYS_reboot,
    SYS_swapon,
    SYS_swapoff,
    SYS_keyctl,
    SYS_add_key,
    SYS_request_key,
    SYS_bpf,
    SYS_perf_event_open,
    SYS_userfaultfd,
    SYS_open_by_handle_at,
    SYS_name_to_handle_at,
    SYS_acct,
    SYS_quotactl,
};
constexpr std::size_t denied_count = sizeof denied_calls / sizeof denied_calls[0];

constexpr sock_filter stmt(std::uint16_t code, std::uint32_t k) {
    return sock_filter{code, 0, 0, k};
}
constexpr sock_filter jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
    return sock_filter{code, jt, jf, k};
}

// The program, built at compile time so the child only points the kernel at it.
struct Program {
    static constexpr std::size_t capacity = 16 + 2 * denied_count;
    sock_filter code[capacity]{};
    std::size_t size = 0;
};

constexpr Program build_program() {
    Program p;
    auto add = [&](sock_filter f) { p.code[p.size++] = f; };
    constexpr std::uint32_t allow = SECCOMP_RET_ALLOW;
    constexpr std::uint32_t eperm = SECCOMP_RET_ERRNO | EPERM;
    constexpr std::uint32_t enosys = SECCOMP_RET_ERRNO | ENOSYS;
    add(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
    add(jump(BPF_JMP | BPF_JEQ | BPF_K, native_arch, 1, 0));
    add(stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
    add(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
    if (x32_bit != 0) {
        add(jump(BPF_JMP | BPF_JGE | BPF_K, x32_bit, 0, 1));
        add(stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
    }
    for (int call : denied_calls) {
        add(jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(call), 0, 1));
        add(stmt(BPF_RET | BPF_K, eperm));
    }
    add(jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1));
    add(stmt(BPF_RET | BPF_K, enosys));
    add(jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 1, 0));
    add(stmt(BPF_RET | BPF_K, allow));
    // clone's flags are its first argument on both architectures (low 32 bits).
    add(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])));
    add(jump(BPF_JMP | BPF_JSET | BPF_K, namespace_flags, 0, 1));
    add(stmt(BPF_RET | BPF_K, eperm));
    add(stmt(BPF_RET | BPF_K, allow));
    return p;
}

constexpr Program filter_program = build_program();
static_assert(filter_program.size <= Program::capacity);

// Docker's default capability set.
constexpr std::uint64_t bit(int cap) {
    return std::uint64_t{1} << cap;
}
constexpr std::uint64_t kept_capabilities =
    bit(CAP_CHOWN) | bit(CAP_DAC_OVERRIDE) | bit(CAP_FOWNER) | bit(CAP_FSETID) | bit(CAP_KILL) |
    bit(CAP_SETGID) | bit(CAP_SETUID) | bit(CAP_SETPCAP) | bit(CAP_NET_BIND_SERVICE) |
    bit(CAP_NET_RAW) | bit(CAP_SYS_CHROOT) | bit(CAP_MKNOD) | bit(CAP_AUDIT_WRITE) |
    bit(CAP_SETFCAP);

}  // namespace

bool child_confine() noexcept {
    // Installed while we still hold CAP_SYS_ADMIN, so no_new_privs is not needed (setuid
    // programs inside keep working as in a container).
    sock_fprog program{static_cast<unsigned short>(filter_program.size),
                       const_cast<sock_filter*>(filter_program.code)};
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0U, &program) != 0)
        return false;
    for (int cap = 0; cap < 64; ++cap) {
        if ((kept_capabilities & bit(cap)) != 0)
            continue;
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            if (errno == EINVAL)
                break;  // past the kernel's last capability
            return false;
        }
    }
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    for (int i = 0; i < 2; ++i) {
        const auto word = static_cast<std::uint32_t>(kept_capabilities >> (32 * i));
        data[i].effective = word;
        data[i].permitted = word;
        data[i].inheritable = 0;
    }
    return ::syscall(SYS_capset, &header, data) == 0;
}

bool child_loopback_up() noexcept {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    ifreq request{};
    std::memcpy(request.ifr_name, "lo", 3);
    bool ok = ::ioctl(fd, SIOCGIFFLAGS, &request) == 0;
    if (ok) {
        request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP | IFF_RUNNING);
        ok = ::ioctl(fd, SIOCSIFFLAGS, &request) == 0;
    }
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return ok;
}

}  // namespace eci::emulator::detail
