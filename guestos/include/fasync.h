// Asynchronous I/O notification (fs/fcntl.c): the files that asked for SIGIO on an object
// (a pipe's readers or writers, a socket), and the signal each one's owner gets.
#pragma once
#include <vector>

namespace guestos {

class Kernel;
class file;
struct fown_struct;
struct task_struct;
struct SysCtx;

// si_code of a SIGIO-style signal: why it came (uapi/asm-generic/siginfo.h POLL_*).
inline constexpr int POLL_IN_ = 1, POLL_OUT_ = 2, POLL_MSG_ = 3, POLL_ERR_ = 4, POLL_PRI_ = 5, POLL_HUP_ = 6;

// One file on an object's list (struct fasync_struct): the descriptor it was turned on
// through is the signal's si_fd.
struct fasync_struct {
    file* fa_file;
    int fa_fd;
};
using fasync_list = std::vector<fasync_struct>;

// Adds f to the list (or updates its fd) when on, removes it when not, and sets or clears
// FASYNC in f's flags to match (fasync_helper): 1 when the list changed, else 0.
int fasync_helper(int fd, file& f, bool on, fasync_list& list);
// Signals the owner of every file on the list (kill_fasync): band is the POLL_* reason.
void kill_fasync(const fasync_list& list, int sig, int band);
// Sends the owner its signal (send_sigio): F_SETSIG's with the reason, band and fd, or
// SIGIO; to the thread, the process or every process of the group, each if the setter's
// ids may signal it (sigio_perm).
void send_sigio(const fown_struct& fown, int fd, int band);
// F_SETOWN, FIOSETOWN and SIOCSPGRP (f_setown): a process, or a process group as a
// negative number; EINVAL for INT_MIN, ESRCH for a number nobody has; 0 clears the owner.
long f_setown(SysCtx& c, file& f, int who);
// F_GETOWN, FIOGETOWN and SIOCGPGRP (f_getown): a group negated; 0 for none or one gone.
long f_getown(Kernel& k, const file& f);
// A live task the owner names, of its kind (pid_task): the thread, the process's leader,
// or a leader in the group; null when none is left.
task_struct* fown_task(Kernel& k, const fown_struct& o);
// Records the caller as owner (__f_setown): unless force, only when the file has none.
void f_setown_current(file& f, int pid, int pid_type, bool force);

}  // namespace guestos
