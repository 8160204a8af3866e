// Signal state of a task and the default actions (kernel/signal.c). Handler delivery with
// signal frames is the page-fault/signal issue's work; today a caught signal is reported.
#pragma once
#include "guestos/task.h"

namespace guestos {

enum : int {
    SIGHUP_ = 1, SIGINT_ = 2, SIGQUIT_ = 3, SIGILL_ = 4, SIGTRAP_ = 5, SIGABRT_ = 6, SIGBUS_ = 7,
    SIGFPE_ = 8, SIGKILL_ = 9, SIGUSR1_ = 10, SIGSEGV_ = 11, SIGUSR2_ = 12, SIGPIPE_ = 13,
    SIGALRM_ = 14, SIGTERM_ = 15, SIGCHLD_ = 17, SIGCONT_ = 18, SIGSTOP_ = 19, SIGTSTP_ = 20,
    SIGTTIN_ = 21, SIGTTOU_ = 22, SIGURG_ = 23, SIGWINCH_ = 28, SIGSYS_ = 31,
};

// Sends sig to the task: ignored, left pending when blocked, or its default action taken.
// A forced signal (a fault) cannot be ignored or blocked: it then kills, as force_sig does.
void send_signal(task_struct& task, int sig, bool forced);

}  // namespace guestos
