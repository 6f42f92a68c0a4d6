// SPDX-License-Identifier: Apache-2.0
// What a process inside an isolated sandbox may do: the capabilities a container runtime
// grants by default and a seccomp filter against the calls that reach past the sandbox.
// Child side only (async-signal-safe: raw system calls on static data).
#pragma once

namespace eci::emulator::detail {

/// Installs the sandbox's seccomp filter, then limits every capability set (bounding,
/// effective, permitted, inheritable) of the calling process to Docker's default set
/// (CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP, NET_BIND_SERVICE,
/// NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP). Both survive execve and fork, and
/// neither can be undone: without CAP_SYS_ADMIN nothing can be mounted or remounted, and
/// the filter refuses the calls anyway. Returns false with errno set on failure.
///
/// The filter answers with EPERM: mount, umount2, pivot_root, the new mount API
/// (fsopen, fsmount, fsconfig, fspick, move_mount, open_tree, mount_setattr), unshare,
/// setns, clone with a namespace flag, kexec_load, kexec_file_load, init_module,
/// finit_module, delete_module, reboot, swapon, swapoff, keyctl, add_key, request_key,
/// bpf, perf_event_open, userfaultfd, open_by_handle_at, name_to_handle_at, acct,
/// quotactl; clone3 gets ENOSYS (its flags are in memory a filter cannot read; libc then
/// falls back to clone); another architecture's system call ABI kills the process.
bool child_confine() noexcept;

/// Brings up the loopback interface of a fresh network namespace. Returns false with errno.
bool child_loopback_up() noexcept;

}  // namespace eci::emulator::detail
