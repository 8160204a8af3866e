// The console as the guest's terminal (struct tty_struct) and job control on it
// (drivers/tty/tty_jobctrl.c): which session it controls, its foreground process group,
// and what a background job gets for using it.
#pragma once
#include <cstdint>

namespace guestos {

class Kernel;
struct task_struct;

struct tty_struct {
    uint64_t rdev = 0;  // the host terminal's device (st_rdev); 0: emu has no terminal
    int session = 0;    // the session it is the controlling terminal of (0: none)
    int pgrp = 0;       // its foreground process group (0: none)
};

// A task of a background group that reads the terminal (sig SIGTTIN), or writes it with
// TOSTOP set or changes its settings (SIGTTOU): its group gets sig and the call restarts
// once continued (-ERESTARTSYS); -EIO when SIGTTIN is ignored or blocked or the group is
// orphaned; 0 when the call may go on (__tty_check_change).
long tty_check_change(task_struct& t, tty_struct& tty, int sig);
// TIOCGPGRP, TIOCSPGRP, TIOCGSID, TIOCSCTTY (arg holds the value) and TIOCNOTTY on the
// terminal, or -ENOIOCTLCMD for another command.
long tty_jobctrl_ioctl(task_struct& t, tty_struct& tty, unsigned long cmd, uint8_t* arg);
// The task's session takes tty as its controlling terminal, with the task's group in the
// foreground (proc_set_tty).
void proc_set_tty(task_struct& t, tty_struct& tty);
// A session leader lets its terminal go (at TIOCNOTTY or its exit): the foreground group
// gets SIGHUP and SIGCONT and the session loses the terminal (disassociate_ctty).
void disassociate_ctty(task_struct& t, bool on_exit);
// The device of emu's controlling terminal (the host's /proc/self/stat tty_nr), or 0.
uint64_t host_controlling_tty();
// No process of pgrp but ignored has a parent in another group of the same session, so no
// shell can continue it (will_become_orphaned_pgrp); the first program's parent is emu's,
// whose own group is looked at on the host.
bool will_become_orphaned_pgrp(Kernel& k, int pgrp, const task_struct* ignored);

}  // namespace guestos
