// Capabilities (kernel/capability.c, security/commoncap.c): capable(), capget, capset and
// prctl's capability options, over the sets each task's cred carries.
#include "guestos/include/cred.h"
#include "guestos/include/errno.h"
#include "guestos/include/kernel.h"
#include "guestos/include/sched.h"
#include "guestos/include/syscalls.h"

namespace guestos {

bool capable(int cap) { return cap >= 0 && cap < 64 && (current_cred().cap_effective >> cap) & 1; }

namespace {

struct cap_user_data {
    uint32_t effective, permitted, inheritable;
};

// The header's version: how many 32-bit words of each set follow (1 for version 1, 2 for
// 2 and 3); an unknown version is EINVAL after the kernel's own version is written back.
long cap_validate_magic(SysCtx& c, uint64_t header, unsigned& tocopy) {
    uint32_t version = 0;
    if (!copy_from_user(c.mm, &version, VirtAddr(header), 4)) return -EFAULT;
    switch (version) {
    case LINUX_CAPABILITY_VERSION_1_: tocopy = 1; return 0;
    case LINUX_CAPABILITY_VERSION_2_:
    case LINUX_CAPABILITY_VERSION_3_: tocopy = 2; return 0;
    default: {
        const uint32_t v3 = LINUX_CAPABILITY_VERSION_3_;
        if (!copy_to_user(c.mm, VirtAddr(header), &v3, 4)) return -EFAULT;
        return -EINVAL;
    }
    }
}

bool cap_valid(uint64_t cap) { return cap < 64 && ((cap_valid_mask() >> cap) & 1); }
bool cap_issubset(kernel_cap_t a, kernel_cap_t set) { return !(a & ~set); }

// cap_capset: pI' within pI | pP (without CAP_SETPCAP) and within pI | bset; pP' within
// pP; pE' within pP'. Ambient keeps only what stays permitted and inheritable.
long cap_capset(cred& nw, const cred& old, kernel_cap_t e, kernel_cap_t i, kernel_cap_t p) {
    if (!capable(CAP_SETPCAP_) && !cap_issubset(i, old.cap_inheritable | old.cap_permitted)) return -EPERM;
    if (!cap_issubset(i, old.cap_inheritable | old.cap_bset)) return -EPERM;
    if (!cap_issubset(p, old.cap_permitted)) return -EPERM;
    if (!cap_issubset(e, p)) return -EPERM;
    nw.cap_effective = e;
    nw.cap_inheritable = i;
    nw.cap_permitted = p;
    nw.cap_ambient &= p & i;
    return 0;
}

enum : int {
    PR_GET_KEEPCAPS = 7,
    PR_SET_KEEPCAPS = 8,
    PR_CAPBSET_READ = 23,
    PR_CAPBSET_DROP = 24,
    PR_GET_SECUREBITS = 27,
    PR_SET_SECUREBITS = 28,
    PR_CAP_AMBIENT = 47,
};
enum : uint64_t {
    PR_CAP_AMBIENT_IS_SET = 1,
    PR_CAP_AMBIENT_RAISE = 2,
    PR_CAP_AMBIENT_LOWER = 3,
    PR_CAP_AMBIENT_CLEAR_ALL = 4
};
constexpr unsigned SECURE_ALL_BITS = 0x55, SECURE_ALL_LOCKS = 0xaa;

long cap_prctl_ambient(SysCtx& c, const uint64_t* a) {
    cred nw = c.task.cred;
    if (a[1] == PR_CAP_AMBIENT_CLEAR_ALL) {
        if (a[2] | a[3] | a[4]) return -EINVAL;
        nw.cap_ambient = 0;
        return commit_creds(c.task, nw);
    }
    if (!cap_valid(a[2]) || a[3] || a[4]) return -EINVAL;
    const kernel_cap_t bit = 1ull << a[2];
    if (a[1] == PR_CAP_AMBIENT_IS_SET) return (nw.cap_ambient & bit) != 0;
    if (a[1] != PR_CAP_AMBIENT_RAISE && a[1] != PR_CAP_AMBIENT_LOWER) return -EINVAL;
    if (a[1] == PR_CAP_AMBIENT_RAISE) {
        if (!(nw.cap_permitted & bit) || !(nw.cap_inheritable & bit) ||
            ((nw.securebits >> SECURE_NO_CAP_AMBIENT_RAISE_) & 1))
            return -EPERM;
        nw.cap_ambient |= bit;
    } else {
        nw.cap_ambient &= ~bit;
    }
    return commit_creds(c.task, nw);
}

}  // namespace

long cap_task_prctl(SysCtx& c, int option, const uint64_t* a) {
    cred nw = c.task.cred;
    const uint64_t arg2 = a[1];
    switch (option) {
    case PR_CAPBSET_READ:
        if (!cap_valid(arg2)) return -EINVAL;
        return (nw.cap_bset >> arg2) & 1;
    case PR_CAPBSET_DROP:
        if (!capable(CAP_SETPCAP_)) return -EPERM;
        if (!cap_valid(arg2)) return -EINVAL;
        nw.cap_bset &= ~(1ull << arg2);
        return commit_creds(c.task, nw);
    case PR_SET_SECUREBITS: {
        const unsigned old = nw.securebits;
        if ((((old & SECURE_ALL_LOCKS) >> 1) & (old ^ arg2)) || (old & SECURE_ALL_LOCKS & ~arg2) ||
            (arg2 & ~static_cast<uint64_t>(SECURE_ALL_LOCKS | SECURE_ALL_BITS)) || !capable(CAP_SETPCAP_))
            return -EPERM;
        nw.securebits = static_cast<unsigned>(arg2);
        return commit_creds(c.task, nw);
    }
    case PR_GET_SECUREBITS: return nw.securebits;
    case PR_GET_KEEPCAPS: return (nw.securebits >> SECURE_KEEP_CAPS_) & 1;
    case PR_SET_KEEPCAPS:
        if (arg2 > 1) return -EINVAL;
        if ((nw.securebits >> (SECURE_KEEP_CAPS_ + 1)) & 1) return -EPERM;  // SECURE_KEEP_CAPS_LOCKED
        if (arg2) nw.securebits |= 1u << SECURE_KEEP_CAPS_;
        else nw.securebits &= ~(1u << SECURE_KEEP_CAPS_);
        return commit_creds(c.task, nw);
    case PR_CAP_AMBIENT: return cap_prctl_ambient(c, a);
    default: return -ENOSYS;
    }
}

// capget(header, data): the target's effective, permitted and inheritable sets; a null data
// pointer with an unknown version only reports the kernel's version (returns 0).
long sys_capget(SysCtx& c, const uint64_t* a) {
    unsigned tocopy = 0;
    const long ret = cap_validate_magic(c, a[0], tocopy);
    if (!a[1] || ret) return (!a[1] && ret == -EINVAL) ? 0 : ret;
    int32_t pid = 0;
    if (!copy_from_user(c.mm, &pid, VirtAddr(a[0] + 4), 4)) return -EFAULT;
    if (pid < 0) return -EINVAL;
    const task_struct* target = &c.task;
    if (pid && pid != c.task.pid) {
        target = c.kernel.find_task_by_vpid(pid);
        if (!target) return -ESRCH;
    }
    const cred& cr = target->cred;
    const cap_user_data kdata[2] = {
        {static_cast<uint32_t>(cr.cap_effective), static_cast<uint32_t>(cr.cap_permitted),
         static_cast<uint32_t>(cr.cap_inheritable)},
        {static_cast<uint32_t>(cr.cap_effective >> 32), static_cast<uint32_t>(cr.cap_permitted >> 32),
         static_cast<uint32_t>(cr.cap_inheritable >> 32)},
    };
    return copy_to_user(c.mm, VirtAddr(a[1]), kdata, tocopy * sizeof kdata[0]) ? 0 : -EFAULT;
}

// capset(header, data): only the caller's own sets (pid 0 or its own), within cap_capset's
// rules.
long sys_capset(SysCtx& c, const uint64_t* a) {
    unsigned tocopy = 0;
    if (long e = cap_validate_magic(c, a[0], tocopy)) return e;
    int32_t pid = 0;
    if (!copy_from_user(c.mm, &pid, VirtAddr(a[0] + 4), 4)) return -EFAULT;
    if (pid != 0 && pid != c.task.pid) return -EPERM;
    cap_user_data kdata[2] = {};
    if (!copy_from_user(c.mm, kdata, VirtAddr(a[1]), tocopy * sizeof kdata[0])) return -EFAULT;
    auto mk = [](uint32_t lo, uint32_t hi) { return ((static_cast<uint64_t>(hi) << 32) | lo) & cap_valid_mask(); };
    const kernel_cap_t e = mk(kdata[0].effective, kdata[1].effective);
    const kernel_cap_t p = mk(kdata[0].permitted, kdata[1].permitted);
    const kernel_cap_t i = mk(kdata[0].inheritable, kdata[1].inheritable);
    cred nw = c.task.cred;
    if (long err = cap_capset(nw, c.task.cred, e, i, p)) return err;
    return commit_creds(c.task, nw);
}

}  // namespace guestos
