/* clone3 set_tid (kernel/pid.c alloc_pid): the child gets the pid asked for; EINVAL for more
 * than one level (no nested pid namespace), a pid below 1 or from pid_max up; EEXIST for a
 * pid in use (the caller's own, a zombie's); EPERM without CAP_SYS_ADMIN or
 * CAP_CHECKPOINT_RESTORE (after the range check). Run as root, like the oracle's native run. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errname.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

struct args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/* A clone3 asking for pids[0..n): the child exits 7 at once; -1 with errno, or the pid. */
static long clone_tid(pid_t *pids, size_t n)
{
    struct args a;
    memset(&a, 0, sizeof a);
    a.exit_signal = SIGCHLD;
    a.set_tid = (uintptr_t)pids;
    a.set_tid_size = n;
    errno = 0;
    long r = syscall(SYS_clone3, &a, sizeof a);
    if (r == 0) _exit(getpid() == pids[0] ? 7 : 8);
    return r;
}

static void show(const char *what, pid_t *pids, size_t n)
{
    long r = clone_tid(pids, n);
    if (r < 0) {
        printf("%-44s %s\n", what, err(r));
        return;
    }
    int st;
    waitpid((pid_t)r, &st, 0);
    printf("%-44s pid as asked %s, child saw it %s\n", what, r == pids[0] ? "yes" : "no",
           WIFEXITED(st) && WEXITSTATUS(st) == 7 ? "yes" : "no");
}

/* The pid of a child that has come and gone: free again. */
static pid_t free_pid(void)
{
    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, NULL, 0);
    return p;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t t[2];
    t[0] = free_pid();
    t[1] = t[0];
    show("two levels", t, 2);
    t[0] = 0;
    show("pid 0", t, 1);
    t[0] = -1;
    show("pid -1", t, 1);
    t[0] = 4194304;
    show("pid 4194304 (pid_max at most)", t, 1);
    t[0] = getpid();
    show("the caller's own pid", t, 1);

    pid_t zombie = fork();
    if (zombie == 0) _exit(0);
    siginfo_t si;
    waitid(P_PID, zombie, &si, WEXITED | WNOWAIT);
    t[0] = zombie;
    show("a zombie's pid", t, 1);
    waitpid(zombie, NULL, 0);

    t[0] = free_pid();
    show("a free pid", t, 1);
    show("the same pid again (its child reaped)", t, 1);

    /* Without the capabilities. */
    pid_t p = fork();
    if (p == 0) {
        if (setuid(65534) != 0) _exit(1);
        pid_t u[1] = {free_pid()};
        show("nobody: a free pid", u, 1);
        u[0] = 0;
        show("nobody: pid 0", u, 1);
        _exit(0);
    }
    waitpid(p, NULL, 0);
    return 0;
}
