// Process, time, identity, limit, randomness, futex and TLS syscalls.
#include <sched.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "guestos/include/cred.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/include/syscalls.h"
#include "guestos/kernel/time/time.h"

namespace guestos {

namespace {

long host_errno() { return -static_cast<long>(errno); }

long do_clock_gettime(SysCtx& c, const uint64_t* a, bool time64) {
    timespec ts;
    if (clock_gettime(static_cast<clockid_t>(a[0]), &ts) < 0) return host_errno();
    return put_timespec(c, VirtAddr(a[1]), ts, time64) ? 0 : -EFAULT;
}

long do_clock_getres(SysCtx& c, const uint64_t* a, bool time64) {
    timespec ts;
    if (clock_getres(static_cast<clockid_t>(a[0]), &ts) < 0) return host_errno();
    if (!a[1]) return 0;
    return put_timespec(c, VirtAddr(a[1]), ts, time64) ? 0 : -EFAULT;
}

// The limit a guest sees: the host's, except the stack, which is emu's own 8 MiB.
rlimit64& task_rlimit(task_struct& t, uint64_t res) { return t.rlim[res]; }

long do_getrlimit_compat(SysCtx& c, const uint64_t* a, uint32_t infinity) {
    if (a[0] >= RLIM_NLIMITS) return -EINVAL;
    const rlimit64& r = task_rlimit(c.task, a[0]);
    auto clamp = [&](uint64_t v) { return v > infinity ? infinity : static_cast<uint32_t>(v); };
    uint32_t v[2] = {clamp(r.rlim_cur), clamp(r.rlim_max)};
    return copy_to_user(c.mm, VirtAddr(a[1]), v, sizeof v) ? 0 : -EFAULT;
}

// Builds an i386 segment descriptor from a user_desc (fill_ldt), or 0 for an empty one.
uint64_t fill_ldt(const user_desc& u) {
    const uint32_t f = u.flags;
    const bool seg_32bit = f & 1, read_exec_only = f & 8, limit_in_pages = f & 16;
    const bool seg_not_present = f & 32, useable = f & 64;
    const uint32_t contents = (f >> 1) & 3;
    if (u.empty) return 0;
    uint64_t d = 0;
    d |= u.limit & 0xffffull;
    d |= static_cast<uint64_t>(u.base_addr & 0xffffff) << 16;
    uint64_t type = ((read_exec_only ? 0u : 1u) << 1) | (contents << 2) | 1u;
    d |= type << 40;
    d |= 1ull << 44;                                    // s: code/data
    d |= 3ull << 45;                                    // dpl 3
    d |= static_cast<uint64_t>(!seg_not_present) << 47;  // p
    d |= static_cast<uint64_t>((u.limit >> 16) & 0xf) << 48;
    d |= static_cast<uint64_t>(useable) << 52;
    d |= static_cast<uint64_t>(seg_32bit) << 54;
    d |= static_cast<uint64_t>(limit_in_pages) << 55;
    d |= static_cast<uint64_t>(u.base_addr >> 24) << 56;
    return d;
}

// LDT_empty / LDT_zero: the descriptor a user_desc asks to clear.
bool ldt_empty(const uint32_t raw[4]) {
    const uint32_t f = raw[3];
    bool zero = raw[1] == 0 && raw[2] == 0 && f == 0;
    bool classic = raw[1] == 0 && raw[2] == 0 && ((f >> 1) & 3) == 0 && (f & 8) && !(f & 1) &&
                   !(f & 16) && (f & 32) && !(f & 64);
    return zero || classic;
}

}  // namespace

long sys_exit(SysCtx& c, const uint64_t* a) {
    c.task.exited = true;
    c.task.exit_code = static_cast<int>(a[0] & 0xff);
    return 0;
}
long sys_exit_group(SysCtx& c, const uint64_t* a) { return sys_exit(c, a); }

long sys_uname(SysCtx& c, const uint64_t* a) {
    struct utsname u;
    if (::uname(&u) < 0) return host_errno();
    return copy_to_user(c.mm, VirtAddr(a[0]), &u, sizeof u) ? 0 : -EFAULT;
}

long sys_arch_prctl(SysCtx& c, const uint64_t* a) {
    enum { ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004,
           ARCH_GET_CPUID = 0x1011, ARCH_SET_CPUID = 0x1012 };
    switch (a[0]) {
    case ARCH_SET_FS:
    case ARCH_SET_GS:
        if (a[1] >= c.mm.task_size) return -EPERM;
        a[0] == ARCH_SET_FS ? c.task.cpu->set_fs_base(a[1]) : c.task.cpu->set_gs_base(a[1]);
        return 0;
    case ARCH_GET_FS:
    case ARCH_GET_GS: {
        uint64_t v = a[0] == ARCH_GET_FS ? c.task.cpu->fs_base() : c.task.cpu->gs_base();
        return copy_to_user(c.mm, VirtAddr(a[1]), &v, sizeof v) ? 0 : -EFAULT;
    }
    case ARCH_GET_CPUID: return 1;
    case ARCH_SET_CPUID: return -ENODEV;
    default: return -EINVAL;
    }
}

long sys_set_thread_area(SysCtx& c, const uint64_t* a) {
    uint32_t raw[4];
    if (!copy_from_user(c.mm, raw, VirtAddr(a[0]), sizeof raw)) return -EFAULT;
    int idx = static_cast<int32_t>(raw[0]);
    if (idx == -1) {  // pick the first free TLS slot and tell the caller which
        for (int i = 0; i < GDT_ENTRY_TLS_ENTRIES && idx == -1; ++i)
            if (c.task.tls_array[i].empty) idx = GDT_ENTRY_TLS_MIN_I386 + i;
        if (idx == -1) return -ESRCH;
        raw[0] = static_cast<uint32_t>(idx);
        if (!copy_to_user(c.mm, VirtAddr(a[0]), raw, 4)) return -EFAULT;
    }
    if (idx < GDT_ENTRY_TLS_MIN_I386 || idx >= GDT_ENTRY_TLS_MIN_I386 + GDT_ENTRY_TLS_ENTRIES) return -EINVAL;
    user_desc& u = c.task.tls_array[idx - GDT_ENTRY_TLS_MIN_I386];
    u = user_desc{raw[0], raw[1], raw[2], raw[3], ldt_empty(raw)};
    c.task.cpu->write_gdt_entry(idx, fill_ldt(u));
    return 0;
}

long sys_get_thread_area(SysCtx& c, const uint64_t* a) {
    uint32_t idx;
    if (!copy_from_user(c.mm, &idx, VirtAddr(a[0]), 4)) return -EFAULT;
    if (idx < GDT_ENTRY_TLS_MIN_I386 || idx >= GDT_ENTRY_TLS_MIN_I386 + GDT_ENTRY_TLS_ENTRIES) return -EINVAL;
    const user_desc& u = c.task.tls_array[idx - GDT_ENTRY_TLS_MIN_I386];
    uint32_t raw[4] = {idx, u.base_addr, u.limit, u.empty ? 0x28u : u.flags};
    return copy_to_user(c.mm, VirtAddr(a[0]), raw, sizeof raw) ? 0 : -EFAULT;
}

long sys_set_tid_address(SysCtx& c, const uint64_t* a) {
    c.task.clear_child_tid = a[0];
    return c.task.pid;
}

long sys_set_robust_list(SysCtx& c, const uint64_t* a) {
    if (a[1] != 3 * c.ptr_size()) return -EINVAL;  // sizeof(struct robust_list_head)
    c.task.robust_list = a[0];
    c.task.robust_list_len = a[1];
    return 0;
}

long sys_rseq(SysCtx&, const uint64_t*) { return -ENOSYS; }

// do_prlimit's checks of a new limit: cur within max, max raised only with privilege, and
// RLIMIT_NOFILE never above fs.nr_open (EPERM), so no fd table can be asked to grow past it.
static long check_new_rlimit(uint64_t resource, const rlimit64& nw, const rlimit64& old) {
    if (nw.rlim_cur > nw.rlim_max) return -EINVAL;
    if (nw.rlim_max > old.rlim_max && !capable(CAP_SYS_RESOURCE_)) return -EPERM;
    if (resource == RLIMIT_NOFILE_ && nw.rlim_max > NR_OPEN_DEFAULT_MAX) return -EPERM;
    return 0;
}

long sys_prlimit64(SysCtx& c, const uint64_t* a) {
    if (a[0] != 0 && static_cast<int>(a[0]) != c.task.tgid) return -ESRCH;
    if (a[1] >= RLIM_NLIMITS) return -EINVAL;
    rlimit64& r = task_rlimit(c.task, a[1]);
    rlimit64 nw{};
    if (a[2]) {
        if (!copy_from_user(c.mm, &nw, VirtAddr(a[2]), sizeof nw)) return -EFAULT;
        if (long e = check_new_rlimit(a[1], nw, r)) return e;
    }
    if (a[3] && !copy_to_user(c.mm, VirtAddr(a[3]), &r, sizeof r)) return -EFAULT;
    if (a[2]) r = nw;
    if (a[2] && a[1] == RLIMIT_STACK_) c.mm.stack_rlimit = nw.rlim_cur;  // RLIMIT_STACK bounds expand_stack
    return 0;
}

long sys_getrlimit(SysCtx& c, const uint64_t* a) {
    if (a[0] >= RLIM_NLIMITS) return -EINVAL;
    const rlimit64& r = task_rlimit(c.task, a[0]);
    return copy_to_user(c.mm, VirtAddr(a[1]), &r, sizeof r) ? 0 : -EFAULT;
}
long sys_ugetrlimit(SysCtx& c, const uint64_t* a) { return do_getrlimit_compat(c, a, 0xffffffffu); }
long sys_old_getrlimit(SysCtx& c, const uint64_t* a) { return do_getrlimit_compat(c, a, 0x7fffffffu); }

long sys_setrlimit(SysCtx& c, const uint64_t* a) {
    if (a[0] >= RLIM_NLIMITS) return -EINVAL;
    rlimit64 nw;
    if (c.compat) {
        uint32_t v[2];
        if (!copy_from_user(c.mm, v, VirtAddr(a[1]), sizeof v)) return -EFAULT;
        nw.rlim_cur = v[0] == 0xffffffffu ? ~0ull : v[0];
        nw.rlim_max = v[1] == 0xffffffffu ? ~0ull : v[1];
    } else if (!copy_from_user(c.mm, &nw, VirtAddr(a[1]), sizeof nw)) {
        return -EFAULT;
    }
    rlimit64& r = task_rlimit(c.task, a[0]);
    if (long e = check_new_rlimit(a[0], nw, r)) return e;
    r = nw;
    if (a[0] == RLIMIT_STACK_) c.mm.stack_rlimit = nw.rlim_cur;  // RLIMIT_STACK bounds expand_stack
    return 0;
}

long sys_getrandom(SysCtx& c, const uint64_t* a) {
    if (a[2] & ~0x7ull) return -EINVAL;  // GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE
    if ((a[2] & 0x6) == 0x6) return -EINVAL;
    uint64_t len = std::min<uint64_t>(a[1], 33554431);
    std::vector<uint8_t> buf(len);
    ssize_t r = ::getrandom(buf.data(), len, static_cast<unsigned>(a[2] & 1));
    if (r < 0) return host_errno();
    return copy_to_user(c.mm, VirtAddr(a[0]), buf.data(), static_cast<uint64_t>(r)) ? r : -EFAULT;
}

long sys_clock_gettime(SysCtx& c, const uint64_t* a) { return do_clock_gettime(c, a, false); }
long sys_clock_gettime64(SysCtx& c, const uint64_t* a) { return do_clock_gettime(c, a, true); }
long sys_clock_getres(SysCtx& c, const uint64_t* a) { return do_clock_getres(c, a, false); }
long sys_clock_getres_time64(SysCtx& c, const uint64_t* a) { return do_clock_getres(c, a, true); }

long sys_gettimeofday(SysCtx& c, const uint64_t* a) {
    struct timeval tv;
    gettimeofday(&tv, nullptr);
    if (a[0]) {
        bool ok = c.compat ? [&] {
            int32_t v[2] = {static_cast<int32_t>(tv.tv_sec), static_cast<int32_t>(tv.tv_usec)};
            return copy_to_user(c.mm, VirtAddr(a[0]), v, sizeof v);
        }()
                           : [&] {
                                 int64_t v[2] = {tv.tv_sec, tv.tv_usec};
                                 return copy_to_user(c.mm, VirtAddr(a[0]), v, sizeof v);
                             }();
        if (!ok) return -EFAULT;
    }
    if (a[1]) {
        int32_t tz[2] = {0, 0};
        if (!copy_to_user(c.mm, VirtAddr(a[1]), tz, sizeof tz)) return -EFAULT;
    }
    return 0;
}

long sys_time(SysCtx& c, const uint64_t* a) {
    time_t t = ::time(nullptr);
    if (a[0] && !put_user_long(c, VirtAddr(a[0]), static_cast<uint64_t>(t))) return -EFAULT;
    return static_cast<long>(c.compat ? static_cast<int32_t>(t) : t);
}

long sys_getpid(SysCtx& c, const uint64_t*) { return c.task.tgid; }
long sys_gettid(SysCtx& c, const uint64_t*) { return c.task.pid; }
long sys_getppid(SysCtx&, const uint64_t*) { return ::getppid(); }
long sys_getuid(SysCtx&, const uint64_t*) { return ::getuid(); }
long sys_geteuid(SysCtx&, const uint64_t*) { return ::geteuid(); }
long sys_getgid(SysCtx&, const uint64_t*) { return ::getgid(); }
long sys_getegid(SysCtx&, const uint64_t*) { return ::getegid(); }
// The 16-bit ids of old i386 calls: ids above 65535 show as the overflow id 65534.
static long uid16(long id) { return id > 65535 ? 65534 : id; }
long sys_getuid16(SysCtx&, const uint64_t*) { return uid16(::getuid()); }
long sys_geteuid16(SysCtx&, const uint64_t*) { return uid16(::geteuid()); }
long sys_getgid16(SysCtx&, const uint64_t*) { return uid16(::getgid()); }
long sys_getegid16(SysCtx&, const uint64_t*) { return uid16(::getegid()); }
long sys_getpgrp(SysCtx&, const uint64_t*) { return ::getpgrp(); }
long sys_getpgid(SysCtx& c, const uint64_t* a) {
    if (a[0] && static_cast<int>(a[0]) != c.task.tgid) return -ESRCH;
    return ::getpgid(0);
}
long sys_getsid(SysCtx& c, const uint64_t* a) {
    if (a[0] && static_cast<int>(a[0]) != c.task.tgid) return -ESRCH;
    return ::getsid(0);
}

long sys_sched_yield(SysCtx&, const uint64_t*) { return 0; }

long sys_sched_getaffinity(SysCtx& c, const uint64_t* a) {
    if (a[0] && static_cast<int>(a[0]) != c.task.tgid) return -ESRCH;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) < 0) return host_errno();
    const uint64_t size = c.ptr_size();  // one long holds every CPU of this machine
    if (a[1] < size || (a[1] & (size - 1))) return -EINVAL;
    return copy_to_user(c.mm, VirtAddr(a[2]), &set, size) ? static_cast<long>(size) : -EFAULT;
}

// futex_wait with one thread: no FUTEX_WAKE can come, so after the value check the wait
// ends at its timeout (-ETIMEDOUT) or with a signal: -ERESTARTSYS without a timeout, else
// -ERESTART_RESTARTBLOCK, to wait out the rest through restart_syscall (futex_wait_restart).
static long futex_wait(SysCtx& c) {
    const auto& f = c.task.restart_block.futex;
    uint32_t cur;
    if (!copy_from_user(c.mm, &cur, VirtAddr(f.uaddr), 4)) return -EFAULT;
    if (cur != f.val) return -EAGAIN;
    for (;;) {
        const ktime_t now = f.expires ? clock_now(f.clockid) : 0;
        if (f.expires && now >= f.expires) return -ETIMEDOUT;
        if (signal_pending(c.task)) {
            if (!f.expires) return -ERESTARTSYS;
            c.task.restart_block.fn = &futex_wait;
            return -ERESTART_RESTARTBLOCK;
        }
        std::optional<ktime_t> until;
        if (f.expires) until = ktime_add_safe(ktime_get(), f.expires - now);
        schedule_hrtimeout(c.task, until, "a futex wait");
    }
}

// futex with one thread: WAIT waits as above; WAKE finds no waiter.
static long do_futex(SysCtx& c, const uint64_t* a, bool time64) {
    enum { FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5,
           FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10 };
    constexpr uint64_t FUTEX_CLOCK_REALTIME = 256;
    const int cmd = static_cast<int>(a[1] & 0x7f);
    switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
        auto& f = c.task.restart_block.futex;
        f = {};
        if (a[3]) {  // the timeout: relative on CLOCK_MONOTONIC for FUTEX_WAIT, else absolute
            timespec ts;
            if (!get_timespec(c, VirtAddr(a[3]), ts, time64)) return -EFAULT;
            if (!timespec_valid(ts)) return -EINVAL;
            f.clockid = (a[1] & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME : CLOCK_MONOTONIC;
            f.expires = cmd == FUTEX_WAIT ? ktime_add_safe(clock_now(f.clockid), timespec_to_ktime(ts))
                                          : std::max<ktime_t>(timespec_to_ktime(ts), 1);
        }
        if (cmd == FUTEX_WAIT_BITSET && !static_cast<uint32_t>(a[5])) return -EINVAL;
        if (a[0] & 3) return -EINVAL;
        f.uaddr = a[0];
        f.val = static_cast<uint32_t>(a[2]);
        return futex_wait(c);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
    case FUTEX_WAKE_OP: return (a[0] & 3) ? -EINVAL : 0;
    default: return -ENOSYS;
    }
}
long sys_futex(SysCtx& c, const uint64_t* a) { return do_futex(c, a, false); }
long sys_futex_time64(SysCtx& c, const uint64_t* a) { return do_futex(c, a, true); }

}  // namespace guestos
