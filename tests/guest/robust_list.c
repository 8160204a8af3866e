/* set_robust_list and get_robust_list: EINVAL for any length but the ABI's struct
 * robust_list_head (24 bytes, 12 on i386), heads not checked when set, the length written
 * before the head (EFAULT for either pointer), pid 0 as the caller, another process's and a
 * thread's head, a zombie child (found, its list gone at exit), a reaped one and pid -1
 * (ESRCH), and EPERM for an unprivileged caller on a root process. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct robust_head {
    void *list, *offset, *pending; /* struct robust_list_head: three words */
};

static long set_rl(void *head, size_t len) { return syscall(SYS_set_robust_list, head, len); }
static long get_rl(long pid, void *head_ptr, void *len_ptr) { return syscall(SYS_get_robust_list, pid, head_ptr, len_ptr); }

static const char *err(long r) { return r == 0 ? "ok" : strerror(errno); }

static struct robust_head mine, childs, threads;

/* What get_robust_list says of pid: the error, or which head it is and the length. */
static void show(const char *what, long pid)
{
    void *head = (void *)1;
    size_t len = 0;
    long r = get_rl(pid, &head, &len);
    if (r) {
        printf("%-36s %s\n", what, err(r));
        return;
    }
    const char *name = head == &mine      ? "mine"
                       : head == &childs  ? "the child's"
                       : head == &threads ? "the thread's"
                       : head == NULL     ? "null"
                                          : "another";
    printf("%-36s head %s, len %zu (%s)\n", what, name, len, len == sizeof(struct robust_head) ? "the ABI's" : "wrong");
}

static int go[2], done[2];

static void *thread_main(void *arg)
{
    (void)arg;
    set_rl(&threads, sizeof threads);
    char c = 't';
    write(done[1], &c, 1);
    read(go[0], &c, 1);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    pipe(go);
    pipe(done);

    printf("%-36s %s\n", "set, the right length", err(set_rl(&mine, sizeof mine)));
    show("get pid 0", 0);
    show("get own pid", getpid());
    printf("%-36s %s\n", "set, length - 1", err(set_rl(&mine, sizeof mine - 1)));
    printf("%-36s %s\n", "set, length + 1", err(set_rl(&mine, sizeof mine + 1)));
    printf("%-36s %s\n", "set, length 0", err(set_rl(&mine, 0)));
    printf("%-36s %s\n", "set, length 24 as 12", err(set_rl(&mine, sizeof(void *) == 8 ? 12 : 24)));
    show("after the failed sets", 0);
    printf("%-36s %s\n", "set, a null head", err(set_rl(NULL, sizeof mine)));
    show("get a null head", 0);
    printf("%-36s %s\n", "set, a bad head", err(set_rl((void *)16, sizeof mine)));
    set_rl(&mine, sizeof mine);

    size_t len = 0;
    long r = get_rl(0, (void *)16, &len);
    printf("%-36s %s, len %s\n", "get, a bad head pointer", err(r), len ? "written" : "not written");
    void *head = (void *)1;
    r = get_rl(0, &head, (void *)16);
    printf("%-36s %s, head %s\n", "get, a bad length pointer", err(r), head == (void *)1 ? "not written" : "written");
    show("get pid -1", -1);
    show("get pid 0x7fffffff", 0x7fffffff);

    /* Another process: its own head once it set it, then as a zombie, then reaped. */
    pid_t pid = fork();
    if (pid == 0) {
        set_rl(&childs, sizeof childs);
        char c = 'c';
        write(done[1], &c, 1);
        read(go[0], &c, 1);
        _exit(0);
    }
    char c;
    read(done[0], &c, 1);
    show("get a child", pid);
    write(go[1], "g", 1);
    siginfo_t si;
    waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
    show("get a zombie child", pid);
    waitpid(pid, NULL, 0);
    show("get a reaped child", pid);

    /* A thread's own head, by its tid. */
    pthread_t th;
    pthread_create(&th, NULL, thread_main, NULL);
    read(done[0], &c, 1);
    /* The thread's tid: the only other task in /proc/self/task. */
    long tid = 0;
    char path[64];
    for (long t = getpid() + 1; t < getpid() + 1000 && !tid; t++) {
        snprintf(path, sizeof path, "/proc/self/task/%ld", t);
        if (access(path, F_OK) == 0) tid = t;
    }
    show("get a thread", tid);
    write(go[1], "g", 1);
    pthread_join(th, NULL);

    /* Unprivileged: its own is fine, a root process's is not. */
    pid = fork();
    if (pid == 0) {
        if (setuid(65534) != 0) _exit(1);
        show("as nobody, get pid 0", 0);
        show("as nobody, get the root parent", getppid());
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    return 0;
}
