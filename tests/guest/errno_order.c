/* Errors Linux finds before it reads user memory, and a shared futex word that cannot be read
 * (LTP semop02, futex_wake05, futex_cmp_requeue03):
 * - semop checks nsops (E2BIG past SEMOPM, EINVAL for 0) before it reads the operations,
 *   and the id after;
 * - a shared (not FUTEX_PRIVATE) futex needs its word readable: unmapped, PROT_NONE or past
 *   the end of the file it maps is EFAULT (get_futex_key's get_user_pages_fast), for WAKE,
 *   and for CMP_REQUEUE's second word; a private futex never looks at the page;
 * - setpgid of a child after its execve is EACCES; sched_setaffinity's order and EPERM;
 *   select under STICKY_TIMEOUTS; opening a program another process runs for writing (below). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

static void show(const char *what, long r)
{
    printf("%s: %s\n", what, r >= 0 ? "ok" : strerror(errno));
}

static void semop_checks(void)
{
    int id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    if (id < 0) {
        show("semget", id);
        return;
    }
    struct sembuf op = {0, 1, 0};
    show("semop 1 operation", semop(id, &op, 1));
    show("semop 0 operations", semop(id, &op, 0));
    show("semop 100000 operations from a 1-operation buffer", semop(id, &op, 100000));
    show("semop 2 operations from a bad address", semop(id, (struct sembuf *)8, 2));
    show("semop id -1, bad address", semop(-1, (struct sembuf *)8, 1));
    show("semop id -1", semop(-1, &op, 1));
    semctl(id, 0, IPC_RMID);
}

/* uapi/linux/futex.h (musl has no linux/ headers) */
#define FUTEX_WAKE 1
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | 128)

static long futex(void *uaddr, int op, int val, long val2, void *uaddr2, int val3)
{
    return syscall(SYS_futex, uaddr, op, val, val2, uaddr2, val3);
}

static void futex_checks(void)
{
    long page = sysconf(_SC_PAGESIZE);
    int *ok = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int *unmapped = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(unmapped, page);
    int *none = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char path[] = "errno_order.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, page)) return;
    int *past = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (ftruncate(fd, 0)) return;
    close(fd);
    unlink(path);

    show("FUTEX_WAKE on a mapped word", futex(ok, FUTEX_WAKE, 1, 0, NULL, 0));
    show("FUTEX_WAKE on a PROT_NONE word", futex(none, FUTEX_WAKE, 1, 0, NULL, 0));
    show("FUTEX_WAKE on a word past the file's end", futex(past, FUTEX_WAKE, 1, 0, NULL, 0));
    show("FUTEX_WAKE_PRIVATE on a PROT_NONE word", futex(none, FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0));
    show("FUTEX_WAKE_PRIVATE on an unmapped word", futex(unmapped, FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0));
    show("FUTEX_CMP_REQUEUE to a PROT_NONE word", futex(ok, FUTEX_CMP_REQUEUE, 1, 1, none, 0));
    show("FUTEX_CMP_REQUEUE to a word past the file's end", futex(ok, FUTEX_CMP_REQUEUE, 1, 1, past, 0));
    show("FUTEX_CMP_REQUEUE to a mapped word", futex(ok, FUTEX_CMP_REQUEUE, 1, 1, ok + 1, 0));
    munmap(none, page);
    munmap(past, page);
    munmap(ok, page);
}

/* setpgid of a child: allowed before its execve, EACCES after (setpgid03). The child
 * re-executes this program, which waits; the parent learns of the exec when the
 * close-on-exec pipe closes. */
static void setpgid_after_exec(void)
{
    int p[2], go[2];
    if (pipe2(p, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) return;
    pid_t pid = fork();
    char c;
    if (pid == 0) {
        read(go[0], &c, 1);
        char *argv[] = {"errno_order", "wait", NULL};
        execv("/proc/self/exe", argv);
        _exit(1);
    }
    show("setpgid of a child before its execve", setpgid(pid, pid));
    write(go[1], &c, 1);
    close(go[0]);
    close(go[1]);
    close(p[1]);
    read(p[0], &c, 1);  /* EOF: the child has exec'd */
    close(p[0]);
    show("setpgid of a child after its execve", setpgid(pid, pid));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* sched_setaffinity reads the mask (EFAULT) before it looks for the process (ESRCH), and
 * another user's process needs CAP_SYS_NICE (EPERM; sched_setaffinity01). */
static void affinity_checks(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof set, &set);
    show("sched_setaffinity bad mask, no such pid", sched_setaffinity(0x7ffffff0, sizeof set, (cpu_set_t *)8));
    show("sched_setaffinity no such pid", sched_setaffinity(0x7ffffff0, sizeof set, &set));
    show("sched_setaffinity of itself", sched_setaffinity(0, sizeof set, &set));
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        if (setuid(65534)) _exit(1);
        show("sched_setaffinity of a root process as nobody", sched_setaffinity(parent, sizeof set, &set));
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

/* select under the STICKY_TIMEOUTS personality leaves the timeout as given (personality02). */
static void sticky_timeouts(void)
{
    int p[2];
    if (pipe(p)) return;
    fd_set rfds;
    FD_ZERO(&rfds);
    FD_SET(p[0], &rfds);
    struct timeval tv = {0, 10};
    personality(PER_LINUX | STICKY_TIMEOUTS);
    int r = select(p[0] + 1, &rfds, NULL, NULL, &tv);
    personality(PER_LINUX);
    printf("select under STICKY_TIMEOUTS: %d, timeout left as given: %s\n", r,
           tv.tv_sec == 0 && tv.tv_usec == 10 ? "yes" : "no");
    close(p[0]);
    close(p[1]);
}

/* A program another process runs cannot be opened for writing (get_write_access's ETXTBSY;
 * creat07): a copy of this program runs as a child while we open it. */
static void write_running(void)
{
    char path[] = "errno_order_prog.XXXXXX", buf[65536];
    int out = mkstemp(path), in = open("/proc/self/exe", O_RDONLY);
    if (out < 0 || in < 0) return;
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, n) != n) return;
    close(in);
    fchmod(out, 0755);
    close(out);
    int p[2];
    if (pipe2(p, O_CLOEXEC)) return;
    pid_t pid = fork();
    if (pid == 0) {
        execl(path, "errno_order", "wait", (char *)NULL);
        _exit(1);
    }
    close(p[1]);
    char c;
    read(p[0], &c, 1); /* EOF: the child has exec'd */
    close(p[0]);
    int fd = open(path, O_WRONLY);
    show("open O_WRONLY of a program another process runs", fd);
    if (fd >= 0) close(fd);
    fd = open(path, O_RDONLY);
    show("open O_RDONLY of it", fd);
    if (fd >= 0) close(fd);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fd = open(path, O_WRONLY);
    show("open O_WRONLY once it has exited", fd);
    if (fd >= 0) close(fd);
    unlink(path);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "wait")) {
        pause();
        return 0;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    semop_checks();
    futex_checks();
    setpgid_after_exec();
    affinity_checks();
    sticky_timeouts();
    write_running();
    return 0;
}
