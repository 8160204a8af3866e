// Job control on the console (drivers/tty/tty_jobctrl.c): the terminal's session and
// foreground process group, the ioctls that read and change them, and the signals a
// background job gets for using the terminal (SIGTTIN, SIGTTOU).
#include <unistd.h>

#include <sys/sysmacros.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "guestos/include/tty.h"
#include "guestos/include/cred.h"
#include "guestos/include/kernel.h"
#include "guestos/include/signal.h"
#include "guestos/include/uapi/ioctls.h"

namespace guestos {

namespace {
// The signal would not stop the caller: it blocks or ignores it (is_ignored).
bool is_ignored(const task_struct& t, int sig) {
    return (t.blocked & sigmask(sig)) || t.sighand->action[sig - 1].handler == SIG_IGN_;
}

// A process-directed signal from the kernel to every process of pgrp (kill_pgrp, priv 1).
void kill_pgrp_kernel(Kernel& k, int pgrp, int sig) {
    kernel_siginfo si;
    si.si_signo = sig;
    si.si_code = SI_KERNEL;
    kill_pgrp_info(k, pgrp, si);
}

// The session a process group belongs to (session_of_pgrp): that of a member, else that of
// the process whose pid it is; 0 when the number names neither.
int session_of_pgrp(Kernel& k, int pgrp) {
    int session = 0;
    for (task_struct* t : k.all_tasks()) {
        if (t->exit_state || !t->thread_group_leader()) continue;
        if (t->signal->pgrp == pgrp) return t->signal->session;
        if (t->tgid == pgrp) session = t->signal->session;
    }
    return session;
}

// Some task has the number as its pid, process group or session (find_vpid).
bool find_vpid(Kernel& k, int nr) {
    for (task_struct* t : k.all_tasks())
        if (!t->exit_state && (t->pid == nr || t->signal->pgrp == nr || t->signal->session == nr)) return true;
    return false;
}

// Every process of the session loses its controlling terminal (session_clear_tty).
void session_clear_tty(Kernel& k, int session) {
    for (task_struct* t : k.all_tasks())
        if (t->signal->session == session) t->signal->tty = nullptr;
}

// Fields 4-7 of the host's /proc/PID/stat: the parent, group, session and tty_nr.
struct host_stat {
    pid_t ppid = 0, pgrp = 0, session = 0;
    unsigned tty_nr = 0;
};
bool read_host_stat(pid_t pid, host_stat& hs) {
    char path[64], buf[1024];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE* f = std::fopen(path, "r");
    if (!f) return false;
    const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = 0;
    const char* p = std::strrchr(buf, ')');
    char state;
    return p && std::sscanf(p + 1, " %c %d %d %d %u", &state, &hs.ppid, &hs.pgrp, &hs.session, &hs.tty_nr) == 5;
}

// The host's process group of emu (the guest's first program's group seen from outside) is
// orphaned: no member has a parent in another group of the same session (the host's
// will_become_orphaned_pgrp, read from its /proc).
bool host_pgrp_orphaned() {
    const pid_t pgrp = ::getpgrp(), sid = ::getsid(0);
    host_stat member_stat, parent_stat;
    for (pid_t member = ::getpid(); member > 0;) {  // emu, then its ancestors still in its group
        if (!read_host_stat(member, member_stat) || member_stat.pgrp != pgrp) return true;
        if (member_stat.ppid <= 1 || !read_host_stat(member_stat.ppid, parent_stat)) return true;
        if (parent_stat.pgrp != pgrp && parent_stat.session == sid) return false;
        member = member_stat.ppid;
    }
    return true;
}
}  // namespace

uint64_t host_controlling_tty() {
    host_stat hs;
    if (!read_host_stat(::getpid(), hs) || !hs.tty_nr) return 0;
    return makedev((hs.tty_nr >> 8) & 0xfff, (hs.tty_nr & 0xff) | ((hs.tty_nr >> 12) & 0xfff00));
}

bool will_become_orphaned_pgrp(Kernel& k, int pgrp, const task_struct* ignored) {
    for (task_struct* p : k.all_tasks()) {
        if (!p->thread_group_leader() || p->exit_state || p == ignored || p->signal->pgrp != pgrp) continue;
        const task_struct* parent = p->real_parent;
        if (!parent) {  // the first program: its parent is emu's, outside
            if (p->tgid == k.init_tgid && !host_pgrp_orphaned()) return false;
            continue;
        }
        if (parent->signal->pgrp != pgrp && parent->signal->session == p->signal->session) return false;
    }
    return true;
}

long tty_check_change(task_struct& t, tty_struct& tty, int sig) {
    if (t.signal->tty != &tty || !tty.pgrp || t.signal->pgrp == tty.pgrp) return 0;
    if (is_ignored(t, sig)) return sig == SIGTTIN_ ? -EIO : 0;
    if (will_become_orphaned_pgrp(*t.kernel, t.signal->pgrp, nullptr)) return -EIO;
    kill_pgrp_kernel(*t.kernel, t.signal->pgrp, sig);
    return -ERESTARTSYS;
}

void proc_set_tty(task_struct& t, tty_struct& tty) {
    tty.session = t.signal->session;
    tty.pgrp = t.signal->pgrp;
    t.signal->tty = &tty;
}

void disassociate_ctty(task_struct& t, bool on_exit) {
    tty_struct* tty = t.signal->tty;
    if (!tty) return;
    if (tty->pgrp) {
        kill_pgrp_kernel(*t.kernel, tty->pgrp, SIGHUP_);
        kill_pgrp_kernel(*t.kernel, tty->pgrp, SIGCONT_);
    }
    (void)on_exit;
    tty->session = tty->pgrp = 0;
    session_clear_tty(*t.kernel, t.signal->session);
}

long tty_jobctrl_ioctl(task_struct& t, tty_struct& tty, unsigned long cmd, uint8_t* arg) {
    const bool ctty = t.signal->tty == &tty;
    int32_t v;
    std::memcpy(&v, arg, sizeof v);
    switch (cmd) {
    case TIOCGPGRP_:  // tiocgpgrp
        if (!ctty) return -ENOTTY;
        std::memcpy(arg, &tty.pgrp, sizeof tty.pgrp);
        return 0;
    case TIOCGSID_:  // tiocgsid
        if (!ctty || !tty.session) return -ENOTTY;
        std::memcpy(arg, &tty.session, sizeof tty.session);
        return 0;
    case TIOCSPGRP_: {  // tiocspgrp
        const long r = tty_check_change(t, tty, SIGTTOU_);
        if (r == -EIO) return -ENOTTY;
        if (r) return r;
        if (v < 0) return -EINVAL;
        if (!ctty || tty.session != t.signal->session) return -ENOTTY;
        if (!find_vpid(*t.kernel, v)) return -ESRCH;
        if (session_of_pgrp(*t.kernel, v) != t.signal->session) return -EPERM;
        tty.pgrp = v;
        return 0;
    }
    case TIOCSCTTY_: {  // tiocsctty: the argument is the value itself
        const bool leader = t.signal->session == t.tgid;
        if (leader && tty.session == t.signal->session) return 0;
        if (!leader || t.signal->tty) return -EPERM;
        if (tty.session) {
            if (v != 1 || !capable(CAP_SYS_ADMIN_)) return -EPERM;
            session_clear_tty(*t.kernel, tty.session);
        }
        proc_set_tty(t, tty);
        return 0;
    }
    case TIOCNOTTY_:  // tiocnotty
        if (!ctty) return -ENOTTY;
        if (t.signal->session == t.tgid) disassociate_ctty(t, false);
        t.signal->tty = nullptr;
        return 0;
    }
    return -ENOIOCTLCMD;
}

}  // namespace guestos
