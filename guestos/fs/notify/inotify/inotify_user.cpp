// inotify (fs/notify/inotify/inotify_user.c, inotify_fsnotify.c): an instance is an
// fsnotify group behind an anonymous file; watches are marks with watch descriptors; events
// queue up (identical consecutive ones merged, IN_Q_OVERFLOW past max_queued_events) and
// are read as struct inotify_event records, each name padded to a multiple of the record.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <map>

#include "guestos/include/anon_inodes.h"
#include "guestos/include/cred.h"
#include "guestos/include/dcache.h"
#include "guestos/include/fasync.h"
#include "guestos/include/fsnotify.h"
#include "guestos/include/namei.h"
#include "guestos/include/poll.h"
#include "guestos/include/signal.h"
#include "guestos/include/sysctl.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/uapi/ioctls.h"
#include "guestos/include/uapi/poll.h"
#include "guestos/include/wait.h"
#include "guestos/kernel/sched/core.h"

namespace guestos {

namespace {

// The flags of inotify_add_watch beyond the events (uapi/linux/inotify.h).
constexpr uint32_t IN_ALL_EVENTS = 0xfff, IN_UNMOUNT = FS_UNMOUNT, IN_Q_OVERFLOW = FS_Q_OVERFLOW,
                   IN_IGNORED = FS_IN_IGNORED, IN_ONLYDIR = 0x01000000, IN_DONT_FOLLOW = 0x02000000,
                   IN_EXCL_UNLINK = 0x04000000, IN_MASK_CREATE = 0x10000000, IN_MASK_ADD = 0x20000000,
                   IN_ISDIR = FS_ISDIR, IN_ONESHOT = 0x80000000;
constexpr uint32_t ALL_INOTIFY_BITS = IN_ALL_EVENTS | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ONLYDIR |
                                      IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_CREATE | IN_MASK_ADD | IN_ISDIR |
                                      IN_ONESHOT;
constexpr unsigned IN_CLOEXEC = O_CLOEXEC_, IN_NONBLOCK = O_NONBLOCK_;
constexpr size_t INOTIFY_EVENT_SIZE = 16;  // sizeof(struct inotify_event)

// /proc/sys/fs/inotify (inotify_table): per-user limits and the queue length.
int inotify_max_user_instances = 128;
int inotify_max_user_watches = 8192;
int inotify_max_queued_events = 16384;

// What each user has of them (ucounts' INOTIFY_INSTANCES and INOTIFY_WATCHES).
std::map<uint32_t, int> user_instances, user_watches;

// One queued event (struct inotify_event_info).
struct inotify_event_info {
    int wd;
    uint32_t mask;
    uint32_t cookie;
    std::string name;
    // Its size as read returns it: the record and the name padded with NULs.
    size_t size() const {
        return INOTIFY_EVENT_SIZE +
               (name.empty() ? 0 : (name.size() + INOTIFY_EVENT_SIZE) / INOTIFY_EVENT_SIZE * INOTIFY_EVENT_SIZE);
    }
};

// One instance (an fsnotify_group with its inotify_group_private_data).
class inotify_group final : public fsnotify_group, public std::enable_shared_from_this<inotify_group> {
public:
    explicit inotify_group(uint32_t uid) : uid_(uid) {}

    void handle_inode_event(fsnotify_mark& mark, uint32_t mask, const std::string* name, uint32_t cookie) override {
        if (mask & (FS_MOVE_SELF | FS_DELETE_SELF)) mask &= ~FS_ISDIR;  // inotify never said IN_ISDIR there
        fsnotify_add_event({mark.wd, mask, cookie, name ? *name : std::string()});
        if (mark.oneshot)
            if (auto m = idr_find(mark.wd)) fsnotify_destroy_mark(m);
    }
    // IN_IGNORED for the watch, and its wd is free (inotify_ignored_and_remove_idr).
    void freeing_mark(fsnotify_mark& mark) override {
        fsnotify_add_event({mark.wd, FS_IN_IGNORED, 0, {}});
        idr_.erase(mark.wd);
        --user_watches[uid_];
    }

    // The watch on ino, new or updated (inotify_update_watch): its wd, EEXIST for
    // IN_MASK_CREATE on a watched inode, ENOSPC past max_user_watches.
    long update_watch(const std::shared_ptr<inode>& ino, uint32_t arg) {
        const uint32_t mask = inotify_arg_to_mask(*ino, arg);
        if (auto m = fsnotify_find_mark(*ino, *this)) {  // inotify_update_existing_watch
            if (arg & IN_MASK_CREATE) return -EEXIST;
            if (!(arg & IN_MASK_ADD)) m->mask = 0, m->oneshot = m->excl_unlink = false;
            m->mask |= mask;
            m->oneshot |= (arg & IN_ONESHOT) != 0;
            m->excl_unlink |= (arg & IN_EXCL_UNLINK) != 0;
            return m->wd;
        }
        if (user_watches[uid_] >= inotify_max_user_watches) return -ENOSPC;  // inotify_new_watch
        auto m = std::make_shared<fsnotify_mark>();
        m->group = weak_from_this();
        m->ino = ino;
        m->mask = mask;
        m->oneshot = arg & IN_ONESHOT;
        m->excl_unlink = arg & IN_EXCL_UNLINK;
        m->wd = ++last_wd_;  // idr_alloc_cyclic from 1
        idr_[m->wd] = m;
        ++user_watches[uid_];
        fsnotify_add_inode_mark(m);
        return m->wd;
    }
    std::shared_ptr<fsnotify_mark> idr_find(int wd) const {
        auto it = idr_.find(wd);
        return it == idr_.end() ? nullptr : it->second;
    }
    // Every mark goes (fsnotify_clear_marks_by_group), with no one left to read IN_IGNORED.
    void clear_marks() {
        shutdown_ = true;
        while (!idr_.empty()) fsnotify_destroy_mark(idr_.begin()->second);
    }

    std::deque<inotify_event_info> notification_list;
    wait_queue_head notification_waitq;
    fasync_list fsn_fa;  // O_ASYNC instances: SIGIO with each queued event

private:
    // The mark's mask of a watch's argument (inotify_arg_to_mask): a directory hears its
    // children, every watch hears its unmount.
    static uint32_t inotify_arg_to_mask(const inode& ino, uint32_t arg) {
        uint32_t mask = FS_UNMOUNT;
        if (S_ISDIR(ino.i_mode)) mask |= FS_EVENT_ON_CHILD;
        return mask | (arg & IN_ALL_EVENTS);
    }
    // Queues an event (fsnotify_add_event): an IN_Q_OVERFLOW once the queue is full, the
    // event merged into the last one when the two are the same (inotify_merge).
    void fsnotify_add_event(inotify_event_info ev) {
        if (shutdown_) return;
        if (q_len() >= static_cast<size_t>(std::max(inotify_max_queued_events_at_init_, 0))) {
            if (overflow_queued_) return;
            overflow_queued_ = true;
            ev = {-1, FS_Q_OVERFLOW, 0, {}};
        } else if (!notification_list.empty()) {
            const auto& last = notification_list.back();
            if (!(last.mask & FS_IN_IGNORED) && last.mask == ev.mask && last.wd == ev.wd && last.name == ev.name)
                return;
        }
        notification_list.push_back(std::move(ev));
        wake_up_poll(notification_waitq, EPOLLIN_ | EPOLLRDNORM_);
        kill_fasync(fsn_fa, SIGIO_, POLL_IN_);
    }
    size_t q_len() const { return notification_list.size(); }

public:
    // The event leaves the queue: an overflow may be queued again (fsnotify_remove_first_event).
    void remove_first_event() {
        if (notification_list.front().mask == FS_Q_OVERFLOW && notification_list.front().wd == -1)
            overflow_queued_ = false;
        notification_list.pop_front();
    }
    uint32_t uid() const { return uid_; }

private:
    uint32_t uid_;
    int last_wd_ = 0;
    bool shutdown_ = false, overflow_queued_ = false;
    int inotify_max_queued_events_at_init_ = inotify_max_queued_events;  // group->max_events
    std::map<int, std::shared_ptr<fsnotify_mark>> idr_;
};

// The file of an instance (inotify_fops).
class inotify_file final : public file {
public:
    inotify_file(std::shared_ptr<inotify_group> group, unsigned flags) : group_(std::move(group)) {
        f_flags = O_RDONLY_ | (flags & O_NONBLOCK_);
        f_mode = 0;  // no pread
        auto ino = std::make_shared<inode>();
        ino->i_mode = S_IRUSR | S_IWUSR;
        ino->path = "anon_inode:inotify";
        f_inode = std::move(ino);
    }
    ~inotify_file() override {  // __fput's fasync off, then inotify_release
        if (f_flags & O_ASYNC_) fasync(-1, false);
        group_->clear_marks();
        --user_instances[group_->uid()];
    }
    bool has_fasync() const override { return true; }
    int fasync(int fd, bool on) override { return fasync_helper(fd, *this, on, group_->fsn_fa); }  // fsnotify_fasync
    // Whole events that fit; EINVAL when the first does not; sleeps while there is none
    // (inotify_read).
    long read_iter(kiocb& iocb, uint8_t* buf, uint64_t count) override {
        uint64_t done = 0;
        for (;;) {
            auto& q = group_->notification_list;
            if (!q.empty()) {
                if (q.front().size() > count - done) {
                    if (done) return static_cast<long>(done);
                    return -EINVAL;
                }
                done += copy_event(q.front(), buf + done);
                group_->remove_first_event();
                continue;
            }
            if (done) return static_cast<long>(done);
            if ((f_flags & O_NONBLOCK_) || (iocb.ki_flags & IOCB_NOWAIT)) return -EAGAIN;
            if (long e = wait_event_interruptible(
                    iocb.task, group_->notification_waitq, [&] { return !group_->notification_list.empty(); },
                    "an inotify read"))
                return e;
        }
    }
    long read(uint8_t*, uint64_t, int64_t*) override { return -EINVAL; }
    long write(const uint8_t*, uint64_t, int64_t*) override { return -EINVAL; }
    bool has_read_iter() const override { return false; }
    long llseek(int64_t, int) override { return f_pos; }  // noop_llseek
    bool can_poll() const override { return true; }
    uint32_t poll(poll_table* wait) override {  // inotify_poll
        poll_wait(*this, group_->notification_waitq, wait);
        return group_->notification_list.empty() ? 0 : EPOLLIN_ | EPOLLRDNORM_;
    }
    bool ioctl_sizes(unsigned long cmd, size_t& in_len, size_t& out_len) const override {
        if (cmd != FIONREAD_) return false;
        in_len = 0;
        out_len = sizeof(int32_t);
        return true;
    }
    // FIONREAD: the bytes a read would give for every queued event (inotify_ioctl).
    long ioctl(unsigned long cmd, uint8_t* arg, size_t&, size_t& out_len) override {
        if (cmd != FIONREAD_) return -ENOTTY;
        int32_t send_len = 0;
        for (const auto& ev : group_->notification_list) send_len += static_cast<int32_t>(ev.size());
        std::memcpy(arg, &send_len, sizeof send_len);
        out_len = sizeof send_len;
        return 0;
    }
    long getattr(struct stat& st) override { return anon_inode_getattr(st, S_IRUSR | S_IWUSR); }
    inotify_group& group() { return *group_; }

private:
    // One record and its padded name (copy_event_to_user).
    static uint64_t copy_event(const inotify_event_info& ev, uint8_t* buf) {
        const size_t size = ev.size();
        const uint32_t len = static_cast<uint32_t>(size - INOTIFY_EVENT_SIZE);
        const uint32_t mask = ev.mask & (IN_ALL_EVENTS | IN_ISDIR | IN_UNMOUNT | IN_IGNORED | IN_Q_OVERFLOW);
        std::memset(buf, 0, size);
        std::memcpy(buf, &ev.wd, 4);
        std::memcpy(buf + 4, &mask, 4);
        std::memcpy(buf + 8, &ev.cookie, 4);
        std::memcpy(buf + 12, &len, 4);
        std::memcpy(buf + INOTIFY_EVENT_SIZE, ev.name.data(), ev.name.size());
        return size;
    }
    std::shared_ptr<inotify_group> group_;
};

long do_inotify_init(SysCtx& c, uint64_t flags) {
    if (flags & ~static_cast<uint64_t>(IN_CLOEXEC | IN_NONBLOCK)) return -EINVAL;
    const uint32_t uid = current_cred().uid;
    if (user_instances[uid] >= inotify_max_user_instances) return -EMFILE;  // inc_inotify_instances
    ++user_instances[uid];
    auto f = std::make_shared<inotify_file>(std::make_shared<inotify_group>(uid), static_cast<unsigned>(flags));
    return get_unused_fd_install(c, std::move(f), flags & IN_CLOEXEC);
}

// The instance behind fd: EBADF, or EINVAL for another kind of file.
long inotify_fdget(SysCtx& c, uint64_t fd, inotify_file*& out) {
    auto f = fdget(c, fd);
    if (!f) return -EBADF;
    out = dynamic_cast<inotify_file*>(f.get());
    return out ? 0 : -EINVAL;
}

}  // namespace

long sys_inotify_init(SysCtx& c, const uint64_t*) { return do_inotify_init(c, 0); }
long sys_inotify_init1(SysCtx& c, const uint64_t* a) { return do_inotify_init(c, static_cast<uint32_t>(a[0])); }

long sys_inotify_add_watch(SysCtx& c, const uint64_t* a) {
    const auto mask = static_cast<uint32_t>(a[2]);
    if (mask & ~ALL_INOTIFY_BITS) return -EINVAL;
    if (!(mask & ALL_INOTIFY_BITS)) return -EINVAL;
    auto f = fdget(c, a[0]);  // held: the group stays while the path is looked up
    if (!f) return -EBADF;
    if ((mask & IN_MASK_ADD) && (mask & IN_MASK_CREATE)) return -EINVAL;
    auto* inf = dynamic_cast<inotify_file*>(f.get());
    if (!inf) return -EINVAL;
    unsigned flags = (mask & IN_DONT_FOLLOW) ? 0 : LOOKUP_FOLLOW;
    if (mask & IN_ONLYDIR) flags |= LOOKUP_DIRECTORY;
    path p;  // inotify_find_inode: the path, and read permission on it
    if (long e = user_path_at(c, AT_FDCWD_, a[1], flags, p)) return e;
    if (long e = inode_permission(*p.dentry->d_inode, MAY_READ)) return e;
    return inf->group().update_watch(p.dentry->d_inode, mask);
}

long sys_inotify_rm_watch(SysCtx& c, const uint64_t* a) {
    inotify_file* inf = nullptr;
    if (long e = inotify_fdget(c, a[0], inf)) return e;
    auto m = inf->group().idr_find(static_cast<int>(a[1]));
    if (!m) return -EINVAL;
    fsnotify_destroy_mark(m);
    return 0;
}

void inotify_sysctl_init(ctl_table_root& root, uint64_t totalram_pages) {
    // 1% of RAM's worth of watches at their cost, within [8192, 1048576] (inotify_user_setup).
    constexpr uint64_t INOTIFY_WATCH_COST = 1208, PAGE_SIZE_ = 4096;
    inotify_max_user_watches =
        static_cast<int>(std::clamp<uint64_t>(totalram_pages / 100 * PAGE_SIZE_ / INOTIFY_WATCH_COST, 8192, 1048576));
    root.register_sysctl(
        "fs/inotify",
        {
            {"max_user_instances", &inotify_max_user_instances, sizeof(int), 0644, proc_dointvec_minmax, SYSCTL_ZERO},
            {"max_user_watches", &inotify_max_user_watches, sizeof(int), 0644, proc_dointvec_minmax, SYSCTL_ZERO},
            {"max_queued_events", &inotify_max_queued_events, sizeof(int), 0644, proc_dointvec_minmax, SYSCTL_ZERO},
        });
}

}  // namespace guestos
