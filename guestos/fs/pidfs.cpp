// The files of pidfds (fs/pidfs.c): an anonymous inode per pid, readable by poll once the
// process has exited, with nothing to read or write.
#include <fcntl.h>

#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/anon_inodes.h"
#include "guestos/include/pid.h"
#include "guestos/include/poll.h"
#include "guestos/include/sched.h"

namespace guestos {

namespace {

class pidfd_file final : public file {
public:
    pidfd_file(std::shared_ptr<pid_ref> pid, unsigned flags) : pid_(std::move(pid)), thread_(flags & PIDFD_THREAD) {
        f_flags = O_RDWR_ | (flags & (PIDFD_NONBLOCK | PIDFD_THREAD));
        f_mode = 0;
    }
    bool can_poll() const override { return true; }
    // Readable once the task has exited (a leader: once its whole group has), and hung up
    // once it is reaped (pidfd_poll).
    uint32_t poll(poll_table* wait) override {
        poll_wait(*this, pid_->wait_pidfd, wait);
        const task_struct* t = pid_->task;
        if (!t) return EPOLLIN_ | EPOLLRDNORM_ | EPOLLHUP_;
        if (t->exit_state) return EPOLLIN_ | EPOLLRDNORM_;
        return 0;
    }
    long getattr(struct stat& st) override { return anon_inode_getattr(st, S_IFREG | 0600, 0x1000000ull + pid_->nr); }
    pid_ref* pid() const { return pid_.get(); }
    bool thread() const { return thread_; }

private:
    std::shared_ptr<pid_ref> pid_;
    bool thread_;
};

}  // namespace

std::shared_ptr<pid_ref> get_task_pid(task_struct& t) {
    if (!t.thread_pid) {
        t.thread_pid = std::make_shared<pid_ref>();
        t.thread_pid->task = &t;
        t.thread_pid->nr = t.pid;
    }
    return t.thread_pid;
}

void do_notify_pidfd(task_struct& t) {
    if (t.thread_pid) wake_up_poll(t.thread_pid->wait_pidfd, EPOLLIN_ | EPOLLRDNORM_);
}

void detach_task_pid(task_struct& t) {
    if (!t.thread_pid) return;
    t.thread_pid->task = nullptr;
    wake_up_poll(t.thread_pid->wait_pidfd, EPOLLIN_ | EPOLLRDNORM_ | EPOLLHUP_);
}

long pidfd_prepare(task_struct& t, unsigned flags, std::shared_ptr<file>& out) {
    if (!(flags & PIDFD_THREAD) && !t.thread_group_leader()) return -EINVAL;
    out = std::make_shared<pidfd_file>(get_task_pid(t), flags);
    return 0;
}

pid_ref* pidfd_pid(const file& f, bool* thread) {
    const auto* p = dynamic_cast<const pidfd_file*>(&f);
    if (p && thread) *thread = p->thread();
    return p ? p->pid() : nullptr;
}

}  // namespace guestos
