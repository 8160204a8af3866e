// System V message queues (ipc/msg.c): typed messages in a queue of limited bytes.
// msgsnd waits while the queue is full, msgrcv while no message of the asked type is
// there (msgtyp 0: any, > 0: that type or, with MSG_EXCEPT, another, < 0: the lowest type
// up to -msgtyp); IPC_RMID wakes both with EIDRM.
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <deque>
#include <vector>

#include "guestos/include/cred.h"
#include "guestos/include/kernel.h"
#include "guestos/include/signal.h"
#include "guestos/include/syscalls.h"
#include "guestos/ipc/util.h"
#include "guestos/kernel/sched/core.h"

namespace guestos {

namespace {

constexpr int MSG_STAT = 11, MSG_INFO = 12, MSG_STAT_ANY = 13;
constexpr int MSG_NOERROR = 010000, MSG_EXCEPT = 020000, MSG_COPY = 040000;

struct msg_msg {
    int64_t m_type;
    std::vector<uint8_t> text;
};

// A queue (struct msg_queue).
struct msg_queue final : kern_ipc_perm {
    int64_t q_stime = 0, q_rtime = 0, q_ctime = 0;
    uint64_t q_cbytes = 0, q_qnum = 0, q_qbytes = 0;
    int q_lspid = 0, q_lrpid = 0;
    std::deque<msg_msg> q_messages;
    wait_queue_head q_wait;  // senders and receivers; each looks again when woken
};

enum SearchMode { SEARCH_ANY, SEARCH_EQUAL, SEARCH_NOTEQUAL, SEARCH_LESSEQUAL, SEARCH_NUMBER };

int64_t ktime_get_real_seconds() { return static_cast<int64_t>(::time(nullptr)); }

ipc_namespace& ns_of(SysCtx& c) { return c.kernel.ipc_ns(); }

msg_queue* msq_obtain_object_check(SysCtx& c, int id) {
    return static_cast<msg_queue*>(ipc_obtain_object_check(ns_of(c).msg_ids, id));
}

long newque(SysCtx& c, int key, int msgflg) {
    ipc_namespace& ns = ns_of(c);
    auto msq = std::make_shared<msg_queue>();
    msq->key = key;
    msq->mode = static_cast<unsigned>(msgflg) & S_IRWXUGO_;
    msq->q_ctime = ktime_get_real_seconds();
    msq->q_qbytes = static_cast<uint64_t>(ns.msg_ctlmnb);
    return ipc_addid(ns.msg_ids, std::move(msq), ns.msg_ctlmni);
}

long ksys_msgget(SysCtx& c, int key, int msgflg) {
    if (key == IPC_PRIVATE_) return newque(c, key, msgflg);
    kern_ipc_perm* q = ipc_findkey(ns_of(c).msg_ids, key);
    if (!q) return (msgflg & IPC_CREAT_) ? newque(c, key, msgflg) : -ENOENT;
    if ((msgflg & IPC_CREAT_) && (msgflg & IPC_EXCL_)) return -EEXIST;
    if (ipcperms(*q, msgflg)) return -EACCES;
    return q->id;
}

// Whether msgsz more bytes and one more message fit (msg_fits_inqueue).
bool msg_fits_inqueue(const msg_queue& q, uint64_t msgsz) {
    return msgsz + q.q_cbytes <= q.q_qbytes && 1 + q.q_qnum <= q.q_qbytes;
}

// Sleeps on the queue until woken (by a send, a receive, IPC_SET or IPC_RMID) or a signal.
void msq_sleep(SysCtx& c, msg_queue& q, const char* what) {
    WaitQueueGuard guard(q.q_wait, c.task);
    schedule_hrtimeout(c.task, std::nullopt, what);
}

long do_msgsnd(SysCtx& c, int msqid, int64_t mtype, uint64_t mtext, uint64_t msgsz, int msgflg) {
    ipc_namespace& ns = ns_of(c);
    if (msgsz > static_cast<uint64_t>(ns.msg_ctlmax) || static_cast<int64_t>(msgsz) < 0 || msqid < 0) return -EINVAL;
    if (mtype < 1) return -EINVAL;
    msg_msg msg{mtype, std::vector<uint8_t>(msgsz)};
    if (msgsz && !copy_from_user(c.mm, msg.text.data(), VirtAddr(mtext), msgsz)) return -EFAULT;  // load_msg
    std::shared_ptr<kern_ipc_perm> hold;  // keeps a removed queue alive while we look at it
    msg_queue* msq = msq_obtain_object_check(c, msqid);
    if (!msq) return -EINVAL;
    hold = ns.msg_ids.idr[msqid % SEQ_MULTIPLIER];
    for (;;) {
        if (ipcperms(*msq, S_IWUGO_)) return -EACCES;
        if (msq->deleted) return -EIDRM;
        if (msg_fits_inqueue(*msq, msgsz)) break;
        if (msgflg & IPC_NOWAIT_) return -EAGAIN;
        msq_sleep(c, *msq, "msgsnd");
        if (msq->deleted) return -EIDRM;
        if (signal_pending(c.task)) return -ERESTARTNOHAND;
    }
    msq->q_lspid = c.task.tgid;
    msq->q_stime = ktime_get_real_seconds();
    msq->q_cbytes += msgsz;
    ++msq->q_qnum;
    ns.msg_bytes += msgsz;
    ++ns.msg_hdrs;
    msq->q_messages.push_back(std::move(msg));
    wake_up(msq->q_wait);
    return 0;
}

// The search msgtyp and msgflg ask for (convert_mode).
SearchMode convert_mode(int64_t& msgtyp, int msgflg) {
    if (msgflg & MSG_COPY) return SEARCH_NUMBER;
    if (msgtyp == 0) return SEARCH_ANY;
    if (msgtyp < 0) {
        msgtyp = msgtyp == LONG_MIN ? LONG_MAX : -msgtyp;
        return SEARCH_LESSEQUAL;
    }
    return (msgflg & MSG_EXCEPT) ? SEARCH_NOTEQUAL : SEARCH_EQUAL;
}

bool testmsg(const msg_msg& m, int64_t type, SearchMode mode) {
    switch (mode) {
    case SEARCH_ANY:
    case SEARCH_NUMBER: return true;
    case SEARCH_LESSEQUAL: return m.m_type <= type;
    case SEARCH_EQUAL: return m.m_type == type;
    case SEARCH_NOTEQUAL: return m.m_type != type;
    }
    return false;
}

// The message to take (find_msg): for SEARCH_LESSEQUAL the first of the lowest type, for
// SEARCH_NUMBER the msgtyp-th; end() when none.
std::deque<msg_msg>::iterator find_msg(msg_queue& q, int64_t msgtyp, SearchMode mode) {
    auto found = q.q_messages.end();
    int64_t count = 0;
    for (auto it = q.q_messages.begin(); it != q.q_messages.end(); ++it) {
        if (!testmsg(*it, msgtyp, mode)) continue;
        if (mode == SEARCH_LESSEQUAL && it->m_type != 1) {
            msgtyp = it->m_type - 1;
            found = it;
        } else if (mode == SEARCH_NUMBER) {
            if (msgtyp == count) return it;
        } else {
            return it;
        }
        ++count;
    }
    return found;
}

// Writes mtype and up to bufsz bytes of text (do_msg_fill): the bytes or -EFAULT.
long do_msg_fill(SysCtx& c, uint64_t buf, const msg_msg& m, uint64_t bufsz) {
    const size_t tsz = c.ptr_size();
    const uint64_t msgsz = std::min<uint64_t>(bufsz, m.text.size());
    if (!put_user_long(c, VirtAddr(buf), static_cast<uint64_t>(m.m_type))) return -EFAULT;
    if (msgsz && !copy_to_user(c.mm, VirtAddr(buf + tsz), m.text.data(), msgsz)) return -EFAULT;
    return static_cast<long>(msgsz);
}

long do_msgrcv(SysCtx& c, int msqid, uint64_t buf, uint64_t bufsz, int64_t msgtyp, int msgflg) {
    ipc_namespace& ns = ns_of(c);
    const SearchMode mode = convert_mode(msgtyp, msgflg);
    if ((msgflg & MSG_COPY) && ((msgflg & MSG_EXCEPT) || !(msgflg & IPC_NOWAIT_))) return -EINVAL;
    if (msqid < 0 || static_cast<int64_t>(bufsz) < 0) return -EINVAL;
    msg_queue* msq = msq_obtain_object_check(c, msqid);
    if (!msq) return -EINVAL;
    std::shared_ptr<kern_ipc_perm> hold = ns.msg_ids.idr[msqid % SEQ_MULTIPLIER];
    for (;;) {
        if (ipcperms(*msq, S_IRUGO_)) return -EACCES;
        if (msq->deleted) return -EIDRM;
        auto it = find_msg(*msq, msgtyp, mode);
        if (it != msq->q_messages.end()) {
            if (bufsz < it->text.size() && !(msgflg & MSG_NOERROR)) return -E2BIG;
            if (msgflg & MSG_COPY) return do_msg_fill(c, buf, *it, std::min<uint64_t>(bufsz, ns.msg_ctlmax));
            msg_msg m = std::move(*it);
            msq->q_messages.erase(it);
            --msq->q_qnum;
            msq->q_rtime = ktime_get_real_seconds();
            msq->q_lrpid = c.task.tgid;
            msq->q_cbytes -= m.text.size();
            ns.msg_bytes -= m.text.size();
            --ns.msg_hdrs;
            wake_up(msq->q_wait);  // ss_wakeup: senders may fit now
            return do_msg_fill(c, buf, m, bufsz);
        }
        if (msgflg & IPC_NOWAIT_) return -ENOMSG;
        msq_sleep(c, *msq, "msgrcv");
        if (msq->deleted) return -EIDRM;
        if (signal_pending(c.task)) return -ERESTARTNOHAND;
    }
}

// struct msqid64_ds in the caller's layout (120 bytes on x86-64, 88 as compat_msqid64_ds).
std::vector<uint8_t> msqid64_ds_bytes(const msg_queue& q, bool compat) {
    const size_t perm = ipc64_perm_size(compat);
    std::vector<uint8_t> out(compat ? 88 : 120, 0);
    put_ipc64_perm(out.data(), q, compat);
    auto put = [&](size_t off, uint64_t v, size_t n) { std::memcpy(out.data() + off, &v, n); };
    if (compat) {
        put(perm, static_cast<uint64_t>(q.q_stime), 4), put(perm + 4, static_cast<uint64_t>(q.q_stime) >> 32, 4);
        put(perm + 8, static_cast<uint64_t>(q.q_rtime), 4), put(perm + 12, static_cast<uint64_t>(q.q_rtime) >> 32, 4);
        put(perm + 16, static_cast<uint64_t>(q.q_ctime), 4), put(perm + 20, static_cast<uint64_t>(q.q_ctime) >> 32, 4);
        put(perm + 24, q.q_cbytes, 4), put(perm + 28, q.q_qnum, 4), put(perm + 32, q.q_qbytes, 4);
        put(perm + 36, static_cast<uint32_t>(q.q_lspid), 4), put(perm + 40, static_cast<uint32_t>(q.q_lrpid), 4);
    } else {
        put(perm, static_cast<uint64_t>(q.q_stime), 8), put(perm + 8, static_cast<uint64_t>(q.q_rtime), 8);
        put(perm + 16, static_cast<uint64_t>(q.q_ctime), 8);
        put(perm + 24, q.q_cbytes, 8), put(perm + 32, q.q_qnum, 8), put(perm + 40, q.q_qbytes, 8);
        put(perm + 48, static_cast<uint32_t>(q.q_lspid), 4), put(perm + 52, static_cast<uint32_t>(q.q_lrpid), 4);
    }
    return out;
}

long msgctl_stat(SysCtx& c, int msqid, int cmd, uint64_t buf) {
    msg_queue* msq = (cmd == MSG_STAT || cmd == MSG_STAT_ANY)
                         ? static_cast<msg_queue*>(ipc_obtain_object_idr(ns_of(c).msg_ids, msqid))
                         : msq_obtain_object_check(c, msqid);
    if (!msq) return -EINVAL;
    if (cmd != MSG_STAT_ANY && ipcperms(*msq, S_IRUGO_)) return -EACCES;
    const auto bytes = msqid64_ds_bytes(*msq, c.compat);
    if (!copy_to_user(c.mm, VirtAddr(buf), bytes.data(), bytes.size())) return -EFAULT;
    return cmd == IPC_STAT_ ? 0 : msq->id;
}

// IPC_INFO and MSG_INFO (struct msginfo, the same in both ABIs): the highest index in use.
long msgctl_info(SysCtx& c, int cmd, uint64_t buf) {
    ipc_namespace& ns = ns_of(c);
    constexpr int MSGPOOL = 32000 * 16384 / 1024, MSGSSZ = 16, MSGSEG = 0xffff;
    int32_t v[7] = {MSGPOOL, ns.msg_ctlmnb, ns.msg_ctlmax, ns.msg_ctlmnb, ns.msg_ctlmni, MSGSSZ, ns.msg_ctlmnb};
    if (cmd == MSG_INFO) {  // msgpool, msgmap, msgtql become queues, headers and bytes in use
        v[0] = ns.msg_ids.in_use;
        v[1] = static_cast<int32_t>(ns.msg_hdrs);
        v[6] = static_cast<int32_t>(ns.msg_bytes);
    }
    uint8_t out[32] = {};
    std::memcpy(out, v, sizeof v);
    const uint16_t msgseg = MSGSEG;
    std::memcpy(out + 28, &msgseg, 2);
    if (!copy_to_user(c.mm, VirtAddr(buf), out, sizeof out)) return -EFAULT;
    const int max = ipc_get_maxidx(ns.msg_ids);
    return max < 0 ? 0 : max;
}

// IPC_RMID and IPC_SET (msgctl_down).
long msgctl_down(SysCtx& c, int msqid, int cmd, uint64_t buf) {
    uint32_t uid = 0, gid = 0;
    unsigned mode = 0;
    uint64_t qbytes = 0;
    if (cmd == IPC_SET_) {
        uint8_t raw[120];
        if (!copy_from_user(c.mm, raw, VirtAddr(buf), c.compat ? 88 : 120)) return -EFAULT;
        get_ipc64_perm_set(raw, uid, gid, mode, c.compat);
        std::memcpy(&qbytes, raw + (c.compat ? 68 : 88), c.compat ? 4 : 8);
    }
    long err = 0;
    auto* msq = static_cast<msg_queue*>(ipcctl_obtain_check(ns_of(c).msg_ids, msqid, err));
    if (!msq) return err;
    if (cmd == IPC_SET_) {
        if (qbytes > static_cast<uint64_t>(ns_of(c).msg_ctlmnb) && !capable(CAP_SYS_RESOURCE_)) return -EPERM;
        if (static_cast<int32_t>(uid) == -1 || static_cast<int32_t>(gid) == -1) return -EINVAL;
        ipc_update_perm(*msq, uid, gid, mode);
        msq->q_qbytes = qbytes;
        msq->q_ctime = ktime_get_real_seconds();
        wake_up(msq->q_wait);  // senders may fit now
        return 0;
    }
    // freeque: the messages go, sleepers wake to EIDRM.
    ns_of(c).msg_bytes -= msq->q_cbytes;
    ns_of(c).msg_hdrs -= msq->q_qnum;
    std::shared_ptr<kern_ipc_perm> hold = ns_of(c).msg_ids.idr[msqid % SEQ_MULTIPLIER];
    ipc_rmid(ns_of(c).msg_ids, *msq);
    wake_up(msq->q_wait);
    return 0;
}

long ksys_msgctl(SysCtx& c, int msqid, int cmd, uint64_t buf, int version) {
    if (msqid < 0 || cmd < 0) return -EINVAL;
    if (version != IPC_64_ && cmd != IPC_RMID_) return -EINVAL;  // the old layouts are not here
    switch (cmd) {
    case IPC_INFO_:
    case MSG_INFO: return msgctl_info(c, cmd, buf);
    case MSG_STAT:
    case MSG_STAT_ANY:
    case IPC_STAT_: return msgctl_stat(c, msqid, cmd, buf);
    case IPC_SET_:
    case IPC_RMID_: return msgctl_down(c, msqid, cmd, buf);
    default: return -EINVAL;
    }
}

// msgsnd's struct msgbuf: a long mtype, then the text.
long ksys_msgsnd(SysCtx& c, int msqid, uint64_t msgp, uint64_t msgsz, int msgflg) {
    int64_t mtype = 0;
    if (!copy_from_user(c.mm, &mtype, VirtAddr(msgp), c.ptr_size())) return -EFAULT;
    if (c.compat) mtype = static_cast<int32_t>(mtype);
    return do_msgsnd(c, msqid, mtype, msgp + c.ptr_size(), c.compat ? static_cast<int32_t>(msgsz) : msgsz, msgflg);
}

}  // namespace

long sys_msgget(SysCtx& c, const uint64_t* a) {
    return ksys_msgget(c, static_cast<int32_t>(a[0]), static_cast<int32_t>(a[1]));
}

long sys_msgsnd(SysCtx& c, const uint64_t* a) {
    return ksys_msgsnd(c, static_cast<int32_t>(a[0]), a[1], a[2], static_cast<int32_t>(a[3]));
}

long sys_msgrcv(SysCtx& c, const uint64_t* a) {
    const int64_t msgtyp = c.compat ? static_cast<int32_t>(a[3]) : static_cast<int64_t>(a[3]);
    const uint64_t bufsz = c.compat ? static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(a[2]))) : a[2];
    return do_msgrcv(c, static_cast<int32_t>(a[0]), a[1], bufsz, msgtyp, static_cast<int32_t>(a[4]));
}

long sys_msgctl(SysCtx& c, const uint64_t* a) {
    return ksys_msgctl(c, static_cast<int32_t>(a[0]), static_cast<int32_t>(a[1]), a[2], IPC_64_);
}

long ipc_msg(SysCtx& c, unsigned call, int version, const uint64_t* a) {
    constexpr unsigned MSGSND = 11, MSGRCV = 12, MSGGET = 13, MSGCTL = 14;
    const int first = static_cast<int32_t>(a[1]);
    const int second = static_cast<int32_t>(a[2]);
    switch (call) {
    case MSGSND:
        return ksys_msgsnd(c, first, a[4], static_cast<uint64_t>(static_cast<int64_t>(second)),
                           static_cast<int32_t>(a[3]));
    case MSGRCV: {
        if (first < 0 || second < 0) return -EINVAL;
        uint64_t msgp = a[4];
        int64_t msgtyp = static_cast<int32_t>(a[5]);
        if (!version) {  // struct ipc_kludge { msgp, msgtyp }
            if (!a[4]) return -EINVAL;
            int32_t k[2];
            if (!copy_from_user(c.mm, k, VirtAddr(a[4]), sizeof k)) return -EFAULT;
            msgp = static_cast<uint32_t>(k[0]);
            msgtyp = k[1];
        }
        return do_msgrcv(c, first, msgp, static_cast<uint64_t>(second), msgtyp, static_cast<int32_t>(a[3]));
    }
    case MSGGET: return ksys_msgget(c, first, second);
    case MSGCTL: {
        int cmd = second;
        const int v = ipc_parse_version(cmd);
        return ksys_msgctl(c, first, cmd, a[4], v);
    }
    default: return -ENOSYS;
    }
}

std::string sysvipc_msg_proc_show(ipc_namespace& ns) {
    std::string out =
        "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid"
        "      stime      rtime      ctime\n";
    for (const auto& [idx, perm] : ns.msg_ids.idr) {
        const auto& msq = static_cast<const msg_queue&>(*perm);
        char line[200];
        std::snprintf(line, sizeof line, "%10d %10d  %4o  %10lu %10lu %5u %5u %5u %5u %5u %5u %10llu %10llu %10llu\n",
                      msq.key, msq.id, msq.mode, (unsigned long)msq.q_cbytes, (unsigned long)msq.q_qnum,
                      (unsigned)msq.q_lspid, (unsigned)msq.q_lrpid, msq.uid, msq.gid, msq.cuid, msq.cgid,
                      (unsigned long long)msq.q_stime, (unsigned long long)msq.q_rtime,
                      (unsigned long long)msq.q_ctime);
        out += line;
    }
    return out;
}

}  // namespace guestos
