// futex(2): WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, WAIT_BITSET and WAKE_BITSET, private and
// shared, with timeouts on CLOCK_MONOTONIC or CLOCK_REALTIME; futex_waitv; the robust list at
// exit. PI futexes (LOCK_PI and the rest) are ENOSYS.
#include "guestos/kernel/futex.h"

#include <algorithm>
#include <cerrno>
#include <list>
#include <vector>

#include "guestos/include/kernel.h"
#include "guestos/include/ptrace.h"
#include "guestos/include/signal.h"
#include "guestos/include/syscalls.h"
#include "guestos/kernel/sched/core.h"

namespace guestos {

namespace {

enum {
    FUTEX_WAIT = 0,
    FUTEX_WAKE = 1,
    FUTEX_REQUEUE = 3,
    FUTEX_CMP_REQUEUE = 4,
    FUTEX_WAKE_OP = 5,
    FUTEX_WAIT_BITSET = 9,
    FUTEX_WAKE_BITSET = 10
};
constexpr uint64_t FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256;
constexpr uint32_t FUTEX_BITSET_MATCH_ANY = 0xffffffffu;

// A futex's identity (union futex_key): private (mm, address) or shared (inode, offset).
struct futex_key {
    const void* object = nullptr;  // the mm_struct or the address_space
    uint64_t word = 0;             // the address, or the byte offset in the file
    bool operator==(const futex_key&) const = default;
};

struct futex_q {
    task_struct* task;
    futex_key key;
    uint32_t bitset;
    bool woken = false;
};

// Every waiter, oldest first (the hash buckets' plists, in one list).
std::list<futex_q*>& futex_queue() {
    static std::list<futex_q*> q;
    return q;
}

// get_futex_key: private futexes and private mappings key on (mm, address); a shared mapping
// of a file or shmem keys on the page it maps, wherever each process maps it.
long get_futex_key(mm_struct& mm, uint64_t uaddr, bool priv, futex_key& key) {
    if (uaddr & 3) return -EINVAL;
    if (!access_ok(uaddr, 4)) return -EFAULT;
    key = {&mm, uaddr};
    if (priv) return 0;
    vm_area_struct* vma = find_vma(mm, VirtAddr(uaddr));
    if (!vma || vma->vm_start.value > uaddr) return -EFAULT;
    // get_user_pages_fast: the word must be readable (not PROT_NONE, not past a file's end).
    uint32_t word;
    if (!copy_from_user(mm, &word, VirtAddr(uaddr), 4)) return -EFAULT;
    if ((vma->vm_flags & VM_SHARED) && vma->vm_file && vma->vm_file->f_inode) {
        const uint64_t off = ((uaddr - vma->vm_start.value) + (vma->vm_pgoff << PAGE_SHIFT));
        key = {&vma->vm_file->f_inode->i_data, off};
    }
    return 0;
}

// Wakes up to nr waiters with key; true for each woken (futex_wake / mark_wake_futex).
int wake_key(const futex_key& key, int nr, uint32_t bitset) {
    int woken = 0;
    for (futex_q* q : std::list<futex_q*>(futex_queue())) {
        if (woken >= nr) break;
        if (!(q->key == key) || q->woken || !(q->bitset & bitset)) continue;
        q->woken = true;
        wake_up_process(*q->task);
        ++woken;
    }
    return woken;
}

// futex_wait: sleeps while *uaddr == val, until woken, a signal or the timeout.
long futex_wait(SysCtx& c) {
    const auto& f = c.task.restart_block.futex;
    futex_key key;
    if (long e = get_futex_key(c.mm, f.uaddr, f.priv, key)) return e;
    uint32_t cur;
    if (!copy_from_user(c.mm, &cur, VirtAddr(f.uaddr), 4)) return -EFAULT;
    if (cur != f.val) return -EAGAIN;
    futex_q q{&c.task, key, f.bitset};
    futex_queue().push_back(&q);
    long ret = 0;
    for (;;) {
        if (q.woken) break;
        const ktime_t now = f.expires ? clock_now(f.clockid) : 0;
        if (f.expires && now >= f.expires) {
            ret = -ETIMEDOUT;
            break;
        }
        if (signal_pending(c.task)) {
            if (!f.expires) ret = -ERESTARTSYS;
            else {
                c.task.restart_block.fn = &futex_wait;
                ret = -ERESTART_RESTARTBLOCK;
            }
            break;
        }
        std::optional<ktime_t> until;
        if (f.expires) until = ktime_add_safe(ktime_get(), f.expires - now);
        schedule_hrtimeout(c.task, until, "a futex wait");
    }
    futex_queue().remove(&q);
    return ret;
}

// FUTEX_OP: the operation on the second word and the comparison that decides its wake-up.
bool futex_atomic_op(SysCtx& c, uint32_t encoded_op, uint64_t uaddr, long& err) {
    const unsigned op = (encoded_op >> 28) & 7, cmp = (encoded_op >> 24) & 15;
    int32_t oparg = static_cast<int32_t>(encoded_op << 8) >> 20;
    int32_t cmparg = static_cast<int32_t>(encoded_op << 20) >> 20;
    if (encoded_op & (8u << 28)) oparg = 1 << (oparg & 31);  // FUTEX_OP_OPARG_SHIFT
    int32_t old;
    if (!copy_from_user(c.mm, &old, VirtAddr(uaddr), 4)) return err = -EFAULT, false;
    int32_t nw;
    switch (op) {
    case 0: nw = oparg; break;
    case 1: nw = old + oparg; break;
    case 2: nw = old | oparg; break;
    case 3: nw = old & ~oparg; break;
    case 4: nw = old ^ oparg; break;
    default: return err = -ENOSYS, false;
    }
    if (!copy_to_user(c.mm, VirtAddr(uaddr), &nw, 4)) return err = -EFAULT, false;
    err = 0;
    switch (cmp) {
    case 0: return old == cmparg;
    case 1: return old != cmparg;
    case 2: return old < cmparg;
    case 3: return old <= cmparg;
    case 4: return old > cmparg;
    case 5: return old >= cmparg;
    default: return err = -ENOSYS, false;
    }
}

// FUTEX_REQUEUE / CMP_REQUEUE: wake nr_wake, move up to nr_requeue to uaddr2.
long futex_requeue(SysCtx& c, const uint64_t* a, bool priv, bool cmp) {
    futex_key k1, k2;
    if (long e = get_futex_key(c.mm, a[0], priv, k1)) return e;
    if (long e = get_futex_key(c.mm, a[4], priv, k2)) return e;
    const int nr_wake = static_cast<int32_t>(a[2]), nr_requeue = static_cast<int32_t>(a[3]);
    if (nr_wake < 0 || nr_requeue < 0) return -EINVAL;
    if (cmp) {
        uint32_t cur;
        if (!copy_from_user(c.mm, &cur, VirtAddr(a[0]), 4)) return -EFAULT;
        if (cur != static_cast<uint32_t>(a[5])) return -EAGAIN;
    }
    long done = wake_key(k1, nr_wake, FUTEX_BITSET_MATCH_ANY);
    int moved = 0;
    for (futex_q* q : futex_queue()) {
        if (moved >= nr_requeue) break;
        if (q->key == k1 && !q->woken) {
            q->key = k2;
            ++moved;
        }
    }
    return done + moved;
}

long do_futex(SysCtx& c, const uint64_t* a, bool time64) {
    const int cmd = static_cast<int>(a[1] & 0x7f);
    const bool priv = a[1] & FUTEX_PRIVATE_FLAG;
    // CLOCK_REALTIME only for the absolute timeouts of WAIT_BITSET (the PI variants are ENOSYS
    // here anyway); FUTEX_WAIT's is relative (do_futex).
    if ((a[1] & FUTEX_CLOCK_REALTIME) && cmd != FUTEX_WAIT_BITSET) return -ENOSYS;
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
        f.bitset = cmd == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : static_cast<uint32_t>(a[5]);
        if (!f.bitset) return -EINVAL;
        if (a[0] & 3) return -EINVAL;
        f.uaddr = a[0];
        f.val = static_cast<uint32_t>(a[2]);
        f.priv = priv;
        return futex_wait(c);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
        const uint32_t bitset = cmd == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : static_cast<uint32_t>(a[5]);
        if (!bitset) return -EINVAL;
        return futex_wake(c.task, a[0], static_cast<int32_t>(a[2]), bitset, priv);
    }
    case FUTEX_REQUEUE: return futex_requeue(c, a, priv, false);
    case FUTEX_CMP_REQUEUE: return futex_requeue(c, a, priv, true);
    case FUTEX_WAKE_OP: {
        futex_key k1, k2;
        if (long e = get_futex_key(c.mm, a[0], priv, k1)) return e;
        if (long e = get_futex_key(c.mm, a[4], priv, k2)) return e;
        long err = 0;
        const bool wake2 = futex_atomic_op(c, static_cast<uint32_t>(a[5]), a[4], err);
        if (err) return err;
        long n = wake_key(k1, static_cast<int32_t>(a[2]), FUTEX_BITSET_MATCH_ANY);
        if (wake2) n += wake_key(k2, static_cast<int32_t>(a[3]), FUTEX_BITSET_MATCH_ANY);
        return n;
    }
    default: return -ENOSYS;  // the PI futexes among them
    }
}

}  // namespace

long futex_wake(task_struct& t, uint64_t uaddr, int nr, uint32_t bitset, bool priv) {
    if (!t.mm) return 0;
    futex_key key;
    if (long e = get_futex_key(*t.mm, uaddr, priv, key)) return e;
    return nr <= 0 ? 0 : wake_key(key, nr, bitset);
}

void exit_robust_list(task_struct& t) {
    constexpr uint32_t FUTEX_WAITERS = 0x80000000u, FUTEX_OWNER_DIED = 0x40000000u, FUTEX_TID_MASK = 0x3fffffffu;
    const uint64_t head = t.robust_list;
    t.robust_list = 0;  // futex_cleanup: a zombie's list is gone
    if (!head || !t.mm) return;
    mm_struct& mm = *t.mm;
    const uint64_t ps = t.is_compat() ? 4 : 8;
    auto get = [&](uint64_t at, uint64_t& v) {
        v = 0;
        return copy_from_user(mm, &v, VirtAddr(at), ps);
    };
    uint64_t entry, offset, pending;
    if (!get(head, entry) || !get(head + ps, offset) || !get(head + 2 * ps, pending)) return;
    const int64_t off = t.is_compat() ? static_cast<int32_t>(offset) : static_cast<int64_t>(offset);
    auto handle = [&](uint64_t e) {  // handle_futex_death
        const uint64_t uaddr = (e & ~1ull) + off;
        uint32_t v;
        if (!copy_from_user(mm, &v, VirtAddr(uaddr), 4) || (v & FUTEX_TID_MASK) != static_cast<uint32_t>(t.pid)) return;
        const uint32_t nw = (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
        if (copy_to_user(mm, VirtAddr(uaddr), &nw, 4) && (v & FUTEX_WAITERS)) futex_wake(t, uaddr, 1, ~0u, false);
    };
    for (int limit = 2048; entry != head && entry && limit--;) {
        uint64_t next;
        if (!get(entry, next)) break;
        if (entry != pending) handle(entry);
        entry = next;
    }
    if (pending) handle(pending);
}

// get_robust_list(pid, head_ptr, len_ptr): the task's robust list head and its size (24, or
// 12 on i386), for a task the caller may inspect; a zombie is found until it is reaped.
long sys_get_robust_list(SysCtx& c, const uint64_t* a) {
    const int pid = static_cast<int32_t>(a[0]);
    task_struct* p = pid ? c.kernel.find_task_by_vpid(pid) : &c.task;
    if (!p || p->exit_state == EXIT_DEAD) return -ESRCH;
    if (ptrace_may_access(c.task, *p)) return -EPERM;
    if (!put_user_long(c, VirtAddr(a[2]), 3 * c.ptr_size())) return -EFAULT;
    return put_user_long(c, VirtAddr(a[1]), p->robust_list) ? 0 : -EFAULT;
}

// futex_waitv(waiters, nr_futexes, flags, timeout, clockid) (kernel/futex/syscalls.c): waits
// on up to 128 words at once, each with its own expected value and FUTEX2 flags, until a
// wake of any: the index of a woken one. The timeout is absolute on CLOCK_MONOTONIC or
// CLOCK_REALTIME, a 64-bit timespec on both ABIs.
long sys_futex_waitv(SysCtx& c, const uint64_t* a) {
    constexpr uint32_t FUTEX_WAITV_MAX = 128;
    constexpr uint32_t FUTEX2_SIZE_U32 = 0x02, FUTEX2_SIZE_MASK = 0x03, FUTEX2_PRIVATE = 128;
    // FUTEX2_NUMA and FUTEX2_MPOL (a node word after the futex) are not offered: EINVAL.
    constexpr uint32_t FUTEX2_VALID_MASK = FUTEX2_SIZE_MASK | FUTEX2_PRIVATE;
    if (static_cast<uint32_t>(a[2])) return -EINVAL;  // no flags yet
    const uint32_t nr = static_cast<uint32_t>(a[1]);
    if (!nr || nr > FUTEX_WAITV_MAX || !a[0]) return -EINVAL;
    ktime_t expires = 0;
    clockid_t clk = CLOCK_MONOTONIC;
    if (a[3]) {  // futex2_setup_timeout
        clk = static_cast<clockid_t>(a[4]);
        if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC) return -EINVAL;
        timespec ts;
        if (!get_timespec(c, VirtAddr(a[3]), ts, true)) return -EFAULT;
        if (!timespec_valid(ts)) return -EINVAL;
        expires = std::max<ktime_t>(timespec_to_ktime(ts), 1);
    }
    struct futex_waitv {  // the user's layout: 24 bytes on both ABIs
        uint64_t val, uaddr;
        uint32_t flags, reserved;
    };
    std::vector<futex_waitv> w(nr);
    for (uint32_t i = 0; i < nr; ++i) {  // futex_parse_waitv
        if (!copy_from_user(c.mm, &w[i], VirtAddr(a[0] + i * sizeof(futex_waitv)), sizeof(futex_waitv))) return -EFAULT;
        if ((w[i].flags & ~FUTEX2_VALID_MASK) || w[i].reserved) return -EINVAL;
        if ((w[i].flags & FUTEX2_SIZE_MASK) != FUTEX2_SIZE_U32) return -EINVAL;  // futex_flags_valid
        if (w[i].val >> 32) return -EINVAL;                                      // futex_validate_input
    }
    // futex_wait_multiple_setup: every key first, then each value while queueing.
    std::vector<futex_q> qs(nr);
    for (uint32_t i = 0; i < nr; ++i) {
        qs[i] = {&c.task, {}, FUTEX_BITSET_MATCH_ANY};
        if (long e = get_futex_key(c.mm, w[i].uaddr, w[i].flags & FUTEX2_PRIVATE, qs[i].key)) return e;
    }
    struct Unqueue {  // unqueue_multiple, however the wait ends
        std::vector<futex_q>& qs;
        uint32_t queued = 0;
        ~Unqueue() {
            for (uint32_t i = 0; i < queued; ++i) futex_queue().remove(&qs[i]);
        }
    } unqueue{qs};
    for (uint32_t i = 0; i < nr; ++i) {
        uint32_t cur;
        if (!copy_from_user(c.mm, &cur, VirtAddr(w[i].uaddr), 4)) return -EFAULT;
        if (cur != static_cast<uint32_t>(w[i].val)) return -EAGAIN;
        futex_queue().push_back(&qs[i]);
        unqueue.queued = i + 1;
    }
    for (;;) {
        long woken = -1;  // the highest index woken, as unqueue_multiple reports
        for (uint32_t i = 0; i < nr; ++i)
            if (qs[i].woken) woken = i;
        if (woken >= 0) return woken;
        const ktime_t now = expires ? clock_now(clk) : 0;
        if (expires && now >= expires) return -ETIMEDOUT;
        if (signal_pending(c.task)) return -ERESTARTSYS;
        std::optional<ktime_t> until;
        if (expires) until = ktime_add_safe(ktime_get(), expires - now);
        schedule_hrtimeout(c.task, until, "a futex wait");
    }
}

long sys_futex(SysCtx& c, const uint64_t* a) { return do_futex(c, a, false); }
long sys_futex_time64(SysCtx& c, const uint64_t* a) { return do_futex(c, a, true); }

}  // namespace guestos
