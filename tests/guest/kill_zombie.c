/* kill(2) on a zombie: until its parent reaps it, a process that exited still has its pid,
 * so kill (a signal or 0), kill of its process group and tkill succeed and do nothing;
 * once reaped, each gives ESRCH. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char* what, long r) {
    printf("%-26s %s\n", what, r == 0 ? "0" : strerror(errno));
}

int main(void) {
    pid_t child = fork();
    if (child == 0) {
        setpgid(0, 0);
        _exit(7);
    }
    setpgid(child, child);  /* races the child's own call; either makes it a group leader */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    waitid(P_PID, child, &si, WEXITED | WNOWAIT);  /* a zombie now, not reaped */
    printf("zombie: code %d status %d\n", si.si_code, si.si_status);
    errno = 0;
    report("kill(zombie, 0)", kill(child, 0));
    report("kill(zombie, SIGTERM)", kill(child, SIGTERM));
    report("kill(zombie, SIGKILL)", kill(child, SIGKILL));
    report("kill(-zombie pgrp, 0)", kill(-child, 0));
    report("tkill(zombie, SIGUSR1)", syscall(SYS_tkill, child, SIGUSR1));
    report("tgkill(zombie, SIGUSR1)", syscall(SYS_tgkill, child, child, SIGUSR1));
    int status = 0;
    waitpid(child, &status, 0);
    printf("reaped: exited %d with %d\n", WIFEXITED(status), WEXITSTATUS(status));
    report("kill(reaped, 0)", kill(child, 0));
    report("kill(-reaped pgrp, 0)", kill(-child, 0));
    report("tkill(reaped, SIGUSR1)", syscall(SYS_tkill, child, SIGUSR1));
    return 0;
}
