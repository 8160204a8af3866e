// The scheduling-policy syscalls (kernel/sched/syscalls.c): nice, sched_setscheduler,
// sched_setparam, sched_setattr and their getters, sched_get_priority_max/min and
// sched_rr_get_interval. Policies, priorities and nice values are stored, checked and
// inherited as Linux does; emu's one-CPU round-robin scheduler does not weigh them.
#include "guestos/include/cred.h"
#include "guestos/include/errno.h"
#include "guestos/include/kernel.h"
#include "guestos/include/syscalls.h"
#include "guestos/kernel/sched/core.h"

namespace guestos {

namespace {

enum : int {
    SCHED_NORMAL_ = 0,
    SCHED_FIFO_ = 1,
    SCHED_RR_ = 2,
    SCHED_BATCH_ = 3,
    SCHED_IDLE_ = 5,
    SCHED_DEADLINE_ = 6,
    SCHED_EXT_ = 7,  // sched_ext: with no BPF scheduler loaded its tasks run as fair ones
    SETPARAM_POLICY = -1,
};
constexpr uint32_t SCHED_RESET_ON_FORK_ = 0x40000000;
constexpr int MAX_RT_PRIO = 100, MIN_NICE = -20, MAX_NICE = 19;
// sched_attr.sched_flags
constexpr uint64_t SCHED_FLAG_RESET_ON_FORK = 0x01, SCHED_FLAG_RECLAIM = 0x02, SCHED_FLAG_DL_OVERRUN = 0x04,
                   SCHED_FLAG_KEEP_POLICY = 0x08, SCHED_FLAG_KEEP_PARAMS = 0x10, SCHED_FLAG_UTIL_CLAMP_MIN = 0x20,
                   SCHED_FLAG_UTIL_CLAMP_MAX = 0x40;
constexpr uint64_t SCHED_FLAG_UTIL_CLAMP = SCHED_FLAG_UTIL_CLAMP_MIN | SCHED_FLAG_UTIL_CLAMP_MAX;
constexpr uint64_t SCHED_FLAG_ALL = SCHED_FLAG_RESET_ON_FORK | SCHED_FLAG_RECLAIM | SCHED_FLAG_DL_OVERRUN |
                                    SCHED_FLAG_KEEP_POLICY | SCHED_FLAG_KEEP_PARAMS | SCHED_FLAG_UTIL_CLAMP;
constexpr uint32_t SCHED_ATTR_SIZE_VER0 = 48, SCHED_ATTR_SIZE_VER1 = 56;
constexpr uint32_t SCHED_CAPACITY_SCALE = 1024;
// sched_rr_timeslice: RR_TIMESLICE, 100 ms.
constexpr int64_t RR_TIMESLICE_NS = 100'000'000;

// struct sched_attr (uapi/linux/sched/types.h), version 1.
struct sched_attr {
    uint32_t size = 0, sched_policy = 0;
    uint64_t sched_flags = 0;
    int32_t sched_nice = 0;
    uint32_t sched_priority = 0;
    uint64_t sched_runtime = 0, sched_deadline = 0, sched_period = 0;
    uint32_t sched_util_min = 0, sched_util_max = 0;
};
static_assert(sizeof(sched_attr) == SCHED_ATTR_SIZE_VER1);

bool fair_policy(int p) { return p == SCHED_NORMAL_ || p == SCHED_BATCH_ || p == SCHED_EXT_; }
bool rt_policy(int p) { return p == SCHED_FIFO_ || p == SCHED_RR_; }
bool dl_policy(int p) { return p == SCHED_DEADLINE_; }
bool valid_policy(int p) { return p == SCHED_IDLE_ || fair_policy(p) || rt_policy(p) || dl_policy(p); }

// __checkparam_dl: a deadline, a runtime of at least 1 us (2^DL_SCALE ns), no top bits,
// runtime <= deadline <= period, and a period between 100 us and 4 s.
bool checkparam_dl(const sched_attr& a) {
    if (a.sched_deadline == 0 || a.sched_runtime < (1u << 10)) return false;
    if ((a.sched_deadline | a.sched_period) & (1ull << 63)) return false;
    const uint64_t period = a.sched_period ? a.sched_period : a.sched_deadline;
    if (period < a.sched_deadline || a.sched_deadline < a.sched_runtime) return false;
    return period >= 100'000 && period <= 4'000'000'000ull;
}

// Whether the caller's effective uid is t's effective or real one (check_same_owner).
bool check_same_owner(const task_struct& t) {
    const cred& c = current_cred();
    return c.euid == t.cred.euid || c.euid == t.cred.uid;
}

// user_check_sched_setscheduler: what a caller without CAP_SYS_NICE may not do.
long user_check_sched_setscheduler(const task_struct& p, const sched_attr& attr, int policy, bool reset_on_fork) {
    if (fair_policy(policy) && attr.sched_nice < p.nice && !can_nice(p, attr.sched_nice)) return -EPERM;
    if (rt_policy(policy)) {
        const uint64_t rlim_rtprio = p.signal->rlim[RLIMIT_RTPRIO_].rlim_cur;
        if (static_cast<unsigned>(policy) != p.policy && !rlim_rtprio) return -EPERM;
        if (attr.sched_priority > p.rt_priority && attr.sched_priority > rlim_rtprio) return -EPERM;
    }
    if (dl_policy(policy)) return -EPERM;
    if (p.policy == SCHED_IDLE_ && policy != SCHED_IDLE_ && !can_nice(p, p.nice)) return -EPERM;
    if (!check_same_owner(p)) return -EPERM;
    if (p.sched_reset_on_fork && !reset_on_fork) return -EPERM;
    return 0;
}

// __sched_setscheduler: validate, check permission, then set policy and parameters.
long sched_setscheduler_attr(task_struct& p, sched_attr attr, bool user) {
    int policy = static_cast<int>(attr.sched_policy);
    bool reset_on_fork;
    if (policy < 0) {
        reset_on_fork = p.sched_reset_on_fork;
        policy = static_cast<int>(p.policy);
    } else {
        reset_on_fork = attr.sched_flags & SCHED_FLAG_RESET_ON_FORK;
        if (!valid_policy(policy)) return -EINVAL;
    }
    if (attr.sched_flags & ~(SCHED_FLAG_ALL | 0x80000000ull /* SCHED_FLAG_SUGOV */)) return -EINVAL;
    if (attr.sched_priority > MAX_RT_PRIO - 1) return -EINVAL;
    if ((dl_policy(policy) && !checkparam_dl(attr)) || (rt_policy(policy) != (attr.sched_priority != 0)))
        return -EINVAL;
    if (attr.sched_flags & SCHED_FLAG_UTIL_CLAMP) {
        if (attr.sched_util_min > SCHED_CAPACITY_SCALE || attr.sched_util_max > SCHED_CAPACITY_SCALE) return -EINVAL;
    }
    if (user && !capable(CAP_SYS_NICE_))
        if (long e = user_check_sched_setscheduler(p, attr, policy, reset_on_fork)) return e;
    p.sched_reset_on_fork = reset_on_fork;
    if (attr.sched_flags & SCHED_FLAG_KEEP_PARAMS) return 0;  // __setscheduler_params is skipped
    p.policy = static_cast<unsigned>(policy);
    if (dl_policy(policy)) {
        p.dl_runtime = attr.sched_runtime;
        p.dl_deadline = attr.sched_deadline;
        p.dl_period = attr.sched_period ? attr.sched_period : attr.sched_deadline;
    } else if (fair_policy(policy)) {
        p.nice = attr.sched_nice;
    }
    p.rt_priority = attr.sched_priority;
    return 0;
}

// sched_setscheduler/sched_setparam (do_sched_setscheduler): policy SETPARAM_POLICY keeps it.
long do_sched_setscheduler(SysCtx& c, uint64_t pid_arg, int policy, uint64_t param) {
    const int32_t pid = static_cast<int32_t>(pid_arg);
    if (!param || pid < 0) return -EINVAL;
    int32_t prio = 0;
    if (!copy_from_user(c.mm, &prio, VirtAddr(param), 4)) return -EFAULT;
    task_struct* p = find_process_by_pid(c, pid_arg);
    if (!p) return -ESRCH;
    sched_attr attr;
    attr.sched_policy = static_cast<uint32_t>(policy);
    attr.sched_priority = static_cast<uint32_t>(prio);
    attr.sched_nice = p->nice;
    if (policy != SETPARAM_POLICY && (policy & SCHED_RESET_ON_FORK_)) {
        attr.sched_flags |= SCHED_FLAG_RESET_ON_FORK;
        attr.sched_policy = static_cast<uint32_t>(policy & ~SCHED_RESET_ON_FORK_);
    }
    return sched_setscheduler_attr(*p, attr, true);
}

// sched_copy_attr: the user's struct of any size from VER0 to a page; a larger one must be
// zero past what this kernel knows (E2BIG, and the size it knows written back).
long sched_copy_attr(SysCtx& c, uint64_t uattr, sched_attr& attr) {
    uint32_t size = 0;
    if (!copy_from_user(c.mm, &size, VirtAddr(uattr), 4)) return -EFAULT;
    if (!size) size = SCHED_ATTR_SIZE_VER0;
    auto too_big = [&] {
        const uint32_t known = sizeof(sched_attr);
        (void)copy_to_user(c.mm, VirtAddr(uattr), &known, 4);
        return -E2BIG;
    };
    if (size < SCHED_ATTR_SIZE_VER0 || size > PAGE_SIZE) return too_big();
    attr = {};
    const uint32_t n = std::min<uint32_t>(size, sizeof attr);
    if (!copy_from_user(c.mm, &attr, VirtAddr(uattr), n)) return -EFAULT;
    for (uint32_t off = n; off < size; ++off) {  // copy_struct_from_user's check_zeroed_user
        uint8_t b = 0;
        if (!copy_from_user(c.mm, &b, VirtAddr(uattr + off), 1)) return -EFAULT;
        if (b) return too_big();
    }
    attr.size = size;
    if ((attr.sched_flags & SCHED_FLAG_UTIL_CLAMP) && size < SCHED_ATTR_SIZE_VER1) return -EINVAL;
    attr.sched_nice = std::clamp(attr.sched_nice, MIN_NICE, MAX_NICE);
    return 0;
}

// The sched_attr describing p (sched_getattr's kattr, get_params).
sched_attr get_params(const task_struct& p) {
    sched_attr a;
    a.sched_policy = p.policy;
    if (p.sched_reset_on_fork) a.sched_flags |= SCHED_FLAG_RESET_ON_FORK;
    if (dl_policy(static_cast<int>(p.policy))) {
        a.sched_runtime = p.dl_runtime;
        a.sched_deadline = p.dl_deadline;
        a.sched_period = p.dl_period;
    } else if (rt_policy(static_cast<int>(p.policy))) {
        a.sched_priority = p.rt_priority;
    } else {
        a.sched_nice = p.nice;
    }
    a.sched_util_min = 0;
    a.sched_util_max = SCHED_CAPACITY_SCALE;
    return a;
}

}  // namespace

bool can_nice(const task_struct& t, int nice) {
    return static_cast<uint64_t>(20 - nice) <= t.signal->rlim[RLIMIT_NICE_].rlim_cur || capable(CAP_SYS_NICE_);
}

void sched_fork(const task_struct& parent, task_struct& p) {
    p.nice = parent.nice;
    p.policy = parent.policy;
    p.rt_priority = parent.rt_priority;
    p.dl_runtime = parent.dl_runtime;
    p.dl_deadline = parent.dl_deadline;
    p.dl_period = parent.dl_period;
    if (!parent.sched_reset_on_fork) return;
    if (rt_policy(static_cast<int>(p.policy)) || dl_policy(static_cast<int>(p.policy))) {
        p.policy = SCHED_NORMAL_;
        p.nice = 0;
        p.rt_priority = 0;
    } else if (p.nice < 0) {
        p.nice = 0;
    }
}

long sys_sched_setscheduler(SysCtx& c, const uint64_t* a) {
    const int policy = static_cast<int32_t>(a[1]);
    if (policy < 0) return -EINVAL;
    return do_sched_setscheduler(c, a[0], policy, a[2]);
}

long sys_sched_setparam(SysCtx& c, const uint64_t* a) { return do_sched_setscheduler(c, a[0], SETPARAM_POLICY, a[1]); }

long sys_sched_getscheduler(SysCtx& c, const uint64_t* a) {
    if (static_cast<int32_t>(a[0]) < 0) return -EINVAL;
    const task_struct* p = find_process_by_pid(c, a[0]);
    if (!p) return -ESRCH;
    return p->policy | (p->sched_reset_on_fork ? SCHED_RESET_ON_FORK_ : 0);
}

long sys_sched_getparam(SysCtx& c, const uint64_t* a) {
    if (!a[1] || static_cast<int32_t>(a[0]) < 0) return -EINVAL;
    const task_struct* p = find_process_by_pid(c, a[0]);
    if (!p) return -ESRCH;
    const int32_t prio = rt_policy(static_cast<int>(p->policy)) ? static_cast<int32_t>(p->rt_priority) : 0;
    return copy_to_user(c.mm, VirtAddr(a[1]), &prio, 4) ? 0 : -EFAULT;
}

// sched_setattr(pid, attr, flags): flags must be 0; SCHED_FLAG_KEEP_POLICY keeps the
// policy and SCHED_FLAG_KEEP_PARAMS the parameters.
long sys_sched_setattr(SysCtx& c, const uint64_t* a) {
    if (!a[1] || static_cast<int32_t>(a[0]) < 0 || static_cast<uint32_t>(a[2])) return -EINVAL;
    sched_attr attr;
    if (long e = sched_copy_attr(c, a[1], attr)) return e;
    if (static_cast<int32_t>(attr.sched_policy) < 0) return -EINVAL;
    if (attr.sched_flags & SCHED_FLAG_KEEP_POLICY) attr.sched_policy = static_cast<uint32_t>(SETPARAM_POLICY);
    task_struct* p = find_process_by_pid(c, a[0]);
    if (!p) return -ESRCH;
    if (attr.sched_flags & SCHED_FLAG_KEEP_PARAMS) {
        const sched_attr cur = get_params(*p);
        attr.sched_priority = cur.sched_priority;
        attr.sched_nice = cur.sched_nice;
        attr.sched_runtime = cur.sched_runtime;
        attr.sched_deadline = cur.sched_deadline;
        attr.sched_period = cur.sched_period;
    }
    return sched_setscheduler_attr(*p, attr, true);
}

// sched_getattr(pid, attr, size, flags): as much of the struct as both sides know, with
// size set to that.
long sys_sched_getattr(SysCtx& c, const uint64_t* a) {
    const uint32_t usize = static_cast<uint32_t>(a[2]);
    if (!a[1] || static_cast<int32_t>(a[0]) < 0 || usize > PAGE_SIZE || usize < SCHED_ATTR_SIZE_VER0 ||
        static_cast<uint32_t>(a[3]))
        return -EINVAL;
    const task_struct* p = find_process_by_pid(c, a[0]);
    if (!p) return -ESRCH;
    sched_attr k = get_params(*p);
    k.size = std::min<uint32_t>(usize, sizeof k);
    return copy_to_user(c.mm, VirtAddr(a[1]), &k, k.size) ? 0 : -EFAULT;
}

long sys_sched_get_priority_max(SysCtx&, const uint64_t* a) {
    switch (static_cast<int32_t>(a[0])) {
    case SCHED_FIFO_:
    case SCHED_RR_: return MAX_RT_PRIO - 1;
    case SCHED_DEADLINE_:
    case SCHED_NORMAL_:
    case SCHED_BATCH_:
    case SCHED_IDLE_:
    case SCHED_EXT_: return 0;
    default: return -EINVAL;
    }
}

long sys_sched_get_priority_min(SysCtx&, const uint64_t* a) {
    switch (static_cast<int32_t>(a[0])) {
    case SCHED_FIFO_:
    case SCHED_RR_: return 1;
    case SCHED_DEADLINE_:
    case SCHED_NORMAL_:
    case SCHED_BATCH_:
    case SCHED_IDLE_:
    case SCHED_EXT_: return 0;
    default: return -EINVAL;
    }
}

// sched_rr_get_interval: SCHED_RR's 100 ms timeslice; 0 for FIFO, and for the fair
// policies the slice CFS would give, which on one idle CPU is 0 jiffies' worth here.
static long do_sched_rr_get_interval(SysCtx& c, const uint64_t* a, bool time32) {
    if (static_cast<int32_t>(a[0]) < 0) return -EINVAL;
    const task_struct* p = find_process_by_pid(c, a[0]);
    if (!p) return -ESRCH;
    const int64_t ns = p->policy == SCHED_RR_ ? RR_TIMESLICE_NS : 0;
    if (time32) {
        const int32_t ts[2] = {static_cast<int32_t>(ns / 1'000'000'000), static_cast<int32_t>(ns % 1'000'000'000)};
        return copy_to_user(c.mm, VirtAddr(a[1]), ts, sizeof ts) ? 0 : -EFAULT;
    }
    const int64_t ts[2] = {ns / 1'000'000'000, ns % 1'000'000'000};
    return copy_to_user(c.mm, VirtAddr(a[1]), ts, sizeof ts) ? 0 : -EFAULT;
}

long sys_sched_rr_get_interval(SysCtx& c, const uint64_t* a) { return do_sched_rr_get_interval(c, a, c.compat); }
long sys_sched_rr_get_interval_time64(SysCtx& c, const uint64_t* a) { return do_sched_rr_get_interval(c, a, false); }

// nice(inc) (i386): the caller's nice moved by inc, clamped; lowering it needs can_nice.
long sys_nice(SysCtx& c, const uint64_t* a) {
    const int increment = std::clamp(static_cast<int32_t>(a[0]), -40, 40);
    const int nice = std::clamp(c.task.nice + increment, MIN_NICE, MAX_NICE);
    if (increment < 0 && !can_nice(c.task, nice)) return -EPERM;
    c.task.nice = nice;
    return 0;
}

}  // namespace guestos
