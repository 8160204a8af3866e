/* getpgid and getsid of a zombie child: found until it is reaped, with the group and session
 * it died in (a child that made its own session, and one that stayed in the parent's), a
 * thread's tid giving its process's ids, then ESRCH once reaped and for pid -1. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Names a group or session by whom it belongs to, so the output is the same in every run
 * (the parent's group and session may or may not be one). */
static const char *whose(long id, pid_t child, pid_t parents)
{
    if (id < 0) return strerror(errno);
    if (id == child) return "the child's pid";
    if (id == parents) return "the parent's";
    return "another";
}
static const char *pgid_of(pid_t pid, pid_t child) { return whose(getpgid(pid), child, getpgrp()); }
static const char *sid_of(pid_t pid, pid_t child) { return whose(getsid(pid), child, getsid(0)); }

static void zombie(const char *what, int own_session)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (own_session) setsid();
        _exit(0);
    }
    siginfo_t si;
    waitid(P_PID, pid, &si, WEXITED | WNOWAIT);  /* a zombie now */
    errno = 0;
    printf("%s, zombie: getpgid %s\n", what, pgid_of(pid, pid));
    printf("%s, zombie: getsid %s\n", what, sid_of(pid, pid));
    printf("%s, zombie: kill 0 %s\n", what, kill(pid, 0) == 0 ? "ok" : strerror(errno));
    waitpid(pid, NULL, 0);
    printf("%s, reaped: getpgid %s\n", what, pgid_of(pid, pid));
    printf("%s, reaped: getsid %s\n", what, sid_of(pid, pid));
}

static int go[2], ready[2];

static void *thread_main(void *arg)
{
    *(long *)arg = syscall(SYS_gettid);
    char c;
    read(go[0], &c, 1);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    zombie("child in the parent's session", 0);
    zombie("child with its own session", 1);

    /* A zombie leader whose thread still runs: the process is not a zombie yet. */
    pipe(go);
    pipe(ready);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        pthread_t th;
        long tid = 0;
        pthread_create(&th, NULL, thread_main, &tid);
        while (!__atomic_load_n(&tid, __ATOMIC_SEQ_CST)) sched_yield();
        printf("thread: getpgid of its tid %s\n", getpgid(tid) == getpid() ? "the process's group" : strerror(errno));
        printf("thread: getsid of its tid %s\n", getsid(tid) == getsid(0) ? "the process's session" : strerror(errno));
        write(ready[1], "r", 1);
        syscall(SYS_exit, 0);  /* the leader exits first; the thread holds the process */
    }
    char c;
    read(ready[0], &c, 1);
    usleep(100000);  /* the leader's exit follows its write at once */
    printf("exited leader, thread alive: getpgid %s\n", pgid_of(pid, pid));
    write(go[1], "g", 1);
    waitpid(pid, NULL, 0);
    printf("after the thread: getpgid %s\n", pgid_of(pid, pid));

    printf("pid -1: getpgid %s\n", pgid_of(-1, 0));
    printf("pid -1: getsid %s\n", sid_of(-1, 0));
    return 0;
}
