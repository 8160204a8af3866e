// epoll (fs/eventpoll.c): an eventpoll file holds one epitem per (file, fd) it watches. On
// EPOLL_CTL_ADD the item queues ep_poll_callback on the file's wait queues; a wake-up puts
// it on the ready list (rdllist) and wakes epoll_wait's sleepers. ep_send_events polls each
// ready item again and reports what it has: level-triggered items go back on the list,
// EPOLLET ones wait for the next wake-up, EPOLLONESHOT ones are disabled until
// EPOLL_CTL_MOD. An eventpoll file can itself be watched (nested epoll, cycles refused with
// ELOOP).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <climits>
#include <set>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/anon_inodes.h"
#include "guestos/include/poll.h"
#include "guestos/include/signal.h"
#include "guestos/include/syscalls.h"
#include "guestos/kernel/sched/core.h"

namespace guestos {

namespace {

constexpr uint32_t POLLFREE_ = WAIT_POLLFREE;  // the wait queue is going away
constexpr uint32_t EP_PRIVATE_BITS = EPOLLWAKEUP_ | EPOLLONESHOT_ | EPOLLET_ | EPOLLEXCLUSIVE_;
constexpr uint32_t EPOLLEXCLUSIVE_OK_BITS =
    EPOLLIN_ | EPOLLOUT_ | EPOLLERR_ | EPOLLHUP_ | EPOLLWAKEUP_ | EPOLLET_ | EPOLLEXCLUSIVE_;
constexpr uint32_t EPOLLINOUT_BITS = EPOLLIN_ | EPOLLOUT_;
constexpr int EP_MAX_NESTS = 4;

// struct epoll_event: packed, 12 bytes on both ABIs.
struct __attribute__((packed)) epoll_event_ {
    uint32_t events;
    uint64_t data;
};
static_assert(sizeof(epoll_event_) == 12);
constexpr long EP_MAX_EVENTS = INT_MAX / sizeof(epoll_event_);

class eventpoll_file;
struct epitem;

// One wait queue an item is queued on (struct eppoll_entry); whead is cleared when the queue
// goes away first (POLLFREE).
struct eppoll_entry {
    epitem* base = nullptr;
    wait_queue_head* whead = nullptr;
    wait_queue_entry wait;
};

// A watched (file, fd) of one eventpoll (struct epitem). The file is held weakly: its last
// close ends the watch (eventpoll_release), which the eventpoll notices on its next look.
struct epitem {
    eventpoll_file* ep = nullptr;
    std::weak_ptr<file> ffd_file;
    int ffd_fd = -1;
    epoll_event_ event{};
    std::optional<std::list<epitem*>::iterator> rdllink;  // set while on the ready list
    std::vector<std::unique_ptr<eppoll_entry>> pwqlist;

    ~epitem() {  // ep_unregister_pollwait
        for (auto& pwq : pwqlist)
            if (pwq->whead) remove_wait_queue(*pwq->whead, pwq->wait);
    }
};

bool ep_poll_callback(eppoll_entry& pwq, uint32_t pollflags);

// The eventpoll behind an epoll fd (struct eventpoll + eventpoll_fops).
class eventpoll_file final : public file {
public:
    eventpoll_file() {
        f_flags = O_RDWR_;
        f_mode = 0;
        all().insert(this);
    }
    ~eventpoll_file() override {
        all().erase(this);
        rbr_.clear();  // ep_free: every item leaves its queues
    }

    long read(uint8_t*, uint64_t, int64_t*) override { return -EINVAL; }
    long write(const uint8_t*, uint64_t, int64_t*) override { return -EINVAL; }
    long llseek(int64_t, int) override { return f_pos; }  // noop_llseek
    long getattr(struct stat& st) override { return anon_inode_getattr(st, 0600); }
    bool can_poll() const override { return true; }
    uint32_t poll(poll_table* wait) override;

    // The item of (f, fd), dropping items whose file has gone first (ep_find).
    epitem* ep_find(file* f, int fd);
    long ep_insert(const epoll_event_& event, const std::shared_ptr<file>& tfile, int fd);
    long ep_modify(epitem& epi, const epoll_event_& event);
    void ep_remove(epitem& epi);
    // Reports ready items into the user array (ep_send_events): how many, or -EFAULT.
    long ep_send_events(SysCtx& c, VirtAddr events, int maxevents);
    long ep_poll(SysCtx& c, VirtAddr events, int maxevents, std::optional<ktime_t> end_time);
    // The longest chain of eventpolls below this one (0: it watches none), or INT_MAX when
    // the chain reaches `inserting` or goes past EP_MAX_NESTS (ep_loop_check_proc).
    int loop_check_depth(const eventpoll_file* inserting, int depth) const;
    // The longest chain of eventpolls that watch this one (ep_get_upwards_depth_proc).
    int upwards_depth(int depth) const;

    void ready(epitem& epi) {  // list_add_tail(&epi->rdllink, &ep->rdllist)
        if (!epi.rdllink) epi.rdllink = rdllist_.insert(rdllist_.end(), &epi);
    }
    void unready(epitem& epi) {
        if (epi.rdllink) rdllist_.erase(*epi.rdllink);
        epi.rdllink.reset();
    }
    bool events_available() const { return !rdllist_.empty(); }

    wait_queue_head wq;         // epoll_wait's sleepers (exclusive)
    wait_queue_head poll_wait;  // those polling the eventpoll file itself

private:
    // Every live eventpoll, for the upward walk (Linux follows ep->refs, the items that
    // watch an eventpoll's file).
    static std::set<const eventpoll_file*>& all() {
        static std::set<const eventpoll_file*> eps;
        return eps;
    }
    bool watches(const file* target) const {
        for (const auto& [key, epi] : rbr_)
            if (key.first == target && !epi->ffd_file.expired()) return true;
        return false;
    }
    void drop_released();
    // Moves the ready list out for a scan (ep_start_scan) and puts what the scan left back
    // in front of what it re-queued (ep_done_scan).
    std::list<epitem*> start_scan();
    void done_scan(std::list<epitem*>& txlist);

    std::map<std::pair<file*, int>, std::unique_ptr<epitem>> rbr_;
    std::list<epitem*> rdllist_;
};

// The item's events now, among those it asks for (ep_item_poll); pt queues on the file's
// wait queues (at insert) or not.
uint32_t ep_item_poll(epitem& epi, poll_table* pt) {
    auto f = epi.ffd_file.lock();
    if (!f) return 0;
    if (pt) pt->key = epi.event.events;
    return vfs_poll(*f, pt) & epi.event.events;
}

bool is_file_epoll(const file* f) { return dynamic_cast<const eventpoll_file*>(f) != nullptr; }

void eventpoll_file::drop_released() {
    for (auto it = rbr_.begin(); it != rbr_.end();) {
        if (it->second->ffd_file.expired()) {
            unready(*it->second);
            it = rbr_.erase(it);
        } else {
            ++it;
        }
    }
}

epitem* eventpoll_file::ep_find(file* f, int fd) {
    drop_released();
    auto it = rbr_.find({f, fd});
    return it == rbr_.end() ? nullptr : it->second.get();
}

std::list<epitem*> eventpoll_file::start_scan() {
    std::list<epitem*> txlist;
    txlist.splice(txlist.end(), rdllist_);
    return txlist;
}

void eventpoll_file::done_scan(std::list<epitem*>& txlist) { rdllist_.splice(rdllist_.begin(), txlist); }

// A queued file woke up (ep_poll_callback): the item goes on the ready list unless it is
// disabled (EPOLLONESHOT fired) or the events are not its; the eventpoll's sleepers and
// pollers are woken. The result says whether an exclusive item woke a sleeper.
bool ep_poll_callback(eppoll_entry& pwq, uint32_t pollflags) {
    epitem& epi = *pwq.base;
    eventpoll_file& ep = *epi.ep;
    if (pollflags & POLLFREE_) {  // the queue dies before the item: forget it
        if (pwq.whead) remove_wait_queue(*pwq.whead, pwq.wait);
        pwq.whead = nullptr;
        return false;
    }
    const bool exclusive = epi.event.events & EPOLLEXCLUSIVE_;
    bool ewake = false;
    if (!(epi.event.events & ~EP_PRIVATE_BITS) || (pollflags && !(pollflags & epi.event.events)) ||
        epi.ffd_file.expired())
        return !exclusive;
    ep.ready(epi);
    if (!ep.wq.empty()) {
        if (exclusive) {
            const uint32_t inout = pollflags & EPOLLINOUT_BITS;
            ewake = (inout == EPOLLIN_ && (epi.event.events & EPOLLIN_)) ||
                    (inout == EPOLLOUT_ && (epi.event.events & EPOLLOUT_)) || inout == 0;
        }
        wake_up(ep.wq);
    }
    if (!ep.poll_wait.empty()) wake_up_poll(ep.poll_wait, EPOLLIN_);  // ep_poll_safewake
    return exclusive ? ewake : true;
}

long eventpoll_file::ep_insert(const epoll_event_& event, const std::shared_ptr<file>& tfile, int fd) {
    auto owned = std::make_unique<epitem>();
    epitem& epi = *owned;
    epi.ep = this;
    epi.ffd_file = tfile;
    epi.ffd_fd = fd;
    epi.event = event;
    rbr_[{tfile.get(), fd}] = std::move(owned);
    // Queue on the file's wait queues while taking its events (ep_ptable_queue_proc).
    poll_table pt;
    pt.qproc = [&epi](file&, wait_queue_head& whead, poll_table&) {
        auto pwq = std::make_unique<eppoll_entry>();
        pwq->base = &epi;
        pwq->whead = &whead;
        eppoll_entry* p = pwq.get();
        pwq->wait.func = [p](uint32_t key) { return ep_poll_callback(*p, key); };
        if (epi.event.events & EPOLLEXCLUSIVE_) add_wait_queue_exclusive(whead, pwq->wait);
        else add_wait_queue(whead, pwq->wait);
        epi.pwqlist.push_back(std::move(pwq));
    };
    if (ep_item_poll(epi, &pt) && !epi.rdllink) {
        ready(epi);
        if (!wq.empty()) wake_up(wq);
        if (!poll_wait.empty()) wake_up_poll(poll_wait, EPOLLIN_);
    }
    return 0;
}

long eventpoll_file::ep_modify(epitem& epi, const epoll_event_& event) {
    epi.event = event;
    if (ep_item_poll(epi, nullptr) && !epi.rdllink) {
        ready(epi);
        if (!wq.empty()) wake_up(wq);
        if (!poll_wait.empty()) wake_up_poll(poll_wait, EPOLLIN_);
    }
    return 0;
}

void eventpoll_file::ep_remove(epitem& epi) {
    unready(epi);
    auto f = epi.ffd_file.lock();
    rbr_.erase({f.get(), epi.ffd_fd});
}

long eventpoll_file::ep_send_events(SysCtx& c, VirtAddr events, int maxevents) {
    drop_released();
    std::list<epitem*> txlist = start_scan();
    for (auto& e : txlist) e->rdllink.reset();
    long res = 0;
    while (!txlist.empty() && res < maxevents) {
        epitem* epi = txlist.front();
        txlist.pop_front();
        const uint32_t revents = ep_item_poll(*epi, nullptr);
        if (!revents) continue;
        const epoll_event_ uevent{revents, epi->event.data};
        if (!copy_to_user(c.mm, events + static_cast<uint64_t>(res) * sizeof uevent, &uevent, sizeof uevent)) {
            txlist.push_front(epi);
            if (!res) res = -EFAULT;
            break;
        }
        ++res;
        if (epi->event.events & EPOLLONESHOT_) epi->event.events &= EP_PRIVATE_BITS;
        else if (!(epi->event.events & EPOLLET_)) ready(*epi);  // level-triggered: look again next time
    }
    // What the scan did not reach goes back in front, still ready.
    std::list<epitem*> left;
    for (epitem* epi : txlist)
        if (!epi->rdllink) left.push_back(epi);
    done_scan(left);
    for (auto it = rdllist_.begin(); it != rdllist_.end(); ++it) (*it)->rdllink = it;
    return res;
}

// epoll_wait's loop (ep_poll): report what is ready, else sleep (exclusively) until an item
// wakes us, the end time or a signal (-EINTR: epoll_wait never restarts).
long eventpoll_file::ep_poll(SysCtx& c, VirtAddr events, int maxevents, std::optional<ktime_t> end_time) {
    bool timed_out = end_time && *end_time == 0;
    bool eavail = events_available();
    for (;;) {
        if (eavail) {
            const long res = ep_send_events(c, events, maxevents);
            if (res) return res;
        }
        if (timed_out) return 0;
        if (signal_pending(c.task)) return -EINTR;
        eavail = events_available();
        if (!eavail) {
            wait_queue_entry wait;
            wait.task = &c.task;
            add_wait_queue_exclusive(wq, wait);
            schedule_hrtimeout(c.task, end_time, "epoll_wait");
            remove_wait_queue(wq, wait);
            if (end_time && ktime_get() >= *end_time) timed_out = true;
        }
        eavail = true;
    }
}

// Readable while an item is really ready; items woken but not ready leave the list
// (ep_eventpoll_poll).
uint32_t eventpoll_file::poll(poll_table* wait) {
    guestos::poll_wait(*this, poll_wait, wait);
    drop_released();
    std::list<epitem*> txlist = start_scan();
    for (auto& e : txlist) e->rdllink.reset();
    uint32_t res = 0;
    while (!txlist.empty()) {
        if (ep_item_poll(*txlist.front(), nullptr)) {
            res = EPOLLIN_ | EPOLLRDNORM_;
            break;
        }
        txlist.pop_front();
    }
    done_scan(txlist);
    for (auto it = rdllist_.begin(); it != rdllist_.end(); ++it) (*it)->rdllink = it;
    return res;
}

int eventpoll_file::loop_check_depth(const eventpoll_file* inserting, int depth) const {
    int result = 0;
    for (const auto& [key, epi] : rbr_) {
        auto f = epi->ffd_file.lock();
        auto* ep = dynamic_cast<const eventpoll_file*>(f.get());
        if (!ep) continue;
        if (ep == inserting || depth > EP_MAX_NESTS) result = INT_MAX;
        else result = std::max(result, std::min(ep->loop_check_depth(inserting, depth + 1), INT_MAX - 1) + 1);
        if (result > EP_MAX_NESTS) break;
    }
    return result;
}

int eventpoll_file::upwards_depth(int depth) const {
    int result = 0;
    if (depth > EP_MAX_NESTS) return result;
    for (const eventpoll_file* ep : all())
        if (ep->watches(this)) result = std::max(result, ep->upwards_depth(depth + 1) + 1);
    return result;
}

long do_epoll_create(SysCtx& c, unsigned flags) {
    if (flags & ~EPOLL_CLOEXEC_) return -EINVAL;
    return get_unused_fd_install(c, std::make_shared<eventpoll_file>(), flags & EPOLL_CLOEXEC_);
}

bool ep_op_has_event(int op) { return op != EPOLL_CTL_DEL_; }

// epoll_ctl's checks in Linux's order, then the operation (do_epoll_ctl).
long do_epoll_ctl(SysCtx& c, int epfd, int op, int fd, epoll_event_& epds) {
    auto f = fdget(c, static_cast<uint64_t>(static_cast<unsigned>(epfd)));  // fdget: an O_PATH file is EBADF
    if (!f) return -EBADF;
    auto tf = fdget(c, static_cast<uint64_t>(static_cast<unsigned>(fd)));
    if (!tf) return -EBADF;
    if (!tf->can_poll()) return -EPERM;
    auto* ep = dynamic_cast<eventpoll_file*>(f.get());
    if (f == tf || !ep) return -EINVAL;
    if (ep_op_has_event(op) && (epds.events & EPOLLEXCLUSIVE_)) {
        if (op == EPOLL_CTL_MOD_) return -EINVAL;
        if (op == EPOLL_CTL_ADD_ && (is_file_epoll(tf.get()) || (epds.events & ~EPOLLEXCLUSIVE_OK_BITS)))
            return -EINVAL;
    }
    // ep_loop_check: an eventpoll added must not close a cycle, nor make a chain of more than
    // EP_MAX_NESTS eventpolls (those below it, this one, and those above this one).
    if (op == EPOLL_CTL_ADD_)
        if (auto* tep = dynamic_cast<eventpoll_file*>(tf.get())) {
            const int below = tep->loop_check_depth(ep, 0);
            if (below > EP_MAX_NESTS || below + 1 + ep->upwards_depth(0) > EP_MAX_NESTS) return -ELOOP;
        }
    epitem* epi = ep->ep_find(tf.get(), fd);
    switch (op) {
    case EPOLL_CTL_ADD_:
        if (epi) return -EEXIST;
        epds.events |= EPOLLERR_ | EPOLLHUP_;
        return ep->ep_insert(epds, tf, fd);
    case EPOLL_CTL_DEL_:
        if (!epi) return -ENOENT;
        ep->ep_remove(*epi);
        return 0;
    case EPOLL_CTL_MOD_:
        if (!epi) return -ENOENT;
        if (epi->event.events & EPOLLEXCLUSIVE_) return -EINVAL;
        epds.events |= EPOLLERR_ | EPOLLHUP_;
        return ep->ep_modify(*epi, epds);
    default: return -EINVAL;
    }
}

// epoll_wait's checks, then the wait (do_epoll_wait).
long do_epoll_wait(SysCtx& c, int epfd, uint64_t events, int maxevents, std::optional<ktime_t> to) {
    if (maxevents <= 0 || maxevents > EP_MAX_EVENTS) return -EINVAL;
    if (!access_ok(events, static_cast<uint64_t>(maxevents) * sizeof(epoll_event_))) return -EFAULT;
    auto f = c.task.files->get(epfd);
    if (!f) return -EBADF;
    auto* ep = dynamic_cast<eventpoll_file*>(f.get());
    if (!ep) return -EINVAL;
    return ep->ep_poll(c, VirtAddr(events), maxevents, to);
}

// A millisecond timeout as an end time: none below 0, at once for 0 (ep_timeout_to_timespec).
std::optional<ktime_t> ep_timeout(int32_t ms) {
    if (ms < 0) return std::nullopt;
    if (!ms) return 0;
    return ktime_add_safe(ktime_get(), static_cast<ktime_t>(ms) * 1'000'000);
}

// epoll_pwait and epoll_pwait2: a temporary signal mask around the wait.
long do_epoll_pwait(SysCtx& c, const uint64_t* a, std::optional<ktime_t> to) {
    if (long e = set_user_sigmask(c, a[4], a[5])) return e;
    const long ret = do_epoll_wait(c, static_cast<int32_t>(a[0]), a[1], static_cast<int32_t>(a[2]), to);
    restore_saved_sigmask_unless(c.task, ret == -EINTR);
    return ret;
}

}  // namespace

long sys_epoll_create(SysCtx& c, const uint64_t* a) {
    if (static_cast<int32_t>(a[0]) <= 0) return -EINVAL;
    return do_epoll_create(c, 0);
}

long sys_epoll_create1(SysCtx& c, const uint64_t* a) { return do_epoll_create(c, static_cast<uint32_t>(a[0])); }

long sys_epoll_ctl(SysCtx& c, const uint64_t* a) {
    const int op = static_cast<int32_t>(a[1]);
    epoll_event_ epds{};
    if (ep_op_has_event(op) && !copy_from_user(c.mm, &epds, VirtAddr(a[3]), sizeof epds)) return -EFAULT;
    return do_epoll_ctl(c, static_cast<int32_t>(a[0]), op, static_cast<int32_t>(a[2]), epds);
}

long sys_epoll_wait(SysCtx& c, const uint64_t* a) {
    return do_epoll_wait(c, static_cast<int32_t>(a[0]), a[1], static_cast<int32_t>(a[2]),
                         ep_timeout(static_cast<int32_t>(a[3])));
}

long sys_epoll_pwait(SysCtx& c, const uint64_t* a) {
    return do_epoll_pwait(c, a, ep_timeout(static_cast<int32_t>(a[3])));
}

// epoll_pwait2: a 64-bit timespec on both ABIs.
long sys_epoll_pwait2(SysCtx& c, const uint64_t* a) {
    std::optional<ktime_t> to;
    if (a[3]) {
        timespec ts;
        if (!get_timespec(c, VirtAddr(a[3]), ts, true)) return -EFAULT;
        if (!timespec_valid(ts)) return -EINVAL;
        to = (!ts.tv_sec && !ts.tv_nsec) ? 0 : std::max<ktime_t>(ktime_add_safe(ktime_get(), timespec_to_ktime(ts)), 1);
    }
    return do_epoll_pwait(c, a, to);
}

}  // namespace guestos
