/* clone3: the size of struct clone_args (EINVAL below version 0, E2BIG past a page, a larger
 * struct accepted when its tail is zero, E2BIG when not, EFAULT when the tail is unmapped),
 * every EINVAL of copy_clone_args_from_user and clone3_args_valid (exit_signal, flags,
 * CLONE_DETACHED, the CSIGNAL bits, CLONE_SIGHAND with CLONE_CLEAR_SIGHAND, CLONE_PARENT or
 * CLONE_THREAD with a signal, the stack, set_tid), CLONE_INTO_CGROUP's checks, and
 * CLONE_CLEAR_SIGHAND's handlers in the child. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

#define CLONE_CLEAR_SIGHAND_ 0x100000000ULL
#define CLONE_INTO_CGROUP_ 0x200000000ULL
#define CLONE_DETACHED_ 0x00400000ULL

struct args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

static long clone3(void *args, size_t size) { return syscall(SYS_clone3, args, size); }

/* One clone3: the child exits 3 at once; the parent prints the child's status or the errno. */
static void try(const char *what, void *args, size_t size)
{
    errno = 0;
    long r = clone3(args, size);
    if (r == 0) _exit(3);
    if (r < 0) {
        printf("%-40s %s\n", what, strerror(errno));
        return;
    }
    int st;
    if (waitpid((pid_t)r, &st, __WALL) != r) {
        printf("%-40s wait failed: %s\n", what, strerror(errno));
        return;
    }
    printf("%-40s child status %d\n", what, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static struct args base(void)
{
    struct args a;
    memset(&a, 0, sizeof a);
    a.exit_signal = SIGCHLD;
    return a;
}

static void on_usr1(int sig) { (void)sig; }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    static unsigned char big[8192];
    struct args a = base();

    /* The size. */
    try("size 0", &a, 0);
    try("size 63", &a, 63);
    try("size 64 (version 0)", &a, 64);
    try("size 80 (version 1)", &a, 80);
    try("size 87", &a, 87);
    try("size 88 (version 2)", &a, 88);
    try("size 4097", &a, 4097);
    try("null pointer", NULL, 88);
    try("bad pointer", (void *)16, 88);
    memcpy(big, &a, sizeof a);
    try("size 4096, zero tail", big, 4096);
    big[4095] = 1;
    try("size 4096, last byte set", big, 4096);
    big[4095] = 0;
    big[100] = 0x80;
    try("size 200, byte 100 set", big, 200);
    big[100] = 0;

    /* The struct at the end of a page followed by an unmapped one. */
    unsigned char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page + 4096, 4096);
    unsigned char *end = page + 4096 - sizeof a;
    memcpy(end, &a, sizeof a);
    try("struct ending a page", end, sizeof a);
    try("one byte past the page", end, sizeof a + 1);
    unsigned char *early = page + 4096 - 96;
    memcpy(early, &a, sizeof a);
    memset(early + sizeof a, 0, 8);
    try("zero tail up to the page end", early, 96);
    try("zero tail into the unmapped page", early, 104);
    early[90] = 1;
    try("set tail byte before the unmapped page", early, 104);

    /* exit_signal (signal 64 reaches the parent: a handler takes it). */
    struct sigaction take = {0};
    take.sa_handler = on_usr1;
    sigaction(64, &take, NULL);
    a = base(), a.exit_signal = 0;
    try("exit_signal 0", &a, sizeof a);
    a = base(), a.exit_signal = 64;
    try("exit_signal 64", &a, sizeof a);
    a = base(), a.exit_signal = 65;
    try("exit_signal 65", &a, sizeof a);
    a = base(), a.exit_signal = 0x100 | SIGCHLD;
    try("exit_signal with bit 8", &a, sizeof a);
    a = base(), a.exit_signal = (1ULL << 32) | SIGCHLD;
    try("exit_signal with bit 32", &a, sizeof a);

    /* Flags. */
    a = base(), a.flags = 1ULL << 40;
    try("unknown flag bit 40", &a, sizeof a);
    a = base(), a.flags = SIGCHLD;
    try("a CSIGNAL bit", &a, sizeof a);
    a = base(), a.flags = CLONE_DETACHED_;
    try("CLONE_DETACHED", &a, sizeof a);
    a = base(), a.flags = CLONE_SIGHAND | CLONE_VM | CLONE_CLEAR_SIGHAND_;
    try("CLONE_SIGHAND and CLONE_CLEAR_SIGHAND", &a, sizeof a);
    a = base(), a.flags = CLONE_PARENT;
    try("CLONE_PARENT with a signal", &a, sizeof a);
    a = base(), a.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
    try("CLONE_THREAD with a signal", &a, sizeof a);
    a = base(), a.flags = CLONE_SIGHAND;
    try("CLONE_SIGHAND without CLONE_VM", &a, sizeof a);
    a = base(), a.flags = CLONE_FS | CLONE_NEWNS;
    try("CLONE_FS with CLONE_NEWNS", &a, sizeof a);

    /* The stack. */
    static char stack[16384];
    a = base(), a.stack_size = 4;
    try("stack size without a stack", &a, sizeof a);
    a = base(), a.stack = (uintptr_t)stack;
    try("stack without a size", &a, sizeof a);
    a = base(), a.stack = 0x7ffffffff000ULL, a.stack_size = 0x2000;
    try("stack past the user address space", &a, sizeof a);

    /* set_tid. */
    pid_t tid = 0;
    a = base(), a.set_tid_size = 33, a.set_tid = (uintptr_t)&tid;
    try("set_tid_size 33", &a, sizeof a);
    a = base(), a.set_tid_size = 1;
    try("set_tid_size without set_tid", &a, sizeof a);
    a = base(), a.set_tid = (uintptr_t)&tid;
    try("set_tid without a size", &a, sizeof a);
    a = base(), a.set_tid = 16, a.set_tid_size = 1;
    try("set_tid at a bad address", &a, sizeof a);
    a = base(), a.set_tid = (uintptr_t)&tid, a.set_tid_size = 2, a.flags = 1ULL << 40;
    try("set_tid of two, unknown flag", &a, sizeof a);

    /* CLONE_INTO_CGROUP. */
    a = base(), a.flags = CLONE_INTO_CGROUP_, a.cgroup = 0;
    try("CLONE_INTO_CGROUP, size 64", &a, 64);
    a = base(), a.flags = CLONE_INTO_CGROUP_, a.cgroup = 1ULL << 31;
    try("CLONE_INTO_CGROUP, cgroup past INT_MAX", &a, sizeof a);
    a = base(), a.flags = CLONE_INTO_CGROUP_, a.cgroup = 9999;
    try("CLONE_INTO_CGROUP, no such fd", &a, sizeof a);

    /* CLONE_CLEAR_SIGHAND: caught signals back to SIG_DFL in the child, ignored ones stay. */
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, SIG_IGN);
    a = base(), a.flags = CLONE_CLEAR_SIGHAND_;
    long r = clone3(&a, sizeof a);
    if (r == 0) {
        struct sigaction s1, s2;
        sigaction(SIGUSR1, NULL, &s1);
        sigaction(SIGUSR2, NULL, &s2);
        _exit((s1.sa_handler == SIG_DFL ? 1 : 0) | (s2.sa_handler == SIG_IGN ? 2 : 0));
    }
    int st;
    waitpid((pid_t)r, &st, 0);
    printf("%-40s child status %d\n", "CLONE_CLEAR_SIGHAND", WEXITSTATUS(st));
    struct sigaction s1;
    sigaction(SIGUSR1, NULL, &s1);
    printf("%-40s %s\n", "parent's SIGUSR1 handler", s1.sa_handler == on_usr1 ? "kept" : "lost");
    return 0;
}
