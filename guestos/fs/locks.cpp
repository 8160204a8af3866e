// File locks (fs/locks.c): fcntl's F_GETLK/F_SETLK/F_SETLKW (and their 64 and OFD forms),
// flock(2) and leases (F_SETLEASE), between the guest's processes; released as Linux
// releases them.
#include "guestos/include/filelock.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <map>

#include "guestos/include/cred.h"
#include "guestos/include/fasync.h"
#include "guestos/include/fs.h"
#include "guestos/include/kernel.h"
#include "guestos/include/mm_types.h"
#include "guestos/include/signal.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/sysctl.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/kernel/sched/core.h"

namespace guestos {

namespace {

constexpr int MAX_DEADLK_ITERATIONS = 10;

// Who waits for whom (blocked_hash): a blocked POSIX or flock request and the lock context
// it waits in, in the order they blocked.
struct blocked_request {
    file_lock fl;
    file_lock_context* ctx;
};
std::vector<blocked_request>& blocked_requests() {
    static std::vector<blocked_request> v;
    return v;
}
// Blocks req in ctx until the guard ends.
class BlockedRequest {
public:
    BlockedRequest(const file_lock& req, file_lock_context* ctx) : req_(req), ctx_(ctx) {
        blocked_requests().push_back({req, ctx});
    }
    ~BlockedRequest() {  // its own entry: threads of one process may wait on other ranges
        auto& b = blocked_requests();
        for (auto it = b.begin(); it != b.end(); ++it)
            if (it->ctx == ctx_ && it->fl.fl_owner == req_.fl_owner && it->fl.fl_start == req_.fl_start &&
                it->fl.fl_end == req_.fl_end) {
                b.erase(it);
                break;
            }
    }
    BlockedRequest(const BlockedRequest&) = delete;
    BlockedRequest& operator=(const BlockedRequest&) = delete;

private:
    file_lock req_;
    file_lock_context* ctx_;
};

// Every inode's lock context (file_lock_list's owners), and the order locks join it.
std::vector<file_lock_context*>& lock_contexts() {
    static std::vector<file_lock_context*> v;
    return v;
}
uint64_t next_lock_seq() {
    static uint64_t seq = 0;
    return ++seq;
}

file_lock_context* locks_inode_context(inode& ino) {
    if (!ino.i_flctx) ino.i_flctx = std::make_shared<file_lock_context>(ino.i_sb ? ino.i_sb->s_dev : 0, ino.i_ino);
    return ino.i_flctx.get();
}

bool overlap(const file_lock& a, const file_lock& b) { return a.fl_start <= b.fl_end && b.fl_start <= a.fl_end; }

// Two locks of different owners that cannot both be held (posix_locks_conflict / flock_locks_conflict).
bool locks_conflict(const file_lock& caller, const file_lock& sys) {
    if (caller.fl_owner == sys.fl_owner) return false;
    if (caller.fl_type != F_WRLCK_ && sys.fl_type != F_WRLCK_) return false;
    return (caller.fl_flags & FL_FLOCK) || overlap(caller, sys);
}

const file_lock* first_conflict(const std::vector<file_lock>& list, const file_lock& req) {
    for (const file_lock& l : list)
        if (locks_conflict(req, l)) return &l;
    return nullptr;
}

// The owner a blocked POSIX owner waits for, if it waits (what_owner_is_waiting_for).
const void* what_owner_is_waiting_for(const void* owner) {
    for (const blocked_request& b : blocked_requests())
        if (b.fl.fl_owner == owner && (b.fl.fl_flags & FL_POSIX))
            if (const file_lock* l = first_conflict(b.ctx->flc_posix, b.fl)) return l->fl_owner;
    return nullptr;
}

// Whether caller waiting for block_owner closes a cycle of waiters (posix_locks_deadlock).
bool posix_locks_deadlock(const file_lock& caller, const file_lock& block) {
    if (caller.fl_flags & FL_OFD) return false;  // OFD locks are not checked, as in Linux
    const void* owner = block.fl_owner;
    for (int i = 0; i < MAX_DEADLK_ITERATIONS && owner; ++i) {
        if (owner == caller.fl_owner) return true;
        owner = what_owner_is_waiting_for(owner);
    }
    return false;
}

// Applies a request to its owner's locks (posix_lock_inode's second half): same-type locks
// that overlap or touch merge, other types are trimmed or split, F_UNLCK only removes.
// A lock keeps its place on the global list (fl_seq) as it grows or shrinks; the request
// takes the place of the first lock it merges with, or is a new lock; a lock split in two
// keeps its place for the right part, the left is a new copy made after the request.
void posix_apply(std::vector<file_lock>& list, file_lock req) {
    auto touches = [](const file_lock& l, const file_lock& r) {
        return (l.fl_end != OFFSET_MAX && l.fl_end + 1 == r.fl_start) ||
               (r.fl_end != OFFSET_MAX && r.fl_end + 1 == l.fl_start);
    };
    if (req.fl_type != F_UNLCK_) {
        for (const file_lock& l : list)
            if (l.fl_owner == req.fl_owner && l.fl_type == req.fl_type && (overlap(l, req) || touches(l, req))) {
                req.fl_seq = l.fl_seq;
                break;
            }
        if (!req.fl_seq) req.fl_seq = next_lock_seq();
    }
    std::vector<file_lock> out;
    for (const file_lock& l : list) {
        if (l.fl_owner != req.fl_owner) {
            out.push_back(l);
            continue;
        }
        if (!overlap(l, req) && !(touches(l, req) && l.fl_type == req.fl_type)) {
            out.push_back(l);
        } else if (l.fl_type == req.fl_type) {
            req.fl_start = std::min(req.fl_start, l.fl_start);
            req.fl_end = std::max(req.fl_end, l.fl_end);
        } else {
            const bool split = l.fl_start < req.fl_start && l.fl_end > req.fl_end;
            if (l.fl_start < req.fl_start) {
                file_lock left = l;
                left.fl_end = req.fl_start - 1;
                if (split) left.fl_seq = next_lock_seq();
                out.push_back(left);
            }
            if (l.fl_end > req.fl_end) {
                file_lock right = l;
                right.fl_start = req.fl_end + 1;
                out.push_back(right);
            }
        }
    }
    if (req.fl_type != F_UNLCK_) out.push_back(req);
    // posix_lock_inode keeps an owner's locks together and in order of their start, where its
    // first lock was (a new owner's go last), so F_GETLK finds the conflict Linux finds first.
    std::vector<file_lock> others, mine;
    size_t insert_at = SIZE_MAX;
    for (const file_lock& l : list)
        if (l.fl_owner == req.fl_owner) {
            if (insert_at == SIZE_MAX) insert_at = others.size();
        } else {
            others.push_back(l);
        }
    for (const file_lock& l : out)
        if (l.fl_owner == req.fl_owner) mine.push_back(l);
    std::stable_sort(mine.begin(), mine.end(),
                     [](const file_lock& a, const file_lock& b) { return a.fl_start < b.fl_start; });
    if (insert_at == SIZE_MAX) insert_at = others.size();
    others.insert(others.begin() + static_cast<std::ptrdiff_t>(insert_at), mine.begin(), mine.end());
    list = std::move(others);
}

// posix_lock_file with F_SETLK/F_SETLKW semantics: EAGAIN, or a sleep until no lock
// conflicts (EDEADLK when that would never happen, -ERESTARTSYS on a signal).
long posix_lock_file(task_struct& task, inode& ino, const file_lock& req, bool wait) {
    file_lock_context* ctx = locks_inode_context(ino);
    if (req.fl_type != F_UNLCK_) {
        for (;;) {
            const file_lock* block = first_conflict(ctx->flc_posix, req);
            if (!block) break;
            if (!wait) return -EAGAIN;
            if (posix_locks_deadlock(req, *block)) return -EDEADLK;
            // Sleep until this blocker goes or changes, then look again from the start: the
            // next blocker may close a cycle (a deadlock found only once the first one left).
            const file_lock blocker = *block;
            BlockedRequest blocked(req, ctx);
            const long e = wait_event_interruptible(
                task, ctx->flc_wait,
                [&] {
                    const file_lock* now = first_conflict(ctx->flc_posix, req);
                    return !now || now->fl_owner != blocker.fl_owner || now->fl_start != blocker.fl_start ||
                           now->fl_end != blocker.fl_end || now->fl_type != blocker.fl_type;
                },
                "a file lock");
            if (e) return e;
        }
    }
    posix_apply(ctx->flc_posix, req);
    wake_up(ctx->flc_wait);  // a lock went or shrank: blocked requests look again
    return 0;
}

// flock_lock_inode: one lock per open file; a change drops the old lock first.
long flock_lock_file(task_struct& task, inode& ino, const file_lock& req, bool wait) {
    file_lock_context* ctx = locks_inode_context(ino);
    auto& list = ctx->flc_flock;
    for (auto it = list.begin(); it != list.end(); ++it)
        if (it->fl_owner == req.fl_owner) {
            if (it->fl_type == req.fl_type) return 0;
            list.erase(it);
            wake_up(ctx->flc_wait);
            break;
        }
    if (req.fl_type == F_UNLCK_) return 0;
    while (first_conflict(list, req)) {
        if (!wait) return -EWOULDBLOCK;
        BlockedRequest blocked(req, ctx);
        if (long e = wait_event_interruptible(
                task, ctx->flc_wait, [&] { return !first_conflict(list, req); }, "a flock lock"))
            return e;
    }
    list.push_back(req);
    list.back().fl_seq = next_lock_seq();
    return 0;
}

// struct flock as the guest holds it: 64-bit (32 bytes), i386's flock (16) or flock64 (24).
enum class flock_abi { native, compat, compat64 };

struct kflock {
    int16_t l_type, l_whence;
    int64_t l_start, l_len;
    int32_t l_pid;
};

long get_flock(SysCtx& c, uint64_t uptr, flock_abi abi, kflock& out) {
    uint8_t raw[32] = {};
    const size_t size = abi == flock_abi::native ? 32 : abi == flock_abi::compat ? 16 : 24;
    if (!copy_from_user(c.mm, raw, VirtAddr(uptr), size)) return -EFAULT;
    std::memcpy(&out.l_type, raw, 2);
    std::memcpy(&out.l_whence, raw + 2, 2);
    if (abi == flock_abi::compat) {
        int32_t s, l;
        std::memcpy(&s, raw + 4, 4);
        std::memcpy(&l, raw + 8, 4);
        out.l_start = s, out.l_len = l;
        std::memcpy(&out.l_pid, raw + 12, 4);
    } else {
        const size_t at = abi == flock_abi::native ? 8 : 4;
        std::memcpy(&out.l_start, raw + at, 8);
        std::memcpy(&out.l_len, raw + at + 8, 8);
        std::memcpy(&out.l_pid, raw + at + 16, 4);
    }
    return 0;
}

long put_flock(SysCtx& c, uint64_t uptr, flock_abi abi, const kflock& in) {
    uint8_t raw[32] = {};
    const size_t size = abi == flock_abi::native ? 32 : abi == flock_abi::compat ? 16 : 24;
    std::memcpy(raw, &in.l_type, 2);
    std::memcpy(raw + 2, &in.l_whence, 2);
    if (abi == flock_abi::compat) {
        if (in.l_start != static_cast<int32_t>(in.l_start) || in.l_len != static_cast<int32_t>(in.l_len))
            return -EOVERFLOW;
        const int32_t s = static_cast<int32_t>(in.l_start), l = static_cast<int32_t>(in.l_len);
        std::memcpy(raw + 4, &s, 4);
        std::memcpy(raw + 8, &l, 4);
        std::memcpy(raw + 12, &in.l_pid, 4);
    } else {
        const size_t at = abi == flock_abi::native ? 8 : 4;
        std::memcpy(raw + at, &in.l_start, 8);
        std::memcpy(raw + at + 8, &in.l_len, 8);
        std::memcpy(raw + at + 16, &in.l_pid, 4);
    }
    return copy_to_user(c.mm, VirtAddr(uptr), raw, size) ? 0 : -EFAULT;
}

// flock_to_posix_lock: the byte range from l_whence, l_start and l_len.
long flock_to_posix_lock(file& f, const kflock& l, file_lock& fl) {
    int64_t start;
    switch (l.l_whence) {
    case SEEK_SET: start = 0; break;
    case SEEK_CUR: start = f.f_pos; break;
    case SEEK_END: start = f.f_inode ? static_cast<int64_t>(f.f_inode->i_size) : 0; break;
    default: return -EINVAL;
    }
    if (__builtin_add_overflow(start, l.l_start, &start) || start < 0) return -EINVAL;
    if (l.l_len > 0) {
        if (__builtin_add_overflow(start, l.l_len - 1, &fl.fl_end)) return -EOVERFLOW;
        fl.fl_start = start;
    } else if (l.l_len < 0) {
        fl.fl_end = start - 1;
        fl.fl_start = start + l.l_len;
        if (fl.fl_start < 0) return -EINVAL;
    } else {
        fl.fl_start = start;
        fl.fl_end = OFFSET_MAX;
    }
    return 0;
}

bool is_ofd(int cmd) { return cmd == F_OFD_GETLK_ || cmd == F_OFD_SETLK_ || cmd == F_OFD_SETLKW_; }

// The lock request a struct flock describes for cmd, with its owner (posix or OFD).
long flock_request(SysCtx& c, file& f, int cmd, const kflock& l, file_lock& fl) {
    if (l.l_type != F_RDLCK_ && l.l_type != F_WRLCK_ && l.l_type != F_UNLCK_) return -EINVAL;
    if (long e = flock_to_posix_lock(f, l, fl)) return e;
    fl.fl_type = l.l_type;
    if (is_ofd(cmd)) {
        if (l.l_pid != 0) return -EINVAL;
        fl.fl_flags = FL_OFD;
        fl.fl_owner = &f;
        fl.fl_pid = -1;
    } else {
        fl.fl_flags = FL_POSIX;
        fl.fl_owner = c.task.files.get();
        fl.fl_pid = c.task.tgid;
    }
    fl.fl_file = &f;
    return 0;
}

long fcntl_getlk(SysCtx& c, file& f, int cmd, uint64_t uptr, flock_abi abi) {
    kflock l{};
    if (long e = get_flock(c, uptr, abi, l)) return e;
    if (l.l_type != F_RDLCK_ && l.l_type != F_WRLCK_) return -EINVAL;
    file_lock req;
    if (long e = flock_request(c, f, cmd, l, req)) return e;
    if (!f.f_inode) return -EBADF;  // no inode to hold locks (see fcntl_setlk)
    file_lock_context* ctx = f.f_inode->i_flctx.get();
    const file_lock* block = ctx ? first_conflict(ctx->flc_posix, req) : nullptr;
    if (!block) {
        l.l_type = F_UNLCK_;
    } else {  // posix_lock_to_flock
        l.l_type = static_cast<int16_t>(block->fl_type);
        l.l_whence = SEEK_SET;
        l.l_start = block->fl_start;
        l.l_len = block->fl_end == OFFSET_MAX ? 0 : block->fl_end - block->fl_start + 1;
        l.l_pid = block->fl_pid;
    }
    return put_flock(c, uptr, abi, l);
}

long fcntl_setlk(SysCtx& c, file& f, int cmd, uint64_t uptr, flock_abi abi) {
    kflock l{};
    if (long e = get_flock(c, uptr, abi, l)) return e;
    file_lock req;
    if (long e = flock_request(c, f, cmd, l, req)) return e;
    // A host descriptor emu passes through (the console) has no inode to hold locks: the
    // request is refused only after it was read and checked, so EFAULT and EINVAL come first.
    if (!f.f_inode) return -EBADF;
    const unsigned acc = f.f_flags & O_ACCMODE_;
    if (l.l_type == F_RDLCK_ && acc == O_WRONLY_) return -EBADF;  // check_fmode_for_setlk
    if (l.l_type == F_WRLCK_ && acc == O_RDONLY_) return -EBADF;
    const bool wait = cmd == F_SETLKW_ || cmd == F_SETLKW64_ || cmd == F_OFD_SETLKW_;
    return posix_lock_file(c.task, *f.f_inode, req, wait);
}

void remove_matching(inode& ino, bool posix, const void* owner) {
    file_lock_context* ctx = ino.i_flctx.get();
    if (!ctx) return;
    auto& list = posix ? ctx->flc_posix : ctx->flc_flock;
    const size_t before = list.size();
    std::erase_if(list, [&](const file_lock& l) { return l.fl_owner == owner; });
    if (list.size() != before) wake_up(ctx->flc_wait);
}

}  // namespace

void locks_remove_posix(const file& f, const files_struct* owner) {
    if (f.f_inode && f.f_inode->i_flctx) remove_matching(*f.f_inode, true, owner);
}

void locks_remove_file(const file& f) {
    if (!f.f_inode || !f.f_inode->i_flctx) return;
    remove_matching(*f.f_inode, true, &f);  // its OFD locks
    remove_matching(*f.f_inode, false, &f);
    file_lock_context& ctx = *f.f_inode->i_flctx;  // locks_remove_lease
    if (std::erase_if(ctx.flc_lease, [&](const file_lease& l) { return l.fl_file == &f; })) wake_up(ctx.flc_wait);
}

long fcntl_lock(SysCtx& c, file& f, int cmd, uint64_t arg) {
    if (f.f_flags & O_PATH_) return -EBADF;
    flock_abi abi = flock_abi::native;
    if (c.compat)
        abi = (cmd == F_GETLK_ || cmd == F_SETLK_ || cmd == F_SETLKW_) ? flock_abi::compat : flock_abi::compat64;
    else if (cmd == F_GETLK64_ || cmd == F_SETLK64_ || cmd == F_SETLKW64_) return -EINVAL;  // 32-bit only
    switch (cmd) {
    case F_GETLK_:
    case F_GETLK64_:
    case F_OFD_GETLK_: return fcntl_getlk(c, f, cmd, arg, abi);
    default: return fcntl_setlk(c, f, cmd, arg, abi);
    }
}

files_struct::~files_struct() {
    for (const auto& f : fd)
        if (f) locks_remove_posix(*f, this);
}

long sys_flock(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);  // O_PATH: EBADF
    if (!f) return -EBADF;
    const unsigned cmd = static_cast<unsigned>(a[1]);
    const unsigned op = cmd & ~static_cast<unsigned>(LOCK_NB_);
    if (op != LOCK_SH_ && op != LOCK_EX_ && op != LOCK_UN_) return -EINVAL;
    if (!f->f_inode || (f->f_flags & O_PATH_)) return -EBADF;
    file_lock req;
    req.fl_flags = FL_FLOCK;
    req.fl_owner = f.get();
    req.fl_file = f.get();
    req.fl_pid = c.task.tgid;
    req.fl_type = op == LOCK_SH_ ? F_RDLCK_ : op == LOCK_EX_ ? F_WRLCK_ : F_UNLCK_;
    return flock_lock_file(c.task, *f->f_inode, req, !(cmd & LOCK_NB_));
}

// ---- Leases ----

namespace {

int lease_break_time = 45;     // seconds a lease holder has to give it up
constexpr int CAP_LEASE = 28;  // uapi/linux/capability.h

bool lease_breaking(const file_lease& l) { return l.fl_flags & (FL_UNLOCK_PENDING | FL_DOWNGRADE_PENDING); }

// The type a holder is asked to reach (target_leasetype): F_UNLCK or F_RDLCK while a break
// is pending, else the lease's own.
int target_leasetype(const file_lease& l) {
    if (l.fl_flags & FL_UNLOCK_PENDING) return F_UNLCK_;
    if (l.fl_flags & FL_DOWNGRADE_PENDING) return F_RDLCK_;
    return l.fl_type;
}

// A new type for a lease (lease_modify): the pending break it answers is over; F_UNLCK
// removes the lease and the file's SIGIO owner and signal. Blocked breakers look again.
void lease_modify(file_lock_context& ctx, size_t i, int arg) {
    file_lease& l = ctx.flc_lease[i];
    l.fl_type = arg;
    if (arg == F_UNLCK_ || arg == F_RDLCK_) l.fl_flags &= ~FL_DOWNGRADE_PENDING;  // lease_clear_pending
    if (arg == F_UNLCK_) {
        l.fl_flags &= ~FL_UNLOCK_PENDING;
        l.fl_file->f_owner.pid = 0;  // f_delown
        l.fl_file->f_owner.pid_type = PIDTYPE_TGID;
        l.fl_file->f_owner.signum = 0;
        l.fl_file->f_flags &= ~O_ASYNC_;  // off the lease's fasync list
        ctx.flc_lease.erase(ctx.flc_lease.begin() + static_cast<std::ptrdiff_t>(i));
    }
    wake_up(ctx.flc_wait);
}

bool past_time(ktime_t then, ktime_t now) { return then && now > then; }

// Forces the breaks whose time is up (time_out_leases): downgraded or removed.
void time_out_leases(file_lock_context& ctx) {
    const ktime_t now = ktime_get();
    for (size_t i = 0; i < ctx.flc_lease.size();) {
        file_lease& l = ctx.flc_lease[i];
        if (past_time(l.fl_downgrade_time, now)) lease_modify(ctx, i, F_RDLCK_);
        if (i < ctx.flc_lease.size() && &ctx.flc_lease[i] == &l && past_time(l.fl_break_time, now)) {
            lease_modify(ctx, i, F_UNLCK_);
            continue;
        }
        ++i;
    }
}

// An open for writing conflicts with any lease, one for reading with a write lease
// (leases_conflict -> locks_conflict).
bool lease_conflicts(const file_lease& l, bool want_write) { return want_write || l.fl_type == F_WRLCK_; }

bool any_leases_conflict(const file_lock_context& ctx, bool want_write) {
    for (const file_lease& l : ctx.flc_lease)
        if (lease_conflicts(l, want_write)) return true;
    return false;
}

// The holder hears of the break (lease_break_callback -> kill_fasync -> send_sigio): the
// file's owner process gets SIGIO, or F_SETSIG's signal with POLL_MSG, the band and the fd.
void lease_break_callback(const file_lease& l) { send_sigio(l.fl_file->f_owner, l.fa_fd, POLL_MSG_); }

// Whether the inode is open for writing, or open otherwise than through f, as a write
// lease needs it not to be (check_conflicting_open's i_writecount and i_readcount, found
// here by looking at every process's descriptors).
// The open files are those of every descriptor table and those the file's mappings hold
// (a mapped file stays open after its descriptor is closed); a program running from the
// inode denies writers (i_writecount below 0: executing).
void inode_open_counts(Kernel& k, const inode& ino, int& writers, int& readers, bool& executing) {
    writers = ino.i_flctx ? ino.i_flctx->breaking_writers : 0;
    readers = 0;
    executing = false;
    std::vector<const file*> seen;
    auto count = [&](const file* f) {
        if (!f || f->f_inode.get() != &ino || (f->f_flags & O_PATH_)) return;
        if (std::find(seen.begin(), seen.end(), f) != seen.end()) return;
        seen.push_back(f);
        const unsigned acc = f->f_flags & O_ACCMODE_;
        if (acc == O_WRONLY_ || acc == O_RDWR_) ++writers;
        else ++readers;
    };
    std::vector<const files_struct*> tables;
    for (const task_struct* t : k.all_tasks()) {
        const inode* exe = t->exe_inode.get();
        if (exe && !t->exit_state && (exe == &ino || (exe->i_ino == ino.i_ino && exe->i_dev == ino.i_dev)))
            executing = true;
        if (!t->files || std::find(tables.begin(), tables.end(), t->files.get()) != tables.end()) continue;
        tables.push_back(t->files.get());
        for (const auto& f : t->files->fd) count(f.get());
    }
    for (const vm_area_struct* vma : ino.i_data.i_mmap.items()) count(vma->vm_file.get());
}

long check_conflicting_open(Kernel& k, const file& f, int arg) {
    int writers, readers;
    bool executing;
    inode_open_counts(k, *f.f_inode, writers, readers, executing);
    if (arg == F_RDLCK_) return writers ? -EAGAIN : 0;
    if (executing) return -EAGAIN;
    const unsigned acc = f.f_flags & O_ACCMODE_;
    const int self_w = acc != O_RDONLY_ ? 1 : 0, self_r = acc == O_RDONLY_ ? 1 : 0;
    return writers != self_w || readers != self_r ? -EAGAIN : 0;
}

// generic_add_lease: a lease of f's, changed, or a new one.
long generic_add_lease(SysCtx& c, int fd, file& f, int arg) {
    inode& ino = *f.f_inode;
    file_lock_context* ctx = locks_inode_context(ino);
    time_out_leases(*ctx);
    if (long e = check_conflicting_open(c.kernel, f, arg)) return e;
    std::optional<size_t> mine;
    for (size_t i = 0; i < ctx->flc_lease.size(); ++i) {
        const file_lease& l = ctx->flc_lease[i];
        if (l.fl_file == &f) {
            mine = i;
            continue;
        }
        if (arg == F_WRLCK_) return -EAGAIN;                 // no write lease beside another's
        if (l.fl_flags & FL_UNLOCK_PENDING) return -EAGAIN;  // nor a new one while a writer waits
    }
    if (mine) {
        lease_modify(*ctx, *mine, arg);
    } else {
        file_lease l;
        l.fl_file = &f;
        l.fl_type = arg;
        l.fl_pid = c.task.tgid;
        l.fl_seq = next_lock_seq();
        ctx->flc_lease.push_back(l);
        mine = ctx->flc_lease.size() - 1;
    }
    ctx->flc_lease[*mine].fa_fd = fd;  // lease_setup: the fasync entry and the SIGIO owner
    f.f_flags |= O_ASYNC_;
    f_setown_current(f, c.task.tgid, PIDTYPE_TGID, false);
    return 0;
}

}  // namespace

long fcntl_setlease(SysCtx& c, int fd, file& f, long arg) {
    if (arg != F_RDLCK_ && arg != F_WRLCK_ && arg != F_UNLCK_) return -EINVAL;  // lease_alloc's assign_type
    if (!f.f_inode) return -EINVAL;
    inode& ino = *f.f_inode;
    if (c.task.cred.fsuid != ino.i_uid && !capable(CAP_LEASE)) return -EACCES;
    if (!S_ISREG(ino.i_mode)) return -EINVAL;
    if (arg != F_UNLCK_) return generic_add_lease(c, fd, f, static_cast<int>(arg));
    file_lock_context* ctx = ino.i_flctx.get();  // generic_delete_lease
    if (!ctx) return -EAGAIN;
    for (size_t i = 0; i < ctx->flc_lease.size(); ++i)
        if (ctx->flc_lease[i].fl_file == &f) {
            lease_modify(*ctx, i, F_UNLCK_);
            return 0;
        }
    return -EAGAIN;
}

long fcntl_getlease(file& f) {
    if (!f.f_inode || !f.f_inode->i_flctx) return F_UNLCK_;
    file_lock_context& ctx = *f.f_inode->i_flctx;
    time_out_leases(ctx);
    for (const file_lease& l : ctx.flc_lease)
        if (l.fl_file == &f) return target_leasetype(l);
    return F_UNLCK_;
}

long break_lease(task_struct& task, inode& ino, unsigned mode) {
    file_lock_context* ctx = ino.i_flctx.get();
    if (!ctx || ctx->flc_lease.empty()) return 0;
    time_out_leases(*ctx);
    const bool want_write = (mode & O_ACCMODE_) != O_RDONLY_;
    if (!any_leases_conflict(*ctx, want_write)) return 0;
    // do_dentry_open and vfs_truncate take write access before they break leases: a writer
    // waiting here is open for writing already.
    struct WriteAccess {
        file_lock_context& ctx;
        bool held;
        ~WriteAccess() { ctx.breaking_writers -= held; }
    } write_access{*ctx, want_write};
    ctx->breaking_writers += want_write;
    ktime_t break_time = 0;
    if (lease_break_time > 0) break_time = ktime_add_safe(ktime_get(), lease_break_time * NSEC_PER_SEC);
    // The callbacks may signal: take the leases to break first.
    std::vector<file_lease> broken;
    for (file_lease& l : ctx->flc_lease) {
        if (!lease_conflicts(l, want_write)) continue;
        if (want_write) {
            if (l.fl_flags & FL_UNLOCK_PENDING) continue;
            l.fl_flags |= FL_UNLOCK_PENDING;
            l.fl_break_time = break_time;
        } else {
            if (lease_breaking(l)) continue;
            l.fl_flags |= FL_DOWNGRADE_PENDING;
            l.fl_downgrade_time = break_time;
        }
        broken.push_back(l);
    }
    if (task.kernel)
        for (const file_lease& l : broken) lease_break_callback(l);
    if (ctx->flc_lease.empty()) return 0;
    if (mode & O_NONBLOCK_) return -EWOULDBLOCK;
    WaitQueueGuard guard(ctx->flc_wait, task);
    while (any_leases_conflict(*ctx, want_write)) {
        if (signal_pending(task)) return -ERESTARTSYS;
        // Until the first conflicting lease's break is forced, or a holder gives way.
        std::optional<ktime_t> until;
        for (const file_lease& l : ctx->flc_lease)
            if (lease_conflicts(l, want_write)) {
                const ktime_t t = want_write ? l.fl_break_time : l.fl_downgrade_time;
                if (t) until = t + 1;
                break;
            }
        schedule_hrtimeout(task, until, "a lease break");
        time_out_leases(*ctx);
    }
    return 0;
}

void locks_sysctl_init(ctl_table_root& root) {
    root.register_sysctl("fs", {{"lease-break-time", &lease_break_time, sizeof(int), 0644, proc_dointvec}});
}

file_lock_context::file_lock_context(uint64_t dev, uint64_t ino) : s_dev(dev), i_ino(ino) {
    lock_contexts().push_back(this);
}
file_lock_context::~file_lock_context() { std::erase(lock_contexts(), this); }

namespace {

// One line of /proc/locks (lock_get_status): a blocked request is indented under its
// blocker with "-> ".
void lock_get_status(std::string& out, uint64_t id, const file_lock_context& ctx, unsigned flags, int type, int pid,
                     int64_t start, int64_t end, const char* lease_state, bool blocked) {
    char line[160];
    int n = std::snprintf(line, sizeof line, "%" PRIu64 ": %s", id, blocked ? "-> " : "");
    const char* kind = (flags & FL_OFD)     ? "OFDLCK ADVISORY  "
                       : (flags & FL_POSIX) ? "POSIX  ADVISORY  "
                       : (flags & FL_FLOCK) ? "FLOCK  ADVISORY  "
                                            : "LEASE  ";
    n += std::snprintf(line + n, sizeof line - n, "%s%s%s %d %02x:%02x:%" PRIu64 " ", kind, lease_state,
                       type == F_WRLCK_   ? "WRITE"
                       : type == F_RDLCK_ ? "READ"
                                          : "UNLCK",
                       pid, major(ctx.s_dev), minor(ctx.s_dev), ctx.i_ino);
    if (flags & (FL_POSIX | FL_OFD)) {
        if (end == OFFSET_MAX) std::snprintf(line + n, sizeof line - n, "%" PRId64 " EOF\n", start);
        else std::snprintf(line + n, sizeof line - n, "%" PRId64 " %" PRId64 "\n", start, end);
    } else {
        std::snprintf(line + n, sizeof line - n, "0 EOF\n");
    }
    out += line;
}

}  // namespace

std::string locks_show() {
    struct entry {
        uint64_t seq;
        const file_lock_context* ctx;
        const file_lock* fl;
        const file_lease* lease;
    };
    std::vector<entry> all;
    for (const file_lock_context* ctx : lock_contexts()) {
        for (const file_lock& l : ctx->flc_posix) all.push_back({l.fl_seq, ctx, &l, nullptr});
        for (const file_lock& l : ctx->flc_flock) all.push_back({l.fl_seq, ctx, &l, nullptr});
        for (const file_lease& l : ctx->flc_lease) all.push_back({l.fl_seq, ctx, nullptr, &l});
    }
    std::sort(all.begin(), all.end(), [](const entry& a, const entry& b) { return a.seq > b.seq; });
    std::string out;
    uint64_t id = 0;
    for (const entry& e : all) {
        ++id;
        if (e.lease) {
            lock_get_status(out, id, *e.ctx, FL_LEASE, target_leasetype(*e.lease), e.lease->fl_pid, 0, 0,
                            lease_breaking(*e.lease) ? "BREAKING  " : "ACTIVE    ", false);
            continue;
        }
        const file_lock& l = *e.fl;
        lock_get_status(out, id, *e.ctx, l.fl_flags, l.fl_type, l.fl_pid, l.fl_start, l.fl_end, "", false);
        // The requests waiting for it: those whose first conflict in the list is this lock.
        const auto& list = (l.fl_flags & FL_FLOCK) ? e.ctx->flc_flock : e.ctx->flc_posix;
        for (const blocked_request& b : blocked_requests())
            if (b.ctx == e.ctx && (b.fl.fl_flags & FL_FLOCK) == (l.fl_flags & FL_FLOCK) &&
                first_conflict(list, b.fl) == &l)
                lock_get_status(out, id, *e.ctx, b.fl.fl_flags, b.fl.fl_type, b.fl.fl_pid, b.fl.fl_start, b.fl.fl_end,
                                "", true);
    }
    return out;
}

}  // namespace guestos
