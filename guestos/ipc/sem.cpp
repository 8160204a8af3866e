// System V semaphores (ipc/sem.c): arrays of counters changed atomically by semop. An
// operation list either applies whole or not at all (perform_atomic_semop_slow: applied in
// order on the values, undone on failure); a caller that would block sleeps until another
// change and tries again. SEM_UNDO keeps per-process adjustments applied at exit.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include "guestos/include/kernel.h"
#include "guestos/include/signal.h"
#include "guestos/include/syscalls.h"
#include "guestos/ipc/util.h"
#include "guestos/kernel/sched/core.h"

namespace guestos {

namespace {

constexpr int GETPID = 11, GETVAL = 12, GETALL = 13, GETNCNT = 14, GETZCNT = 15, SETVAL = 16, SETALL = 17;
constexpr int SEM_STAT = 18, SEM_INFO = 19, SEM_STAT_ANY = 20;
constexpr int SEM_UNDO = 0x1000;
constexpr int SEMVMX = 32767, SEMAEM = SEMVMX;

struct sembuf_k {
    uint16_t sem_num;
    int16_t sem_op;
    int16_t sem_flg;
};
static_assert(sizeof(sembuf_k) == 6);

struct sem {
    int semval = 0;
    int sempid = 0;
};

// A task asleep in semop, and the operation it waits on (for GETNCNT and GETZCNT).
struct sem_sleeper {
    int semnum;
    bool zero;  // waits for 0 (semzcnt), else for an increase (semncnt)
};

// An array (struct sem_array).
struct sem_array final : kern_ipc_perm {
    int64_t sem_ctime = 0, sem_otime = 0;
    std::vector<sem> sems;
    std::vector<sem_sleeper*> pending;
    wait_queue_head wait;
};

int64_t ktime_get_real_seconds() { return static_cast<int64_t>(::time(nullptr)); }

ipc_namespace& ns_of(SysCtx& c) { return c.kernel.ipc_ns(); }

sem_array* sem_obtain_object_check(SysCtx& c, int id) {
    return static_cast<sem_array*>(ipc_obtain_object_check(ns_of(c).sem_ids, id));
}

long newary(SysCtx& c, int key, int nsems, int semflg) {
    ipc_namespace& ns = ns_of(c);
    if (!nsems) return -EINVAL;
    if (ns.used_sems + static_cast<uint64_t>(nsems) > static_cast<uint64_t>(ns.sc_semmns)) return -ENOSPC;
    auto sma = std::make_shared<sem_array>();
    sma->key = key;
    sma->mode = static_cast<unsigned>(semflg) & S_IRWXUGO_;
    sma->sems.resize(static_cast<size_t>(nsems));
    sma->sem_ctime = ktime_get_real_seconds();
    const int id = ipc_addid(ns.sem_ids, std::move(sma), ns.sc_semmni);
    if (id >= 0) ns.used_sems += static_cast<uint64_t>(nsems);
    return id;
}

long ksys_semget(SysCtx& c, int key, int nsems, int semflg) {
    if (nsems < 0 || nsems > ns_of(c).sc_semmsl) return -EINVAL;
    if (key == IPC_PRIVATE_) return newary(c, key, nsems, semflg);
    auto* sma = static_cast<sem_array*>(ipc_findkey(ns_of(c).sem_ids, key));
    if (!sma) return (semflg & IPC_CREAT_) ? newary(c, key, nsems, semflg) : -ENOENT;
    if ((semflg & IPC_CREAT_) && (semflg & IPC_EXCL_)) return -EEXIST;
    if (static_cast<size_t>(nsems) > sma->sems.size()) return -EINVAL;  // sem_more_checks
    if (ipcperms(*sma, semflg)) return -EACCES;
    return sma->id;
}

// The caller's adjustments for an array, made on first use (find_alloc_undo).
std::vector<int>& undo_of(SysCtx& c, const sem_array& sma) {
    auto& v = ns_of(c).sem_undo[c.task.tgid][sma.id];
    v.resize(sma.sems.size());
    return v;
}

// Applies the operations in order, or none (perform_atomic_semop_slow): 0, 1 (would
// block; *blocking says on what), -EAGAIN for a block with IPC_NOWAIT, or -ERANGE.
long perform_atomic_semop(SysCtx& c, sem_array& sma, const std::vector<sembuf_k>& sops, const sembuf_k** blocking) {
    std::vector<sem> vals = sma.sems;
    std::vector<int>* un = nullptr;
    std::vector<int> adj;
    for (const sembuf_k& sop : sops) {
        if (sop.sem_flg & SEM_UNDO) {
            un = &undo_of(c, sma);
            if (adj.empty()) adj = *un;
        }
    }
    for (const sembuf_k& sop : sops) {
        sem& curr = vals[sop.sem_num];
        int result = curr.semval;
        if (!sop.sem_op && result) {
            *blocking = &sop;
            return (sop.sem_flg & IPC_NOWAIT_) ? -EAGAIN : 1;
        }
        result += sop.sem_op;
        if (result < 0) {
            *blocking = &sop;
            return (sop.sem_flg & IPC_NOWAIT_) ? -EAGAIN : 1;
        }
        if (result > SEMVMX) return -ERANGE;
        if (sop.sem_flg & SEM_UNDO) {
            const int undo = adj[sop.sem_num] - sop.sem_op;
            if (undo < -SEMAEM - 1 || undo > SEMAEM) return -ERANGE;
            adj[sop.sem_num] = undo;
        }
        curr.semval = result;
    }
    for (const sembuf_k& sop : sops) vals[sop.sem_num].sempid = c.task.tgid;
    sma.sems = std::move(vals);
    if (un) *un = std::move(adj);
    return 0;
}

long do_semtimedop(SysCtx& c, int semid, uint64_t tsops, unsigned nsops, std::optional<timespec> timeout) {
    ipc_namespace& ns = ns_of(c);
    // do_semtimedop: the count is checked (E2BIG, EINVAL) before the operations are read,
    // the id after.
    if (nsops > static_cast<unsigned>(ns.sc_semopm)) return -E2BIG;
    if (nsops < 1) return -EINVAL;
    if (nsops > 0x100000) return -ENOMEM;  // kvmalloc_array's failure (kernel.sem's SEMOPM raised that far)
    std::vector<sembuf_k> sops(nsops);
    if (!copy_from_user(c.mm, sops.data(), VirtAddr(tsops), nsops * sizeof(sembuf_k))) return -EFAULT;
    if (semid < 0) return -EINVAL;
    std::optional<ktime_t> until;
    if (timeout) {
        if (!timespec_valid(*timeout)) return -EINVAL;
        until = ktime_add_safe(ktime_get(), timespec_to_ktime(*timeout));
    }
    unsigned max = 0;
    bool alter = false;
    for (const sembuf_k& sop : sops) {
        max = std::max<unsigned>(max, sop.sem_num);
        if (sop.sem_op) alter = true;
    }
    sem_array* sma = sem_obtain_object_check(c, semid);
    if (!sma) return -EINVAL;
    if (max >= sma->sems.size()) return -EFBIG;
    if (ipcperms(*sma, alter ? S_IWUGO_ : S_IRUGO_)) return -EACCES;
    std::shared_ptr<kern_ipc_perm> hold = ns.sem_ids.idr[semid % SEQ_MULTIPLIER];  // alive while we sleep
    for (;;) {
        if (sma->deleted) return -EIDRM;
        const sembuf_k* blocking = nullptr;
        const long r = perform_atomic_semop(c, *sma, sops, &blocking);
        if (r <= 0) {
            if (r == 0) {
                sma->sem_otime = ktime_get_real_seconds();
                if (alter) wake_up(sma->wait);  // others may proceed now (do_smart_update)
            }
            return r;
        }
        if (until && ktime_get() >= *until) return -EAGAIN;
        sem_sleeper me{blocking->sem_num, blocking->sem_op == 0};
        sma->pending.push_back(&me);
        {
            WaitQueueGuard guard(sma->wait, c.task);
            schedule_hrtimeout(c.task, until, "semop");
        }
        sma->pending.erase(std::find(sma->pending.begin(), sma->pending.end(), &me));
        if (sma->deleted) return -EIDRM;
        if (signal_pending(c.task)) return -ERESTARTNOHAND;
    }
}

// The tasks waiting on semaphore semnum for an increase or for zero (count_semcnt).
int count_semcnt(const sem_array& sma, int semnum, bool zero) {
    return static_cast<int>(std::count_if(sma.pending.begin(), sma.pending.end(), [&](const sem_sleeper* s) {
        return s->semnum == semnum && s->zero == zero;
    }));
}

// A value set by SETVAL or SETALL clears every process's adjustment of it.
void clear_semadj(ipc_namespace& ns, int semid, int semnum) {
    for (auto& [tgid, arrays] : ns.sem_undo) {
        auto it = arrays.find(semid);
        if (it == arrays.end()) continue;
        for (size_t i = 0; i < it->second.size(); ++i)
            if (semnum < 0 || static_cast<int>(i) == semnum) it->second[i] = 0;
    }
}

long semctl_setval(SysCtx& c, int semid, int semnum, int val) {
    if (val > SEMVMX || val < 0) return -ERANGE;
    sem_array* sma = sem_obtain_object_check(c, semid);
    if (!sma) return -EINVAL;
    if (semnum < 0 || static_cast<size_t>(semnum) >= sma->sems.size()) return -EINVAL;
    if (ipcperms(*sma, S_IWUGO_)) return -EACCES;
    clear_semadj(ns_of(c), semid, semnum);
    sma->sems[semnum].semval = val;
    sma->sems[semnum].sempid = c.task.tgid;
    sma->sem_ctime = ktime_get_real_seconds();
    wake_up(sma->wait);
    return 0;
}

long semctl_main(SysCtx& c, int semid, int semnum, int cmd, uint64_t p) {
    sem_array* sma = sem_obtain_object_check(c, semid);
    if (!sma) return -EINVAL;
    const size_t nsems = sma->sems.size();
    if (ipcperms(*sma, cmd == SETALL ? S_IWUGO_ : S_IRUGO_)) return -EACCES;
    if (cmd == GETALL) {
        std::vector<uint16_t> io(nsems);
        for (size_t i = 0; i < nsems; ++i) io[i] = static_cast<uint16_t>(sma->sems[i].semval);
        return copy_to_user(c.mm, VirtAddr(p), io.data(), nsems * 2) ? 0 : -EFAULT;
    }
    if (cmd == SETALL) {
        std::vector<uint16_t> io(nsems);
        if (!copy_from_user(c.mm, io.data(), VirtAddr(p), nsems * 2)) return -EFAULT;
        for (uint16_t v : io)
            if (v > SEMVMX) return -ERANGE;
        clear_semadj(ns_of(c), semid, -1);
        for (size_t i = 0; i < nsems; ++i) sma->sems[i] = sem{io[i], c.task.tgid};
        sma->sem_ctime = ktime_get_real_seconds();
        wake_up(sma->wait);
        return 0;
    }
    if (semnum < 0 || static_cast<size_t>(semnum) >= nsems) return -EINVAL;
    switch (cmd) {
    case GETVAL: return sma->sems[semnum].semval;
    case GETPID: return sma->sems[semnum].sempid;
    case GETNCNT: return count_semcnt(*sma, semnum, false);
    case GETZCNT: return count_semcnt(*sma, semnum, true);
    }
    return -EINVAL;
}

// struct semid64_ds in the caller's layout (x86's own: 104 bytes on x86-64, with a word of
// padding after each time; 64 as compat_semid64_ds).
std::vector<uint8_t> semid64_ds_bytes(const sem_array& s, bool compat) {
    const size_t perm = ipc64_perm_size(compat);
    std::vector<uint8_t> out(compat ? 64 : 104, 0);
    put_ipc64_perm(out.data(), s, compat);
    auto put = [&](size_t off, uint64_t v, size_t n) { std::memcpy(out.data() + off, &v, n); };
    if (compat) {
        put(perm, static_cast<uint64_t>(s.sem_otime), 4), put(perm + 4, static_cast<uint64_t>(s.sem_otime) >> 32, 4);
        put(perm + 8, static_cast<uint64_t>(s.sem_ctime), 4),
            put(perm + 12, static_cast<uint64_t>(s.sem_ctime) >> 32, 4);
        put(perm + 16, s.sems.size(), 4);
    } else {
        put(perm, static_cast<uint64_t>(s.sem_otime), 8), put(perm + 16, static_cast<uint64_t>(s.sem_ctime), 8);
        put(perm + 32, s.sems.size(), 8);
    }
    return out;
}

long semctl_stat(SysCtx& c, int semid, int cmd, uint64_t p) {
    sem_array* sma = (cmd == SEM_STAT || cmd == SEM_STAT_ANY)
                         ? static_cast<sem_array*>(ipc_obtain_object_idr(ns_of(c).sem_ids, semid))
                         : sem_obtain_object_check(c, semid);
    if (!sma) return -EINVAL;
    if (cmd != SEM_STAT_ANY && ipcperms(*sma, S_IRUGO_)) return -EACCES;
    const auto bytes = semid64_ds_bytes(*sma, c.compat);
    if (!copy_to_user(c.mm, VirtAddr(p), bytes.data(), bytes.size())) return -EFAULT;
    return cmd == IPC_STAT_ ? 0 : sma->id;
}

// IPC_INFO and SEM_INFO (struct seminfo, ten ints in both ABIs): the highest index used.
long semctl_info(SysCtx& c, int cmd, uint64_t p) {
    ipc_namespace& ns = ns_of(c);
    constexpr int32_t SEMUSZ = 20;
    const bool in_use = cmd == SEM_INFO;  // SEM_INFO reports use where IPC_INFO has limits
    // struct seminfo: semmap semmni semmns semmnu semmsl semopm semume semusz semvmx semaem.
    const int32_t info[10] = {ns.sc_semmns, ns.sc_semmni,
                              ns.sc_semmns, ns.sc_semmns,
                              ns.sc_semmsl, ns.sc_semopm,
                              ns.sc_semopm, in_use ? ns.sem_ids.in_use : SEMUSZ,
                              SEMVMX,       in_use ? static_cast<int32_t>(ns.used_sems) : SEMAEM};
    if (!copy_to_user(c.mm, VirtAddr(p), info, sizeof info)) return -EFAULT;
    const int max = ipc_get_maxidx(ns.sem_ids);
    return max < 0 ? 0 : max;
}

long semctl_down(SysCtx& c, int semid, int cmd, uint64_t p) {
    uint32_t uid = 0, gid = 0;
    unsigned mode = 0;
    if (cmd == IPC_SET_) {
        uint8_t raw[104];
        if (!copy_from_user(c.mm, raw, VirtAddr(p), c.compat ? 64 : 104)) return -EFAULT;
        get_ipc64_perm_set(raw, uid, gid, mode, c.compat);
    }
    ipc_namespace& ns = ns_of(c);
    long err = 0;
    auto* sma = static_cast<sem_array*>(ipcctl_obtain_check(ns.sem_ids, semid, err));
    if (!sma) return err;
    if (cmd == IPC_SET_) {
        if (static_cast<int32_t>(uid) == -1 || static_cast<int32_t>(gid) == -1) return -EINVAL;
        ipc_update_perm(*sma, uid, gid, mode);
        sma->sem_ctime = ktime_get_real_seconds();
        return 0;
    }
    // freeary: the undo entries go, sleepers wake to EIDRM.
    for (auto& [tgid, arrays] : ns.sem_undo) arrays.erase(semid);
    ns.used_sems -= sma->sems.size();
    std::shared_ptr<kern_ipc_perm> hold = ns.sem_ids.idr[semid % SEQ_MULTIPLIER];
    ipc_rmid(ns.sem_ids, *sma);
    wake_up(sma->wait);
    return 0;
}

long ksys_semctl(SysCtx& c, int semid, int semnum, int cmd, uint64_t arg, int version) {
    if (semid < 0) return -EINVAL;
    const bool needs_buffer = cmd == IPC_STAT_ || cmd == SEM_STAT || cmd == SEM_STAT_ANY || cmd == IPC_SET_ ||
                              cmd == IPC_INFO_ || cmd == SEM_INFO;
    if (version != IPC_64_ && needs_buffer && cmd != IPC_INFO_ && cmd != SEM_INFO) return -EINVAL;  // old layouts
    switch (cmd) {
    case IPC_INFO_:
    case SEM_INFO: return semctl_info(c, cmd, arg);
    case IPC_STAT_:
    case SEM_STAT:
    case SEM_STAT_ANY: return semctl_stat(c, semid, cmd, arg);
    case GETALL:
    case GETVAL:
    case GETPID:
    case GETNCNT:
    case GETZCNT:
    case SETALL: return semctl_main(c, semid, semnum, cmd, arg);
    case SETVAL: return semctl_setval(c, semid, semnum, static_cast<int32_t>(arg));
    case IPC_SET_:
    case IPC_RMID_: return semctl_down(c, semid, cmd, arg);
    default: return -EINVAL;
    }
}

long semtimedop_syscall(SysCtx& c, const uint64_t* a, bool has_timeout, bool time64) {
    std::optional<timespec> ts;
    if (has_timeout && a[3]) {
        timespec t;
        if (!get_timespec(c, VirtAddr(a[3]), t, time64)) return -EFAULT;
        ts = t;
    }
    return do_semtimedop(c, static_cast<int32_t>(a[0]), a[1], static_cast<uint32_t>(a[2]), ts);
}

}  // namespace

void exit_sem(ipc_namespace& ns, int tgid) {
    auto it = ns.sem_undo.find(tgid);
    if (it == ns.sem_undo.end()) return;
    for (auto& [semid, adj] : it->second) {
        auto* sma = static_cast<sem_array*>(ipc_obtain_object_check(ns.sem_ids, semid));
        if (!sma) continue;
        for (size_t i = 0; i < adj.size() && i < sma->sems.size(); ++i) {
            if (!adj[i]) continue;
            // The value is clamped to [0, SEMVMX] as Linux does.
            sma->sems[i].semval = std::clamp(sma->sems[i].semval + adj[i], 0, SEMVMX);
            sma->sems[i].sempid = tgid;
        }
        wake_up(sma->wait);
    }
    ns.sem_undo.erase(it);
}

long sys_semget(SysCtx& c, const uint64_t* a) {
    return ksys_semget(c, static_cast<int32_t>(a[0]), static_cast<int32_t>(a[1]), static_cast<int32_t>(a[2]));
}
long sys_semop(SysCtx& c, const uint64_t* a) { return semtimedop_syscall(c, a, false, false); }
long sys_semtimedop(SysCtx& c, const uint64_t* a) { return semtimedop_syscall(c, a, true, false); }
long sys_semtimedop_time64(SysCtx& c, const uint64_t* a) { return semtimedop_syscall(c, a, true, true); }
long sys_semctl(SysCtx& c, const uint64_t* a) {
    return ksys_semctl(c, static_cast<int32_t>(a[0]), static_cast<int32_t>(a[1]), static_cast<int32_t>(a[2]), a[3],
                       IPC_64_);
}

long ipc_sem(SysCtx& c, unsigned call, int version, const uint64_t* a) {
    constexpr unsigned SEMOP = 1, SEMGET = 2, SEMCTL = 3, SEMTIMEDOP = 4;
    (void)version;
    const int first = static_cast<int32_t>(a[1]);
    switch (call) {
    case SEMOP: return do_semtimedop(c, first, a[4], static_cast<uint32_t>(a[2]), std::nullopt);
    case SEMTIMEDOP: {
        const uint64_t args[4] = {a[1], a[4], a[2], a[5]};
        return semtimedop_syscall(c, args, true, false);
    }
    case SEMGET: return ksys_semget(c, first, static_cast<int32_t>(a[2]), static_cast<int32_t>(a[3]));
    case SEMCTL: {
        if (!a[4]) return -EINVAL;
        uint32_t pad;
        if (!copy_from_user(c.mm, &pad, VirtAddr(a[4]), 4)) return -EFAULT;
        int cmd = static_cast<int32_t>(a[3]);
        const int v = ipc_parse_version(cmd);
        return ksys_semctl(c, first, static_cast<int32_t>(a[2]), cmd, pad, v);
    }
    default: return -ENOSYS;
    }
}

std::string sysvipc_sem_proc_show(ipc_namespace& ns) {
    std::string out = "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n";
    for (const auto& [idx, perm] : ns.sem_ids.idr) {
        const auto& sma = static_cast<const sem_array&>(*perm);
        char line[160];
        std::snprintf(line, sizeof line, "%10d %10d  %4o %10u %5u %5u %5u %5u %10llu %10llu\n", sma.key, sma.id,
                      sma.mode, (unsigned)sma.sems.size(), sma.uid, sma.gid, sma.cuid, sma.cgid,
                      (unsigned long long)sma.sem_otime, (unsigned long long)sma.sem_ctime);
        out += line;
    }
    return out;
}

}  // namespace guestos
