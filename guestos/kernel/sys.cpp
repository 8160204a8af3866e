// Identity, time, limit, randomness and TLS syscalls.
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

#include "guestos/kernel/time/timekeeping.h"
#include "guestos/include/cred.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/arch/x86/kernel/tls.h"
#include "guestos/include/kernel.h"
#include "guestos/include/syscalls.h"
#include "guestos/kernel/time/posix-cpu-timers.h"
#include "guestos/kernel/time/time.h"
#include "guestos/fs/proc/meminfo.h"
#include <sys/times.h>
#include <algorithm>

namespace guestos {

namespace {

long host_errno() { return -static_cast<long>(errno); }

// The value of a CPU-time clock (posix_cpu_clock_get): the guest time charged to the thread
// or to the whole process, all of it (CPUCLOCK_SCHED, CPUCLOCK_PROF) or its user part
// (CPUCLOCK_VIRT); -EINVAL when the clock names nothing.
long posix_cpu_clock_get(SysCtx& c, clockid_t clk, ktime_t& out) {
    task_struct* t = cpu_clock_task(c.kernel, c.task, clk);
    if (!t) return -EINVAL;
    const int which = clk & 3;
    out = (clk & 4) ? cpu_clock_sample(which, *t) : cpu_clock_sample_group(which, *t);
    return 0;
}

long do_clock_gettime(SysCtx& c, const uint64_t* a, bool time64) {
    timespec ts;
    const auto clk = static_cast<clockid_t>(a[0]);
    // The clocks the vDSO answers come from the same timekeeper, the CPU-time clocks from the
    // guest's accounting; the others are the host's.
    if (auto t = timekeeping_read(clk)) {
        ts = ktime_to_timespec(*t);
    } else if (is_cpu_clockid(clk)) {
        ktime_t t = 0;
        if (long e = posix_cpu_clock_get(c, clk, t)) return e;
        ts = ktime_to_timespec(t);
    } else if (clock_gettime(clk, &ts) < 0) {
        return host_errno();
    }
    return put_timespec(c, VirtAddr(a[1]), ts, time64) ? 0 : -EFAULT;
}

long do_clock_getres(SysCtx& c, const uint64_t* a, bool time64) {
    timespec ts;
    const auto clk = static_cast<clockid_t>(a[0]);
    if (clockid_t cpu = clk; is_cpu_clockid(clk)) {  // posix_cpu_clock_getres: a jiffy, 1 ns for CPUCLOCK_SCHED
        if (!cpu_clock_task(c.kernel, c.task, cpu)) return -EINVAL;
        constexpr long HZ = 250;
        ts = {0, (cpu & 3) == 2 ? 1 : (NSEC_PER_SEC + HZ - 1) / HZ};
    } else if (clock_getres(clk, &ts) < 0) {
        return host_errno();
    }
    if (!a[1]) return 0;
    return put_timespec(c, VirtAddr(a[1]), ts, time64) ? 0 : -EFAULT;
}

// The limit a guest sees: the host's, except the stack, which is emu's own 8 MiB.
rlimit64& task_rlimit(task_struct& t, uint64_t res) { return t.signal->rlim[res]; }

long do_getrlimit_compat(SysCtx& c, const uint64_t* a, uint32_t infinity) {
    if (a[0] >= RLIM_NLIMITS) return -EINVAL;
    const rlimit64& r = task_rlimit(c.task, a[0]);
    auto clamp = [&](uint64_t v) { return v > infinity ? infinity : static_cast<uint32_t>(v); };
    uint32_t v[2] = {clamp(r.rlim_cur), clamp(r.rlim_max)};
    return copy_to_user(c.mm, VirtAddr(a[1]), v, sizeof v) ? 0 : -EFAULT;
}

// LDT_empty / LDT_zero: the descriptor a user_desc asks to clear.
bool ldt_empty(const uint32_t raw[4]) {
    const uint32_t f = raw[3];
    bool zero = raw[1] == 0 && raw[2] == 0 && f == 0;
    bool classic =
        raw[1] == 0 && raw[2] == 0 && ((f >> 1) & 3) == 0 && (f & 8) && !(f & 1) && !(f & 16) && (f & 32) && !(f & 64);
    return zero || classic;
}

}  // namespace

new_utsname& Kernel::utsname() {
    if (!uts_) {
        struct utsname h;
        uts_.emplace();
        if (::uname(&h) == 0) {
            static_assert(sizeof h.nodename == NEW_UTS_LEN_ + 1);
            std::memcpy(uts_->sysname, h.sysname, sizeof h.sysname);
            std::memcpy(uts_->nodename, h.nodename, sizeof h.nodename);
            std::memcpy(uts_->release, h.release, sizeof h.release);
            std::memcpy(uts_->version, h.version, sizeof h.version);
            std::memcpy(uts_->machine, h.machine, sizeof h.machine);
            std::memcpy(uts_->domainname, h.domainname, sizeof h.domainname);
        }
    }
    return *uts_;
}

// uname: the names, with "i686" as the machine under PER_LINUX32 (override_architecture).
long sys_uname(SysCtx& c, const uint64_t* a) {
    new_utsname u = c.kernel.utsname();
    if ((c.task.personality & 0xff) == 0x0008 /* PER_LINUX32 */) std::strcpy(u.machine, "i686");
    return copy_to_user(c.mm, VirtAddr(a[0]), &u, sizeof u) ? 0 : -EFAULT;
}

// sethostname/setdomainname: CAP_SYS_ADMIN, at most 64 bytes, stored NUL-padded.
static long set_uts_field(SysCtx& c, char (&field)[NEW_UTS_LEN_ + 1], uint64_t name, uint64_t len_arg) {
    const int len = static_cast<int32_t>(len_arg);
    if (!capable(CAP_SYS_ADMIN_)) return -EPERM;
    if (len < 0 || len > NEW_UTS_LEN_) return -EINVAL;
    char tmp[NEW_UTS_LEN_] = {};
    if (!copy_from_user(c.mm, tmp, VirtAddr(name), static_cast<uint64_t>(len))) return -EFAULT;
    std::memset(field, 0, sizeof field);
    std::memcpy(field, tmp, static_cast<size_t>(len));
    return 0;
}
long sys_sethostname(SysCtx& c, const uint64_t* a) { return set_uts_field(c, c.kernel.utsname().nodename, a[0], a[1]); }
long sys_setdomainname(SysCtx& c, const uint64_t* a) {
    return set_uts_field(c, c.kernel.utsname().domainname, a[0], a[1]);
}

long sys_arch_prctl(SysCtx& c, const uint64_t* a) {
    enum {
        ARCH_SET_GS = 0x1001,
        ARCH_SET_FS = 0x1002,
        ARCH_GET_FS = 0x1003,
        ARCH_GET_GS = 0x1004,
        ARCH_GET_CPUID = 0x1011,
        ARCH_SET_CPUID = 0x1012
    };
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
    d |= 1ull << 44;                                     // s: code/data
    d |= 3ull << 45;                                     // dpl 3
    d |= static_cast<uint64_t>(!seg_not_present) << 47;  // p
    d |= static_cast<uint64_t>((u.limit >> 16) & 0xf) << 48;
    d |= static_cast<uint64_t>(useable) << 52;
    d |= static_cast<uint64_t>(seg_32bit) << 54;
    d |= static_cast<uint64_t>(limit_in_pages) << 55;
    d |= static_cast<uint64_t>(u.base_addr >> 24) << 56;
    return d;
}

long do_set_thread_area(task_struct& t, mm_struct& mm, VirtAddr u_info, bool load) {
    uint32_t raw[4];
    if (!copy_from_user(mm, raw, u_info, sizeof raw)) return -EFAULT;
    int idx = static_cast<int32_t>(raw[0]);
    if (idx == -1) {  // pick the first free TLS slot and tell the caller which
        for (int i = 0; i < GDT_ENTRY_TLS_ENTRIES && idx == -1; ++i)
            if (t.tls_array[i].empty) idx = GDT_ENTRY_TLS_MIN_I386 + i;
        if (idx == -1) return -ESRCH;
        raw[0] = static_cast<uint32_t>(idx);
        if (!copy_to_user(mm, u_info, raw, 4)) return -EFAULT;
    }
    if (idx < GDT_ENTRY_TLS_MIN_I386 || idx >= GDT_ENTRY_TLS_MIN_I386 + GDT_ENTRY_TLS_ENTRIES) return -EINVAL;
    user_desc& u = t.tls_array[idx - GDT_ENTRY_TLS_MIN_I386];
    u = user_desc{raw[0], raw[1], raw[2], raw[3], ldt_empty(raw)};
    if (load && t.cpu) t.cpu->write_gdt_entry(idx, fill_ldt(u));
    return 0;
}

long sys_set_thread_area(SysCtx& c, const uint64_t* a) {
    return do_set_thread_area(c.task, c.mm, VirtAddr(a[0]), true);
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
    if (a[2] && a[1] == RLIMIT_CPU_) c.kernel.tick_program_event();      // update_rlimit_cpu
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
    if (a[0] == RLIMIT_CPU_) c.kernel.tick_program_event();      // update_rlimit_cpu
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
    const timespec now = ktime_to_timespec(clock_now(CLOCK_REALTIME));
    const timeval tv{now.tv_sec, now.tv_nsec / 1000};
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
    const time_t t = clock_now(CLOCK_REALTIME_COARSE) / NSEC_PER_SEC;  // ktime_get_real_seconds
    if (a[0] && !put_user_long(c, VirtAddr(a[0]), static_cast<uint64_t>(t))) return -EFAULT;
    return static_cast<long>(c.compat ? static_cast<int32_t>(t) : t);
}

long sys_getpid(SysCtx& c, const uint64_t*) { return c.task.tgid; }
long sys_gettid(SysCtx& c, const uint64_t*) { return c.task.pid; }
// The parent's pid; 1 (emu's init) for the first program and for orphans.
long sys_getppid(SysCtx& c, const uint64_t*) {
    const task_struct* p = c.task.group_leader->real_parent;
    return p ? p->tgid : 1;
}
// The task of pid (0: the caller), or null; a zombie is found until it is reaped, and its
// group and session stay with it (find_task_by_vpid, task_pgrp).
static task_struct* find_process(SysCtx& c, uint64_t pid) {
    if (!static_cast<int32_t>(pid)) return &c.task;
    task_struct* t = c.kernel.find_task_by_vpid(static_cast<int32_t>(pid));
    return t && t->exit_state != EXIT_DEAD ? t : nullptr;
}

long sys_getpgrp(SysCtx& c, const uint64_t*) { return c.task.signal->pgrp; }
long sys_getpgid(SysCtx& c, const uint64_t* a) {
    task_struct* t = find_process(c, a[0]);
    return t ? t->signal->pgrp : -ESRCH;
}
long sys_getsid(SysCtx& c, const uint64_t* a) {
    task_struct* t = find_process(c, a[0]);
    return t ? t->signal->session : -ESRCH;
}

// setpgid(pid, pgid): the caller or a child of its, into a group of its session (ksys_setpgid).
long sys_setpgid(SysCtx& c, const uint64_t* a) {
    const int32_t pid = static_cast<int32_t>(a[0]);
    int32_t pgid = static_cast<int32_t>(a[1]);
    if (pgid < 0) return -EINVAL;
    task_struct* p = pid ? c.kernel.find_task_by_vpid(pid) : c.task.group_leader;
    if (!p || !p->thread_group_leader() || p->exit_state) return -ESRCH;
    if (!pgid) pgid = p->tgid;
    if (p->tgid != c.task.tgid) {  // a child: in our session, and not after its execve
        if (!p->real_parent || p->real_parent->tgid != c.task.tgid) return -ESRCH;
        if (p->signal->session != c.task.signal->session) return -EPERM;
        if (!(p->flags & PF_FORKNOEXEC)) return -EACCES;
    }
    if (p->signal->session == p->tgid) return -EPERM;  // a session leader stays in its group
    if (pgid != p->tgid) {                             // joining a group: it must exist in the same session
        bool ok = false;
        for (task_struct* t : c.kernel.all_tasks())
            if (!t->exited && t->signal->pgrp == pgid && t->signal->session == c.task.signal->session) ok = true;
        if (!ok) return -EPERM;
    }
    p->signal->pgrp = pgid;
    return 0;
}

// setsid: a new session and group led by the caller, unless it leads a group already.
long sys_setsid(SysCtx& c, const uint64_t*) {
    const int sid = c.task.tgid;
    for (task_struct* t : c.kernel.all_tasks())
        if (!t->exited && t->signal->pgrp == sid) return -EPERM;
    c.task.signal->pgrp = c.task.signal->session = sid;
    c.task.signal->tty = nullptr;  // proc_clear_tty
    return sid;
}

// Gives the CPU to the next runnable task, if any (do_sched_yield).
long sys_sched_yield(SysCtx& c, const uint64_t*) {
    c.task.need_resched = !c.kernel.runqueue().queue.empty();
    return 0;
}

// ---- prctl, resource usage, sysinfo, times, affinity (kernel/sys.c, kernel/sched/core.c) ----

namespace {

// A thread's CPU time split as cputime_adjust splits it: stime at most the runtime, utime
// the rest.
void thread_times(const task_struct& t, int64_t& utime, int64_t& stime) {
    stime = std::min(t.stime_ns, t.sum_exec_runtime);
    utime = t.sum_exec_runtime - stime;
}

void add_thread(task_rusage& r, const task_struct& t) {
    int64_t u, s;
    thread_times(t, u, s);
    r.utime_ns += u, r.stime_ns += s;
    r.min_flt += t.min_flt, r.maj_flt += t.maj_flt, r.nvcsw += t.nvcsw, r.nivcsw += t.nivcsw;
}

uint64_t mm_maxrss_kb(const task_struct& t) {
    return t.mm ? std::max(t.mm->hiwater_rss, t.mm->rss()) * (PAGE_SIZE >> 10) : 0;
}

}  // namespace

task_rusage k_getrusage(task_struct& t, RusageWho who) {
    if (t.kernel) account_curr(*t.kernel);
    task_rusage r;
    const signal_struct& sig = *t.signal;
    if (who == RusageWho::Thread) {
        add_thread(r, t);
        r.maxrss_kb = std::max(sig.maxrss, mm_maxrss_kb(t));
        return r;
    }
    if (who == RusageWho::Children || who == RusageWho::Both) {
        r.utime_ns = sig.cutime_ns, r.stime_ns = sig.cstime_ns;
        r.min_flt = sig.cmin_flt, r.maj_flt = sig.cmaj_flt, r.nvcsw = sig.cnvcsw, r.nivcsw = sig.cnivcsw;
        r.maxrss_kb = sig.cmaxrss;
    }
    if (who == RusageWho::Self || who == RusageWho::Both) {
        r.utime_ns += sig.utime_ns, r.stime_ns += sig.stime_ns;
        r.min_flt += sig.min_flt, r.maj_flt += sig.maj_flt, r.nvcsw += sig.nvcsw, r.nivcsw += sig.nivcsw;
        for (const task_struct* th : sig.thread_head) add_thread(r, *th);
        r.maxrss_kb = std::max({r.maxrss_kb, sig.maxrss, mm_maxrss_kb(t)});
    }
    return r;
}

bool put_rusage(SysCtx& c, uint64_t ru, const task_rusage& r) {
    if (!ru) return true;
    // ru_utime, ru_stime, then maxrss ixrss idrss isrss minflt majflt nswap inblock oublock
    // msgsnd msgrcv nsignals nvcsw nivcsw.
    const int64_t v[18] = {r.utime_ns / NSEC_PER_SEC,
                           (r.utime_ns % NSEC_PER_SEC) / NSEC_PER_USEC,
                           r.stime_ns / NSEC_PER_SEC,
                           (r.stime_ns % NSEC_PER_SEC) / NSEC_PER_USEC,
                           static_cast<int64_t>(r.maxrss_kb),
                           0,
                           0,
                           0,
                           static_cast<int64_t>(r.min_flt),
                           static_cast<int64_t>(r.maj_flt),
                           0,
                           0,
                           0,
                           0,
                           0,
                           0,
                           static_cast<int64_t>(r.nvcsw),
                           static_cast<int64_t>(r.nivcsw)};
    if (!c.compat) return copy_to_user(c.mm, VirtAddr(ru), v, sizeof v);
    int32_t v32[18];
    for (int i = 0; i < 18; ++i) v32[i] = static_cast<int32_t>(v[i]);
    return copy_to_user(c.mm, VirtAddr(ru), v32, sizeof v32);
}

void account_exited_thread(task_struct& t) {
    signal_struct& sig = *t.signal;
    if (t.kernel && t.kernel->runqueue().curr == &t) account_curr(*t.kernel);
    int64_t u, s;
    thread_times(t, u, s);
    sig.utime_ns += u, sig.stime_ns += s;
    sig.min_flt += t.min_flt, sig.maj_flt += t.maj_flt, sig.nvcsw += t.nvcsw, sig.nivcsw += t.nivcsw;
    sig.maxrss = std::max(sig.maxrss, mm_maxrss_kb(t));
}

void account_reaped_child(task_struct& parent, task_struct& child) {
    signal_struct& psig = *parent.signal;
    const task_rusage r = k_getrusage(child, RusageWho::Both);
    psig.cutime_ns += r.utime_ns, psig.cstime_ns += r.stime_ns;
    psig.cmin_flt += r.min_flt, psig.cmaj_flt += r.maj_flt, psig.cnvcsw += r.nvcsw, psig.cnivcsw += r.nivcsw;
    psig.cmaxrss = std::max(psig.cmaxrss, r.maxrss_kb);
}

long sys_getrusage(SysCtx& c, const uint64_t* a) {
    constexpr int RUSAGE_SELF_ = 0, RUSAGE_CHILDREN_ = -1, RUSAGE_THREAD_ = 1;
    const int who = static_cast<int32_t>(a[0]);
    RusageWho w;
    if (who == RUSAGE_SELF_) w = RusageWho::Self;
    else if (who == RUSAGE_CHILDREN_) w = RusageWho::Children;
    else if (who == RUSAGE_THREAD_) w = RusageWho::Thread;
    else return -EINVAL;
    return put_rusage(c, a[1], k_getrusage(c.task, w)) ? 0 : -EFAULT;
}

// times: CPU times in clock ticks (USER_HZ 100) and the host's tick count, as the native
// call returns it.
long sys_times(SysCtx& c, const uint64_t* a) {
    constexpr int64_t NSEC_PER_TICK = NSEC_PER_SEC / 100;
    if (a[0]) {
        const task_rusage self = k_getrusage(c.task, RusageWho::Self);
        const task_rusage ch = k_getrusage(c.task, RusageWho::Children);
        const int64_t v[4] = {self.utime_ns / NSEC_PER_TICK, self.stime_ns / NSEC_PER_TICK, ch.utime_ns / NSEC_PER_TICK,
                              ch.stime_ns / NSEC_PER_TICK};
        bool ok;
        if (c.compat) {
            const int32_t v32[4] = {static_cast<int32_t>(v[0]), static_cast<int32_t>(v[1]), static_cast<int32_t>(v[2]),
                                    static_cast<int32_t>(v[3])};
            ok = copy_to_user(c.mm, VirtAddr(a[0]), v32, sizeof v32);
        } else {
            ok = copy_to_user(c.mm, VirtAddr(a[0]), v, sizeof v);
        }
        if (!ok) return -EFAULT;
    }
    struct tms host;
    const long ticks = static_cast<long>(::times(&host));
    return c.compat ? static_cast<int32_t>(ticks) : ticks;
}

// sysinfo: uptime, load, and the guest's own memory figures in bytes (mem_unit 1).
long sys_sysinfo(SysCtx& c, const uint64_t* a) {
    const timespec up = ktime_to_timespec(clock_now(CLOCK_BOOTTIME));
    const int64_t uptime = up.tv_sec + (up.tv_nsec ? 1 : 0);
    si_meminfo_pages m;
    if (const BuddyAllocator* b = c.kernel.buddy()) m = si_meminfo(*b);
    uint64_t procs = 0;
    for (task_struct* t : c.kernel.all_tasks())
        if (!t->exited) ++procs;
    uint64_t load[3];
    get_avenrun(c.kernel, load, 0, SI_LOAD_SHIFT - FSHIFT);
    const uint64_t ps = PAGE_SIZE;
    const uint64_t f[] = {static_cast<uint64_t>(uptime),
                          load[0],
                          load[1],
                          load[2],
                          m.totalram * ps,
                          m.freeram * ps,
                          m.sharedram * ps,
                          m.bufferram * ps,
                          0,
                          0};
    if (!c.compat) {
        uint8_t buf[112] = {};
        std::memcpy(buf, f, sizeof f);
        const uint16_t pr = static_cast<uint16_t>(procs);
        std::memcpy(buf + 80, &pr, 2);
        const uint64_t high[2] = {m.totalhigh * ps, m.freehigh * ps};
        std::memcpy(buf + 88, high, sizeof high);
        const uint32_t unit = 1;
        std::memcpy(buf + 104, &unit, 4);
        return copy_to_user(c.mm, VirtAddr(a[0]), buf, sizeof buf) ? 0 : -EFAULT;
    }
    uint8_t buf[64] = {};
    for (int i = 0; i < 10; ++i) {
        const uint32_t v = static_cast<uint32_t>(f[i]);
        std::memcpy(buf + 4 * i, &v, 4);
    }
    const uint16_t pr = static_cast<uint16_t>(procs);
    std::memcpy(buf + 40, &pr, 2);
    const uint32_t high[2] = {static_cast<uint32_t>(m.totalhigh * ps), static_cast<uint32_t>(m.freehigh * ps)};
    std::memcpy(buf + 44, high, sizeof high);
    const uint32_t unit = 1;
    std::memcpy(buf + 52, &unit, 4);
    return copy_to_user(c.mm, VirtAddr(a[0]), buf, sizeof buf) ? 0 : -EFAULT;
}

namespace {

uint64_t host_cpus_mask() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) < 0) return 1;
    uint64_t m = 0;
    for (int i = 0; i < 64; ++i)
        if (CPU_ISSET(i, &set)) m |= 1ull << i;
    return m ? m : 1;
}

}  // namespace

long sys_sched_getaffinity(SysCtx& c, const uint64_t* a) {
    task_struct* t = find_process_by_pid(c, a[0]);
    if (!t) return -ESRCH;
    const uint64_t size = c.ptr_size();  // one long holds every CPU of this machine
    if (a[1] < size || (a[1] & (size - 1))) return -EINVAL;
    const uint64_t mask = t->cpus_mask ? t->cpus_mask : host_cpus_mask();
    return copy_to_user(c.mm, VirtAddr(a[2]), &mask, size) ? static_cast<long>(size) : -EFAULT;
}

long sys_sched_setaffinity(SysCtx& c, const uint64_t* a) {
    uint64_t mask = 0;  // get_user_cpu_mask: the bytes given, the rest zero
    const uint64_t len = std::min<uint64_t>(a[1], sizeof mask);
    if (len && !copy_from_user(c.mm, &mask, VirtAddr(a[2]), len)) return -EFAULT;
    task_struct* t = find_process_by_pid(c, a[0]);
    if (!t) return -ESRCH;
    // check_same_owner: the caller's euid is t's uid or euid, or it has CAP_SYS_NICE.
    if (t->cred.uid != c.task.cred.euid && t->cred.euid != c.task.cred.euid && !capable(CAP_SYS_NICE_)) return -EPERM;
    mask &= host_cpus_mask();
    if (!mask) return -EINVAL;
    t->cpus_mask = mask;
    return 0;
}

// getcpu: the first CPU the task may run on (emu runs everything on one host thread), node 0.
long sys_getcpu(SysCtx& c, const uint64_t* a) {
    const uint64_t mask = c.task.cpus_mask ? c.task.cpus_mask : host_cpus_mask();
    const uint32_t cpu = static_cast<uint32_t>(__builtin_ctzll(mask)), node = 0;
    if (a[0] && !copy_to_user(c.mm, VirtAddr(a[0]), &cpu, 4)) return -EFAULT;
    if (a[1] && !copy_to_user(c.mm, VirtAddr(a[1]), &node, 4)) return -EFAULT;
    return 0;
}

// prctl (kernel/sys.c): the options programs use; others EINVAL as Linux gives for an
// option it does not know.
long sys_prctl(SysCtx& c, const uint64_t* a) {
    enum {
        PR_SET_PDEATHSIG = 1,
        PR_GET_PDEATHSIG = 2,
        PR_GET_DUMPABLE = 3,
        PR_SET_DUMPABLE = 4,
        PR_SET_NAME = 15,
        PR_GET_NAME = 16,
        PR_SET_CHILD_SUBREAPER = 36,
        PR_GET_CHILD_SUBREAPER = 37,
        PR_SET_NO_NEW_PRIVS = 38,
        PR_GET_NO_NEW_PRIVS = 39,
    };
    const int option = static_cast<int32_t>(a[0]);
    const uint64_t arg2 = a[1];
    auto put_int = [&](int v) { return copy_to_user(c.mm, VirtAddr(arg2), &v, 4) ? 0 : -EFAULT; };
    switch (option) {
    case PR_SET_PDEATHSIG:
        if (arg2 > static_cast<uint64_t>(KERNEL_NSIG)) return -EINVAL;  // !valid_signal
        c.task.pdeath_signal = static_cast<int>(arg2);
        return 0;
    case PR_GET_PDEATHSIG: return put_int(c.task.pdeath_signal);
    case PR_GET_DUMPABLE: return c.task.signal->dumpable;
    case PR_SET_DUMPABLE:
        if (arg2 != 0 && arg2 != 1) return -EINVAL;  // SUID_DUMP_DISABLE or SUID_DUMP_USER
        c.task.signal->dumpable = static_cast<int>(arg2);
        return 0;
    case PR_SET_NAME: {  // the first 15 bytes, NUL-terminated (TASK_COMM_LEN)
        char comm[16] = {};
        for (int i = 0; i < 15; ++i) {
            if (!copy_from_user(c.mm, &comm[i], VirtAddr(arg2 + i), 1)) return -EFAULT;
            if (!comm[i]) break;
        }
        c.task.comm = comm;
        return 0;
    }
    case PR_GET_NAME: {
        char comm[16] = {};
        std::memcpy(comm, c.task.comm.data(), std::min<size_t>(c.task.comm.size(), 15));
        return copy_to_user(c.mm, VirtAddr(arg2), comm, sizeof comm) ? 0 : -EFAULT;
    }
    case PR_SET_CHILD_SUBREAPER:
        c.task.signal->is_child_subreaper = arg2 != 0;
        if (arg2)  // every descendant now has a subreaper above it
            for (task_struct* t : c.kernel.all_tasks())
                for (task_struct* p = t->real_parent; p; p = p->real_parent)
                    if (p->signal == c.task.signal) {
                        t->signal->has_child_subreaper = true;
                        break;
                    }
        return 0;
    case PR_GET_CHILD_SUBREAPER: return put_int(c.task.signal->is_child_subreaper);
    case PR_SET_NO_NEW_PRIVS:
        if (arg2 != 1 || a[2] || a[3] || a[4]) return -EINVAL;
        c.task.no_new_privs = true;
        return 0;
    case PR_GET_NO_NEW_PRIVS:
        if (arg2 || a[2] || a[3] || a[4]) return -EINVAL;
        return c.task.no_new_privs;
    default: {
        const long r = cap_task_prctl(c, option, a);
        return r == -ENOSYS ? -EINVAL : r;
    }
    }
}

}  // namespace guestos

namespace guestos {

namespace {

enum : int { PRIO_PROCESS_ = 0, PRIO_PGRP_ = 1, PRIO_USER_ = 2 };

// Whether the caller may renice p (set_one_prio_perm): p's real or effective uid is the
// caller's effective uid, or CAP_SYS_NICE.
bool set_one_prio_perm(const task_struct& p) {
    const cred& c = current_cred();
    return p.cred.uid == c.euid || p.cred.euid == c.euid || capable(CAP_SYS_NICE_);
}

// set_one_prio: EPERM without the right, EACCES lowering nice past RLIMIT_NICE; a first
// success turns the running -ESRCH into 0.
long set_one_prio(task_struct& p, int niceval, long error) {
    if (!set_one_prio_perm(p)) return -EPERM;
    if (niceval < p.nice && !can_nice(p, niceval)) return -EACCES;
    if (error == -ESRCH) error = 0;
    p.nice = niceval;
    return error;
}

// The live threads `which`/`who` name (PRIO_PROCESS: one thread; PRIO_PGRP: every thread of
// the group; PRIO_USER: every thread of the user), who 0 meaning the caller's.
std::vector<task_struct*> prio_targets(SysCtx& c, int which, int32_t who) {
    std::vector<task_struct*> v;
    if (which == PRIO_PROCESS_) {
        task_struct* p = who ? c.kernel.find_task_by_vpid(who) : &c.task;
        if (p && !p->exited) v.push_back(p);
        return v;
    }
    const int pgrp = who ? who : c.task.signal->pgrp;
    const uint32_t uid = who ? static_cast<uint32_t>(who) : c.task.cred.uid;
    for (task_struct* t : c.kernel.all_tasks()) {
        if (t->exited) continue;
        if (which == PRIO_PGRP_ ? t->signal->pgrp == pgrp : t->cred.uid == uid) v.push_back(t);
    }
    return v;
}

}  // namespace

// setpriority(which, who, niceval): niceval clamped to -20..19 for every target; the last
// error, or 0 once one succeeded, or -ESRCH when none exists.
long sys_setpriority(SysCtx& c, const uint64_t* a) {
    const int which = static_cast<int32_t>(a[0]);
    if (which > PRIO_USER_ || which < PRIO_PROCESS_) return -EINVAL;
    const int niceval = std::clamp(static_cast<int32_t>(a[2]), -20, 19);
    long error = -ESRCH;
    for (task_struct* p : prio_targets(c, which, static_cast<int32_t>(a[1]))) error = set_one_prio(*p, niceval, error);
    return error;
}

// getpriority: the highest priority among the targets as 20 - nice (1..40), or -ESRCH.
long sys_getpriority(SysCtx& c, const uint64_t* a) {
    const int which = static_cast<int32_t>(a[0]);
    if (which > PRIO_USER_ || which < PRIO_PROCESS_) return -EINVAL;
    long retval = -ESRCH;
    for (task_struct* p : prio_targets(c, which, static_cast<int32_t>(a[1])))
        retval = std::max<long>(retval, 20 - p->nice);
    return retval;
}

long sys_umask(SysCtx& c, const uint64_t* a) {
    unsigned old = c.task.fs->umask;
    c.task.fs->umask = a[0] & 0777;
    return old;
}

}  // namespace guestos
