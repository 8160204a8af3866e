/* Orphaned process groups (kernel/exit.c kill_orphaned_pgrp, signal.c get_signal):
 * a session leader X forks M, which makes its own process group and forks C into it; C
 * stops itself, M sees it stopped and exits. M was the group's last link to another group
 * of the session, so its exit orphans the group with a stopped member: C gets SIGHUP then
 * SIGCONT. Then SIGTSTP, SIGTTIN and SIGTTOU with their default action do nothing to C
 * (its group is orphaned), while a group that is not orphaned is stopped by them. C reports
 * through a pipe that the test reads until C is gone. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int out = -1;
static volatile sig_atomic_t seen[8], nseen;

static void note(int sig)
{
    if (nseen < 8) seen[nseen++] = sig;
}

static void say(const char *s) { write(out, s, strlen(s)); }

static void child_c(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = note;
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGCONT, &sa, NULL);
    raise(SIGSTOP);
    char buf[128];
    int n = snprintf(buf, sizeof buf, "C continued; handlers ran for:");
    for (int i = 0; i < nseen; i++)
        n += snprintf(buf + n, sizeof buf - n, " %s", seen[i] == SIGHUP ? "SIGHUP" : seen[i] == SIGCONT ? "SIGCONT" : "?");
    snprintf(buf + n, sizeof buf - n, "\n");
    say(buf);
    nseen = 0;
    raise(SIGTSTP);
    kill(getpid(), SIGTTIN);
    kill(0, SIGTTOU);
    snprintf(buf, sizeof buf, "C still runs after SIGTSTP, SIGTTIN and SIGTTOU; handlers ran %d times\n", (int)nseen);
    say(buf);
    _exit(0);
}

static void middle_m(void)
{
    setpgid(0, 0);
    pid_t c = fork();
    if (c == 0) child_c();
    int status;
    waitpid(c, &status, WUNTRACED);
    char buf[64];
    snprintf(buf, sizeof buf, "M: C stopped %d by SIGSTOP %d; M exits\n", WIFSTOPPED(status),
             WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
    say(buf);
    _exit(0);
}

/* A group with a link outside (its parent in another group of the session) is stopped by
 * SIGTSTP; SIGCONT continues it. */
static void not_orphaned(void)
{
    pid_t g = fork();
    if (g == 0) {
        setpgid(0, 0);
        raise(SIGTSTP);
        say("G continued after SIGTSTP\n");
        _exit(0);
    }
    int status;
    waitpid(g, &status, WUNTRACED);
    char buf[64];
    snprintf(buf, sizeof buf, "X: G stopped %d by SIGTSTP %d\n", WIFSTOPPED(status),
             WIFSTOPPED(status) && WSTOPSIG(status) == SIGTSTP);
    say(buf);
    kill(g, SIGCONT);
    waitpid(g, &status, 0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    int p[2];
    if (pipe(p)) return 1;
    pid_t x = fork();
    if (x == 0) {
        close(p[0]);
        out = p[1];
        if (setsid() < 0) _exit(2);
        not_orphaned();
        pid_t m = fork();
        if (m == 0) middle_m();
        close(p[1]);
        int status;
        waitpid(m, &status, 0);
        _exit(WIFEXITED(status) ? 0 : 3);
    }
    close(p[1]);
    char buf[512];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof buf - 1 && (r = read(p[0], buf + len, sizeof buf - 1 - len)) > 0) len += (size_t)r;
    buf[len] = 0;
    int status;
    waitpid(x, &status, 0);
    printf("%sX exit %d\n", buf, WEXITSTATUS(status));
    return 0;
}
