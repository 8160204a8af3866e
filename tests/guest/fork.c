/* fork: processes. fork + copy-on-write isolation, wait statuses of exit codes and signal
 * deaths, WNOHANG and ECHILD, SIGCHLD handlers, orphans, process-group kill, SIGSTOP/SIGCONT with WUNTRACED/WCONTINUED, vfork + exec of
 * ourselves, a pipe between two processes, and failing execs. Prints only what is the same
 * on every run. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t chld_count;
static void on_chld(int sig) { (void)sig; chld_count++; }

static void status_of(const char *what, int st)
{
    if (WIFEXITED(st)) printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) printf("%s: killed by signal %d\n", what, WTERMSIG(st));
    else printf("%s: status %#x\n", what, st);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "child")) {
        printf("exec'd child with %s\n", argc > 2 ? argv[2] : "nothing");
        return 7;
    }
    setvbuf(stdout, NULL, _IONBF, 0);

    /* COW: the child's writes stay in the child, the parent's in the parent. */
    static int data[4096];
    char *heap = malloc(1 << 20);
    memset(heap, 'p', 1 << 20);
    data[100] = 1;
    pid_t pid = fork();
    if (pid == 0) {
        data[100] = 2;
        memset(heap, 'c', 1 << 20);
        printf("child sees data %d heap %c\n", data[100], heap[12345]);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("parent sees data %d heap %c\n", data[100], heap[12345]);
    status_of("cow child", st);

    /* Exit codes and deaths. */
    int codes[] = {0, 1, 42, 255};
    for (int i = 0; i < 4; i++) {
        pid = fork();
        if (pid == 0) _exit(codes[i]);
        if (waitpid(pid, &st, 0) != pid) printf("waitpid failed\n");
        status_of("exit", st);
    }
    int sigs[] = {SIGTERM, SIGKILL, SIGSEGV, SIGUSR1};
    for (int i = 0; i < 4; i++) {
        pid = fork();
        if (pid == 0) {
            if (sigs[i] == SIGSEGV) *(volatile int *)0 = 1;
            kill(getpid(), sigs[i]);
            for (;;) pause();
        }
        waitpid(pid, &st, 0);
        status_of("signal", st);
    }

    /* WNOHANG with a live child, then ECHILD with none. */
    int p[2];
    pipe(p);
    pid = fork();
    if (pid == 0) {
        char c;
        close(p[1]);
        read(p[0], &c, 1);
        _exit(c);
    }
    close(p[0]);
    printf("WNOHANG on a running child: %d\n", (int)waitpid(pid, &st, WNOHANG));
    write(p[1], "\x05", 1);
    close(p[1]);
    waitpid(pid, &st, 0);
    status_of("pipe child", st);
    errno = 0;
    printf("wait with no children: %d %s\n", (int)wait(&st), strerror(errno));

    /* SIGCHLD with a handler. */
    signal(SIGCHLD, on_chld);
    for (int i = 0; i < 3; i++) {
        pid = fork();
        if (pid == 0) _exit(i);
        waitpid(pid, &st, 0);
    }
    printf("SIGCHLD handler ran %d times\n", (int)chld_count);
    signal(SIGCHLD, SIG_DFL);

    /* An orphan: its parent dies first, it gets another parent. */
    pipe(p);
    pid = fork();
    if (pid == 0) {
        pid_t mid = getpid();
        pid_t g = fork();
        if (g == 0) {
            while (getppid() == mid) usleep(1000);
            write(p[1], "o", 1);
            _exit(0);
        }
        _exit(0);
    }
    waitpid(pid, &st, 0);
    char c = 0;
    close(p[1]);
    read(p[0], &c, 1);
    close(p[0]);
    printf("orphan reparented: %s\n", c == 'o' ? "yes" : "no");

    /* A process group killed at once. */
    pid_t leader = fork();
    if (leader == 0) {
        setpgid(0, 0);
        for (int i = 0; i < 2; i++)
            if (fork() == 0) for (;;) pause();
        for (;;) pause();
    }
    setpgid(leader, leader);
    usleep(20000);
    printf("kill(-pgrp): %d\n", kill(-leader, SIGTERM));
    waitpid(leader, &st, 0);
    status_of("group leader", st);

    /* Job control: a child stops itself, is seen stopped, continued (it then waits on a
     * pipe, so the continue is seen before its exit), then exits. */
    pipe(p);
    pid = fork();
    if (pid == 0) {
        close(p[1]);
        raise(SIGSTOP);
        read(p[0], &c, 1);
        _exit(9);
    }
    close(p[0]);
    waitpid(pid, &st, WUNTRACED);
    printf("stopped: %s, by signal %d\n", WIFSTOPPED(st) ? "yes" : "no", WIFSTOPPED(st) ? WSTOPSIG(st) : 0);
    kill(pid, SIGCONT);
    waitpid(pid, &st, WCONTINUED);
    printf("continued: %s\n", WIFCONTINUED(st) ? "yes" : "no");
    close(p[1]);
    waitpid(pid, &st, 0);
    status_of("after SIGCONT", st);

    /* vfork + exec of ourselves, then a failing exec in a child. */
    pid = vfork();
    if (pid == 0) {
        execl("/proc/self/exe", argv[0], "child", "vfork", (char *)NULL);
        _exit(127);
    }
    waitpid(pid, &st, 0);
    status_of("vfork+exec", st);
    pid = fork();
    if (pid == 0) {
        execl("/nonexistent/program", "x", (char *)NULL);
        printf("exec of a missing file: %s\n", strerror(errno));
        _exit(3);
    }
    waitpid(pid, &st, 0);
    status_of("failed exec", st);

    /* Shared anonymous memory stays shared across fork. */
    int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    *shared = 1;
    pid = fork();
    if (pid == 0) {
        *shared = 99;
        _exit(0);
    }
    waitpid(pid, &st, 0);
    printf("MAP_SHARED after the child wrote: %d\n", *shared);
    return 0;
}
