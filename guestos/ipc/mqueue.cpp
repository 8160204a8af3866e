// POSIX message queues (ipc/mqueue.c): a queue is an inode of the mqueue filesystem whose
// messages wait by priority (highest first, FIFO within one); a descriptor is an open file
// of it (always close-on-exec), whose read gives the QSIZE line and whose poll says whether
// a message waits or room is left. A sender hands its message straight to a waiting
// receiver, and a receiver that frees a place takes the first waiting sender's message in
// (pipelined_send / pipelined_receive). One process may ask to hear of a message arriving
// in an empty queue (mq_notify): a signal or nothing; SIGEV_THREAD needs an AF_NETLINK
// socket, which emu has none of, so it fails as Linux fails for a socket of another family.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <deque>
#include <list>
#include <map>

#include "guestos/include/cred.h"
#include "guestos/include/kernel.h"
#include "guestos/include/namei.h"
#include "guestos/include/poll.h"
#include "guestos/include/signal.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/sysctl.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/uapi/poll.h"
#include "guestos/include/uapi/resource.h"
#include "guestos/include/uapi/signal.h"
#include "guestos/include/wait.h"
#include "guestos/ipc/util.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/kernel/time/posix-timers.h"
#include "guestos/kernel/time/time.h"

namespace guestos {

namespace {

constexpr long MQ_PRIO_MAX_ = 32768, HARD_MSGMAX = 65536, HARD_MSGSIZEMAX = 16 * 1024 * 1024;
constexpr int MIN_MSGMAX = 1, MIN_MSGSIZEMAX = 128;
constexpr uint64_t DIRENT_SIZE = 20, FILENT_SIZE = 80;
constexpr int NAME_MAX_ = 255, NOTIFY_COOKIE_LEN = 32;
constexpr int SI_MESGQ = -3;
// What a queue's accounting counts per message and per priority node: sizeof(struct
// msg_msg) and sizeof(struct posix_msg_tree_node) on a 64-bit kernel.
constexpr uint64_t MSG_MSG_SIZE = 48, TREE_NODE_SIZE = 48;

// struct mq_attr, the same in both layouts but for the width of long.
struct mq_attr {
    int64_t mq_flags = 0, mq_maxmsg = 0, mq_msgsize = 0, mq_curmsgs = 0;
};

struct msg_msg {
    unsigned m_type = 0;  // the priority
    std::vector<uint8_t> text;
};

enum class WaitState { None, Ready };

// A task sleeping in send or receive (struct ext_wait_queue): a sender's message, or the
// message a sender handed to a receiver.
struct ext_wait_queue {
    task_struct* task;
    msg_msg msg;
    WaitState state = WaitState::None;
};

enum { SEND = 0, RECV = 1 };

// A queue (struct mqueue_inode_info): its messages by priority, its waiters and its
// notification.
struct mqueue_inode_info final : inode {
    ~mqueue_inode_info() override;
    std::map<unsigned, std::deque<msg_msg>> msg_tree;
    mq_attr attr;
    uint64_t qsize = 0;  // the bytes of all messages
    sigevent_k notify;
    int notify_owner = 0;  // the tgid to notify, 0 for none
    bool charged = false;  // mq_bytes was charged to user (info->user)
    uint32_t user = 0;
    std::weak_ptr<ipc_namespace> ns;
    std::list<ext_wait_queue*> e_wait_q[2];
    wait_queue_head wait_q;  // poll's sleepers
};

// The bytes a queue of these limits charges (mq_bytes + mq_treesize).
uint64_t mq_charge(const mq_attr& a) {
    const uint64_t maxmsg = static_cast<uint64_t>(a.mq_maxmsg);
    return maxmsg * MSG_MSG_SIZE + std::min<uint64_t>(maxmsg, MQ_PRIO_MAX_) * TREE_NODE_SIZE +
           maxmsg * static_cast<uint64_t>(a.mq_msgsize);
}

// The queue goes with its last name and descriptor (mqueue_evict_inode): its charge and
// its place among queues_max are given back.
mqueue_inode_info::~mqueue_inode_info() {
    auto n = ns.lock();
    if (!n || !charged) return;
    n->mq_bytes[user] -= mq_charge(attr);
    --n->mq_queues_count;
}

void msg_insert(mqueue_inode_info& info, msg_msg msg) {
    ++info.attr.mq_curmsgs;
    info.qsize += msg.text.size();
    info.msg_tree[msg.m_type].push_back(std::move(msg));
}

// The oldest message of the highest priority (msg_get).
msg_msg msg_get(mqueue_inode_info& info) {
    auto leaf = std::prev(info.msg_tree.end());
    msg_msg msg = std::move(leaf->second.front());
    leaf->second.pop_front();
    if (leaf->second.empty()) info.msg_tree.erase(leaf);
    --info.attr.mq_curmsgs;
    info.qsize -= msg.text.size();
    return msg;
}

// The descriptor of a queue: mqueue_file_operations.
class mqueue_file final : public file {
public:
    explicit mqueue_file(std::shared_ptr<mqueue_inode_info> info) : file(info), info_(std::move(info)) {}
    mqueue_inode_info& info() { return *info_; }
    // The queue's size and notification as one line (mqueue_read_file).
    long read(uint8_t* buf, uint64_t n, int64_t* pos) override {
        char line[FILENT_SIZE];
        const mqueue_inode_info& i = *info_;
        std::snprintf(line, sizeof line, "QSIZE:%-10lu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n",
                      static_cast<unsigned long>(i.qsize), i.notify_owner ? i.notify.sigev_notify : 0,
                      i.notify_owner && i.notify.sigev_notify == SIGEV_SIGNAL_ ? i.notify.sigev_signo : 0,
                      i.notify_owner);
        const int64_t len = static_cast<int64_t>(std::strlen(line));
        if (*pos < 0) return -EINVAL;
        if (*pos >= len) return 0;
        const uint64_t take = std::min<uint64_t>(n, static_cast<uint64_t>(len - *pos));
        std::memcpy(buf, line + *pos, take);
        *pos += static_cast<int64_t>(take);
        inode_touch(*info_, true, false);
        return static_cast<long>(take);
    }
    long llseek(int64_t offset, int whence) override;
    bool has_read_iter() const override { return false; }
    bool can_poll() const override { return true; }
    // Readable with a message, writable with room (mqueue_poll_file).
    uint32_t poll(poll_table* wait) override {
        poll_wait(*this, info_->wait_q, wait);
        uint32_t events = 0;
        if (info_->attr.mq_curmsgs) events |= EPOLLIN_ | EPOLLRDNORM_;
        if (info_->attr.mq_curmsgs < info_->attr.mq_maxmsg) events |= EPOLLOUT_ | EPOLLWRNORM_;
        return events;
    }
    // A close by the process that asked for notification cancels it (mqueue_flush_file).
    void flush(task_struct& t) override {
        if (info_->notify_owner == t.tgid) info_->notify_owner = 0;
    }

private:
    std::shared_ptr<mqueue_inode_info> info_;
};

// default_llseek over the line's fixed size (i_size).
long mqueue_file::llseek(int64_t offset, int whence) {
    int64_t base = 0;
    if (whence == SEEK_CUR) base = f_pos;
    else if (whence == SEEK_END) base = static_cast<int64_t>(FILENT_SIZE);
    else if (whence != SEEK_SET) return -EINVAL;
    if (base + offset < 0) return -EINVAL;
    f_pos = base + offset;
    return f_pos;
}

ipc_namespace& ns_of(SysCtx& c) { return c.kernel.ipc_ns(); }

// The queue behind a descriptor: EBADF for none or a file of another kind.
long mq_fdget(SysCtx& c, uint64_t mqdes, std::shared_ptr<file>& f, mqueue_file*& mq) {
    f = fdget(c, mqdes);
    if (!f) return -EBADF;
    mq = dynamic_cast<mqueue_file*>(f.get());
    return mq ? 0 : -EBADF;
}

// The checks lookup_one_len makes of a name in the mqueue root, and simple_lookup's length.
long mq_lookup_name(const std::string& name) {
    if (name == "." || name == ".." || name.find('/') != std::string::npos) return -EACCES;
    if (name.size() > NAME_MAX_) return -ENAMETOOLONG;
    return 0;
}

// Whether a descriptor is free below RLIMIT_NOFILE (get_unused_fd_flags' EMFILE).
bool have_unused_fd(SysCtx& c) {
    const uint64_t nofile = c.task.signal->rlim[RLIMIT_NOFILE_].rlim_cur;
    const auto& fds = c.task.files->fd;
    for (uint64_t i = 0; i < nofile; ++i)
        if (i >= fds.size() || !fds[i]) return true;
    return false;
}

// A new queue's inode (mqueue_create_attr + mqueue_get_inode): queues_max (ENOSPC), the
// limits of attr (EINVAL, EOVERFLOW) and the user's RLIMIT_MSGQUEUE (EMFILE).
long mqueue_create_attr(SysCtx& c, unsigned mode, const mq_attr* attr, std::shared_ptr<mqueue_inode_info>& out) {
    ipc_namespace& ns = ns_of(c);
    if (ns.mq_queues_count >= ns.mq_queues_max && !capable(CAP_SYS_RESOURCE_)) return -ENOSPC;
    auto info = std::make_shared<mqueue_inode_info>();
    const cred& cr = current_cred();
    info->i_ino = ns.mq_next_ino++;
    info->i_dev = makedev(0, 0x13);
    info->i_mode = S_IFREG | mode;
    info->i_uid = cr.fsuid;
    info->i_gid = cr.fsgid;
    info->i_size = FILENT_SIZE;
    inode_touch(*info, true, true);
    info->attr.mq_maxmsg = std::min(ns.mq_msg_max, ns.mq_msg_default);
    info->attr.mq_msgsize = std::min(ns.mq_msgsize_max, ns.mq_msgsize_default);
    if (attr) {
        info->attr.mq_maxmsg = attr->mq_maxmsg;
        info->attr.mq_msgsize = attr->mq_msgsize;
    }
    const mq_attr& a = info->attr;
    if (a.mq_maxmsg <= 0 || a.mq_msgsize <= 0) return -EINVAL;
    if (capable(CAP_SYS_RESOURCE_) ? (a.mq_maxmsg > HARD_MSGMAX || a.mq_msgsize > HARD_MSGSIZEMAX)
                                   : (a.mq_maxmsg > ns.mq_msg_max || a.mq_msgsize > ns.mq_msgsize_max))
        return -EINVAL;
    const uint64_t bytes = mq_charge(a);
    uint64_t& charged = ns.mq_bytes[cr.uid];
    if (charged + bytes > c.task.signal->rlim[RLIMIT_MSGQUEUE_].rlim_cur) return -EMFILE;
    charged += bytes;
    info->user = cr.uid;
    info->charged = true;
    info->ns = c.kernel.ipc_ns_weak();
    ++ns.mq_queues_count;
    out = std::move(info);
    return 0;
}

// The existing or new queue an open names (prepare_open).
long prepare_open(SysCtx& c, const std::string& name, int oflag, unsigned mode, const mq_attr* attr,
                  std::shared_ptr<mqueue_inode_info>& out) {
    ipc_namespace& ns = ns_of(c);
    auto it = ns.mq_names.find(name);
    if (it == ns.mq_names.end()) {
        if (!(oflag & O_CREAT_)) return -ENOENT;
        if (long e = mqueue_create_attr(c, mode & ~c.task.fs->umask & 07777, attr, out)) return e;
        ns.mq_names[name] = out;
        return 0;
    }
    if ((oflag & (O_CREAT_ | O_EXCL_)) == (O_CREAT_ | O_EXCL_)) return -EEXIST;
    if ((oflag & O_ACCMODE_) == O_ACCMODE_) return -EINVAL;
    static const int oflag2acc[] = {MAY_READ, MAY_WRITE, MAY_READ | MAY_WRITE};
    if (long e = inode_permission(*it->second, oflag2acc[oflag & O_ACCMODE_])) return e;
    out = std::static_pointer_cast<mqueue_inode_info>(it->second);
    return 0;
}

long do_mq_open(SysCtx& c, uint64_t u_name, int oflag, unsigned mode, const mq_attr* attr) {
    std::string name;
    if (long e = getname(c, u_name, name)) return e;
    if (!have_unused_fd(c)) return -EMFILE;
    if (long e = mq_lookup_name(name)) return e;
    std::shared_ptr<mqueue_inode_info> info;
    if (long e = prepare_open(c, name, oflag, mode, attr, info)) return e;
    auto f = std::make_shared<mqueue_file>(std::move(info));
    // dentry_open keeps the flags but those only open itself uses.
    f->f_flags = static_cast<unsigned>(oflag) & ~(O_CREAT_ | O_EXCL_ | O_NOCTTY_ | O_TRUNC_);
    return get_unused_fd_install(c, std::move(f), true);
}

// struct mq_attr of the caller's layout (compat_mq_attr's 4-byte longs on i386).
bool get_mq_attr(SysCtx& c, uint64_t uattr, mq_attr& attr) {
    const size_t ps = c.ptr_size();
    uint8_t raw[64] = {};
    if (!copy_from_user(c.mm, raw, VirtAddr(uattr), 8 * ps)) return false;
    int64_t* fields[] = {&attr.mq_flags, &attr.mq_maxmsg, &attr.mq_msgsize, &attr.mq_curmsgs};
    for (size_t i = 0; i < 4; ++i) {
        if (ps == 8) {
            std::memcpy(fields[i], raw + 8 * i, 8);
        } else {
            int32_t v;
            std::memcpy(&v, raw + 4 * i, 4);
            *fields[i] = v;
        }
    }
    return true;
}

bool put_mq_attr(SysCtx& c, uint64_t uattr, const mq_attr& attr) {
    const size_t ps = c.ptr_size();
    uint8_t raw[64] = {};
    const int64_t fields[] = {attr.mq_flags, attr.mq_maxmsg, attr.mq_msgsize, attr.mq_curmsgs};
    for (size_t i = 0; i < 4; ++i) std::memcpy(raw + ps * i, &fields[i], ps);  // little-endian: the low half
    return copy_to_user(c.mm, VirtAddr(uattr), raw, 8 * ps);
}

// Sleeps in the queue's send or receive list until a partner serves it, a signal or the
// absolute CLOCK_REALTIME timeout (wq_sleep): 0, -ERESTARTSYS or -ETIMEDOUT.
long wq_sleep(SysCtx& c, mqueue_inode_info& info, int sr, const std::optional<ktime_t>& expires, ext_wait_queue& ewp) {
    auto& list = info.e_wait_q[sr];
    list.push_back(&ewp);
    long ret = 0;
    for (;;) {
        const ktime_t now = expires ? clock_now(CLOCK_REALTIME) : 0;
        if (!signal_pending(c.task) && (!expires || now < *expires)) {
            std::optional<ktime_t> until;
            if (expires) until = ktime_add_safe(ktime_get(), *expires - now);
            schedule_hrtimeout(c.task, until, sr == SEND ? "mq_timedsend" : "mq_timedreceive");
        }
        if (ewp.state == WaitState::Ready) return 0;
        if (signal_pending(c.task)) {
            ret = -ERESTARTSYS;
            break;
        }
        if (expires && clock_now(CLOCK_REALTIME) >= *expires) {
            ret = -ETIMEDOUT;
            break;
        }
    }
    list.remove(&ewp);
    return ret;
}

// A message arrived in an empty queue with no receiver waiting: the registered process hears
// of it once, and poll's sleepers wake (__do_notify).
void do_notify(SysCtx& c, mqueue_inode_info& info) {
    if (info.notify_owner && info.attr.mq_curmsgs == 1) {
        if (info.notify.sigev_notify == SIGEV_SIGNAL_) {
            kernel_siginfo si;
            si.si_signo = info.notify.sigev_signo;
            si.si_code = SI_MESGQ;
            si.value = info.notify.sigev_value;
            si.pid = c.task.tgid;
            si.uid = current_cred().uid;
            task_struct* t = c.kernel.find_task_by_vpid(info.notify_owner);
            if (t && !t->exited && si.si_signo) send_signal_group(*t, si, false);
        }
        info.notify_owner = 0;
    }
    wake_up_poll(info.wait_q, EPOLLIN_ | EPOLLRDNORM_);
}

// The timeout of a timed call: EFAULT, EINVAL (prepare_timeout).
long prepare_timeout(SysCtx& c, uint64_t u_abs_timeout, bool time64, std::optional<ktime_t>& expires) {
    if (!u_abs_timeout) return 0;
    timespec ts;
    if (!get_timespec(c, VirtAddr(u_abs_timeout), ts, time64)) return -EFAULT;
    if (!timespec_valid(ts)) return -EINVAL;
    expires = timespec_to_ktime(ts);
    return 0;
}

long do_mq_timedsend(SysCtx& c, const uint64_t* a, bool time64) {
    std::optional<ktime_t> expires;
    if (long e = prepare_timeout(c, a[4], time64, expires)) return e;
    const unsigned msg_prio = static_cast<uint32_t>(a[3]);
    const uint64_t msg_len = c.compat ? static_cast<uint32_t>(a[2]) : a[2];
    if (msg_prio >= MQ_PRIO_MAX_) return -EINVAL;
    std::shared_ptr<file> f;
    mqueue_file* mq;
    if (long e = mq_fdget(c, a[0], f, mq)) return e;
    if ((f->f_flags & O_ACCMODE_) != O_WRONLY_ && (f->f_flags & O_ACCMODE_) != O_RDWR_) return -EBADF;
    mqueue_inode_info& info = mq->info();
    if (msg_len > static_cast<uint64_t>(info.attr.mq_msgsize)) return -EMSGSIZE;
    msg_msg msg{msg_prio, std::vector<uint8_t>(msg_len)};
    if (msg_len && !copy_from_user(c.mm, msg.text.data(), VirtAddr(a[1]), msg_len)) return -EFAULT;  // load_msg
    if (info.attr.mq_curmsgs == info.attr.mq_maxmsg) {
        if (f->f_flags & O_NONBLOCK_) return -EAGAIN;
        ext_wait_queue wait{&c.task, std::move(msg)};
        return wq_sleep(c, info, SEND, expires, wait);
    }
    if (!info.e_wait_q[RECV].empty()) {  // pipelined_send: straight to the first receiver
        ext_wait_queue* receiver = info.e_wait_q[RECV].front();
        info.e_wait_q[RECV].pop_front();
        receiver->msg = std::move(msg);
        receiver->state = WaitState::Ready;
        wake_up_process(*receiver->task);
    } else {
        msg_insert(info, std::move(msg));
        do_notify(c, info);
    }
    inode_touch(info, true, true);
    return 0;
}

// A place came free: the first waiting sender's message takes it, else poll's sleepers hear
// of the room (pipelined_receive).
void pipelined_receive(mqueue_inode_info& info) {
    if (info.e_wait_q[SEND].empty()) {
        wake_up_poll(info.wait_q, EPOLLOUT_ | EPOLLWRNORM_);
        return;
    }
    ext_wait_queue* sender = info.e_wait_q[SEND].front();
    info.e_wait_q[SEND].pop_front();
    msg_insert(info, std::move(sender->msg));
    sender->state = WaitState::Ready;
    wake_up_process(*sender->task);
}

long do_mq_timedreceive(SysCtx& c, const uint64_t* a, bool time64) {
    std::optional<ktime_t> expires;
    if (long e = prepare_timeout(c, a[4], time64, expires)) return e;
    const uint64_t msg_len = c.compat ? static_cast<uint32_t>(a[2]) : a[2];
    std::shared_ptr<file> f;
    mqueue_file* mq;
    if (long e = mq_fdget(c, a[0], f, mq)) return e;
    if ((f->f_flags & O_ACCMODE_) != O_RDONLY_ && (f->f_flags & O_ACCMODE_) != O_RDWR_) return -EBADF;
    mqueue_inode_info& info = mq->info();
    if (msg_len < static_cast<uint64_t>(info.attr.mq_msgsize)) return -EMSGSIZE;
    msg_msg msg;
    if (info.attr.mq_curmsgs == 0) {
        if (f->f_flags & O_NONBLOCK_) return -EAGAIN;
        ext_wait_queue wait{&c.task, {}};
        if (long e = wq_sleep(c, info, RECV, expires, wait)) return e;
        msg = std::move(wait.msg);
    } else {
        msg = msg_get(info);
        inode_touch(info, true, true);
        pipelined_receive(info);
    }
    const uint32_t prio = msg.m_type;
    if ((a[3] && !copy_to_user(c.mm, VirtAddr(a[3]), &prio, 4)) ||
        (!msg.text.empty() && !copy_to_user(c.mm, VirtAddr(a[1]), msg.text.data(), msg.text.size())))
        return -EFAULT;
    return static_cast<long>(msg.text.size());
}

// The checks of a registration before the queue is looked at (do_mq_notify's first part):
// SIGEV_THREAD wants the AF_NETLINK socket at sigev_signo, which cannot exist here.
long mq_notify_check(SysCtx& c, const sigevent_k& n) {
    if (n.sigev_notify != SIGEV_NONE_ && n.sigev_notify != SIGEV_SIGNAL_ && n.sigev_notify != SIGEV_THREAD_)
        return -EINVAL;
    if (n.sigev_notify == SIGEV_SIGNAL_ && static_cast<unsigned>(n.sigev_signo) > static_cast<unsigned>(KERNEL_NSIG))
        return -EINVAL;  // !valid_signal
    if (n.sigev_notify != SIGEV_THREAD_) return 0;
    uint8_t cookie[NOTIFY_COOKIE_LEN];
    const uint64_t ptr = c.compat ? static_cast<uint32_t>(n.sigev_value) : n.sigev_value;
    if (!copy_from_user(c.mm, cookie, VirtAddr(ptr), sizeof cookie)) return -EFAULT;
    auto sockf = fdget(c, static_cast<uint32_t>(n.sigev_signo));
    if (!sockf) return -EBADF;
    struct stat st;
    if (sockf->getattr(st) || !S_ISSOCK(st.st_mode)) return -ENOTSOCK;  // netlink_getsockbyfilp
    return -EINVAL;                                                     // not AF_NETLINK
}

long do_mq_notify(SysCtx& c, uint64_t mqdes, const sigevent_k* n) {
    if (n)
        if (long e = mq_notify_check(c, *n)) return e;
    std::shared_ptr<file> f;
    mqueue_file* mq;
    if (long e = mq_fdget(c, mqdes, f, mq)) return e;
    mqueue_inode_info& info = mq->info();
    if (!n) {
        if (info.notify_owner == c.task.tgid) {
            info.notify_owner = 0;
            inode_touch(info, true, false);
        }
        return 0;
    }
    if (info.notify_owner) return -EBUSY;
    info.notify = *n;
    info.notify_owner = c.task.tgid;
    inode_touch(info, true, false);
    return 0;
}

}  // namespace

long sys_mq_open(SysCtx& c, const uint64_t* a) {
    const int oflag = static_cast<int32_t>(a[1]);
    mq_attr attr;
    // The 64-bit call reads the attributes whenever given, the compat one only to create.
    const bool want = a[3] && (!c.compat || (oflag & O_CREAT_));
    if (want && !get_mq_attr(c, a[3], attr)) return -EFAULT;
    return do_mq_open(c, a[0], oflag, static_cast<uint16_t>(a[2]), want ? &attr : nullptr);
}

long sys_mq_unlink(SysCtx& c, const uint64_t* a) {
    std::string name;
    if (long e = getname(c, a[0], name)) return e;
    if (long e = mq_lookup_name(name)) return e;
    ipc_namespace& ns = ns_of(c);
    auto it = ns.mq_names.find(name);
    if (it == ns.mq_names.end()) return -ENOENT;
    // may_delete in the sticky root (mode 01777, owned by root): the owner or CAP_FOWNER.
    if (current_cred().fsuid != it->second->i_uid && current_cred().fsuid != 0 && !capable(CAP_FOWNER_)) return -EPERM;
    it->second->i_nlink = 0;
    ns.mq_names.erase(it);
    return 0;
}

long sys_mq_timedsend(SysCtx& c, const uint64_t* a) { return do_mq_timedsend(c, a, !c.compat); }
long sys_mq_timedsend_time64(SysCtx& c, const uint64_t* a) { return do_mq_timedsend(c, a, true); }
long sys_mq_timedreceive(SysCtx& c, const uint64_t* a) { return do_mq_timedreceive(c, a, !c.compat); }
long sys_mq_timedreceive_time64(SysCtx& c, const uint64_t* a) { return do_mq_timedreceive(c, a, true); }

long sys_mq_notify(SysCtx& c, const uint64_t* a) {
    sigevent_k n;
    if (a[1] && !get_sigevent(c, VirtAddr(a[1]), n)) return -EFAULT;
    return do_mq_notify(c, a[0], a[1] ? &n : nullptr);
}

long sys_mq_getsetattr(SysCtx& c, const uint64_t* a) {
    mq_attr nw;
    if (a[1] && !get_mq_attr(c, a[1], nw)) return -EFAULT;
    if (a[1] && (nw.mq_flags & ~static_cast<int64_t>(O_NONBLOCK_))) return -EINVAL;
    std::shared_ptr<file> f;
    mqueue_file* mq;
    if (long e = mq_fdget(c, a[0], f, mq)) return e;
    mqueue_inode_info& info = mq->info();
    mq_attr old = info.attr;
    old.mq_flags = f->f_flags & O_NONBLOCK_;
    if (a[1]) {
        f->f_flags = (nw.mq_flags & O_NONBLOCK_) ? (f->f_flags | O_NONBLOCK_) : (f->f_flags & ~O_NONBLOCK_);
        inode_touch(info, true, false);
    }
    if (a[2] && !put_mq_attr(c, a[2], old)) return -EFAULT;
    return 0;
}

// /proc/sys/fs/mqueue (ipc/mq_sysctl.c).
void mq_sysctl_init(ctl_table_root& root, ipc_namespace& ns) {
    static const int msg_maxlimit_min = MIN_MSGMAX, msg_maxlimit_max = HARD_MSGMAX;
    static const int msg_max_limit_min = MIN_MSGSIZEMAX, msg_max_limit_max = HARD_MSGSIZEMAX;
    root.register_sysctl("fs/mqueue", {
                                          {"queues_max", &ns.mq_queues_max, sizeof(int), 0644, proc_dointvec},
                                          {"msg_max", &ns.mq_msg_max, sizeof(int), 0644, proc_dointvec_minmax,
                                           &msg_maxlimit_min, &msg_maxlimit_max},
                                          {"msgsize_max", &ns.mq_msgsize_max, sizeof(int), 0644, proc_dointvec_minmax,
                                           &msg_max_limit_min, &msg_max_limit_max},
                                          {"msg_default", &ns.mq_msg_default, sizeof(int), 0644, proc_dointvec_minmax,
                                           &msg_maxlimit_min, &msg_maxlimit_max},
                                          {"msgsize_default", &ns.mq_msgsize_default, sizeof(int), 0644,
                                           proc_dointvec_minmax, &msg_max_limit_min, &msg_max_limit_max},
                                      });
}

}  // namespace guestos
