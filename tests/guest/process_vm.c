/* process_vm_readv and process_vm_writev between a parent and its child: whole copies,
 * partial copies that stop at an unmapped page, read-only targets, and the errno of bad
 * arguments. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static char shared_name[64] = "parent's copy";
static char *region;  /* three pages with the middle one unmapped, in both processes */
static char *ro_page;

static long vm_read(pid_t pid, struct iovec *l, unsigned long ln, struct iovec *r, unsigned long rn, unsigned long fl) {
    return syscall(SYS_process_vm_readv, pid, l, ln, r, rn, fl);
}
static long vm_write(pid_t pid, struct iovec *l, unsigned long ln, struct iovec *r, unsigned long rn, unsigned long fl) {
    return syscall(SYS_process_vm_writev, pid, l, ln, r, rn, fl);
}

static const char *res(long r) {
    static char buf[4][32];
    static int i;
    char *b = buf[i++ % 4];
    if (r >= 0) snprintf(b, 32, "%ld", r);
    else snprintf(b, 32, "%s", errno == EINVAL ? "EINVAL" : errno == ESRCH ? "ESRCH" : errno == EFAULT ? "EFAULT"
                                 : errno == EPERM ? "EPERM" : strerror(errno));
    return b;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    const long ps = sysconf(_SC_PAGESIZE);
    ro_page = mmap(NULL, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    region = mmap(NULL, 3 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(region, 'r', 3 * ps);
    munmap(region + ps, ps);  /* the last mapping made: nothing fills the hole later */
    int to_child[2], to_parent[2];
    pipe(to_child);
    pipe(to_parent);
    pid_t pid = fork();
    if (pid == 0) {
        strcpy(shared_name, "child's copy");
        memset(region, 'c', ps);
        memset(region + 2 * ps, 'C', ps);
        write(to_parent[1], "r", 1);
        char c;
        read(to_child[0], &c, 1);  /* the parent wrote into shared_name */
        write(to_parent[1], shared_name, strlen(shared_name) + 1);
        read(to_child[0], &c, 1);
        _exit(0);
    }
    char c;
    read(to_parent[0], &c, 1);

    char buf[8192];
    struct iovec l = {buf, sizeof shared_name}, r = {shared_name, sizeof shared_name};
    long n = vm_read(pid, &l, 1, &r, 1, 0);
    printf("readv the child's name: %s [%s], own: [%s]\n", res(n), buf, shared_name);

    /* Two local buffers filled from one remote one, and two remote ones into one local. */
    char a[5] = {0}, b[20] = {0};
    struct iovec l2[2] = {{a, 4}, {b, 8}};
    n = vm_read(pid, l2, 2, &r, 1, 0);
    printf("readv into 4+8 bytes: %s [%s][%s]\n", res(n), a, b);
    struct iovec r2[2] = {{shared_name, 5}, {shared_name + 8, 4}};
    memset(buf, 0, sizeof buf);
    l.iov_len = 64;
    n = vm_read(pid, &l, 1, r2, 2, 0);
    printf("readv from 5+4 bytes: %s [%s]\n", res(n), buf);

    /* Partial copies: a remote range running into the unmapped page stops there. */
    struct iovec lr = {buf, 300}, rr = {region + ps - 100, 300};
    memset(buf, 0, sizeof buf);
    n = vm_read(pid, &lr, 1, &rr, 1, 0);
    printf("readv across into a hole: %s first=%c\n", res(n), buf[0]);
    rr.iov_base = region + ps + 10;
    printf("readv inside the hole: %s\n", res(vm_read(pid, &lr, 1, &rr, 1, 0)));
    struct iovec r3[3] = {{region, 50}, {region + ps + 5, 10}, {region + 2 * ps, 10}};
    lr.iov_len = 100;
    memset(buf, 0, sizeof buf);
    n = vm_read(pid, &lr, 1, r3, 3, 0);
    printf("readv 50 bytes, then a hole, then more: %s [%.3s]\n", res(n), buf);
    struct iovec r4[2] = {{region + 2 * ps, 10}, {region, 10}};
    n = vm_read(pid, &lr, 1, r4, 2, 0);
    printf("readv two good ranges: %s [%.3s|%.3s]\n", res(n), buf, buf + 10);
    struct iovec lbad[2] = {{buf, 10}, {(void *)16, 10}};
    n = vm_read(pid, lbad, 2, r4, 2, 0);
    printf("readv into a bad second local buffer: %s\n", res(n));

    /* Writes: into the child's data, not into a read-only page. */
    char msg[] = "written by the parent";
    struct iovec lw = {msg, sizeof msg}, rw = {shared_name, sizeof msg};
    n = vm_write(pid, &lw, 1, &rw, 1, 0);
    write(to_child[1], "w", 1);
    char reply[64] = {0};
    read(to_parent[0], reply, sizeof reply);
    printf("writev the child's name: %s, child now has [%s], own [%s]\n", res(n), reply, shared_name);
    struct iovec rro = {ro_page, 10};
    lw.iov_len = 10;
    printf("writev into a read-only page: %s\n", res(vm_write(pid, &lw, 1, &rro, 1, 0)));
    rr.iov_base = region + ps - 4;
    rr.iov_len = 10;
    printf("writev across into a hole: %s\n", res(vm_write(pid, &lw, 1, &rr, 1, 0)));

    /* Bad arguments. */
    l.iov_len = 8;
    r.iov_len = 8;
    printf("flags 1: %s\n", res(vm_read(pid, &l, 1, &r, 1, 1)));
    printf("liovcnt 1025: %s\n", res(vm_read(pid, &l, 1025, &r, 1, 0)));
    printf("riovcnt 1025: %s\n", res(vm_read(pid, &l, 1, &r, 1025, 0)));
    printf("bad local iovec array: %s\n", res(vm_read(pid, (void *)16, 1, &r, 1, 0)));
    printf("bad remote iovec array: %s\n", res(vm_read(pid, &l, 1, (void *)16, 1, 0)));
    struct iovec neg = {buf, (size_t)-1};
    printf("negative local length: %s\n", res(vm_read(pid, &neg, 1, &r, 1, 0)));
    printf("negative remote length: %s\n", res(vm_read(pid, &l, 1, &neg, 1, 0)));
    printf("no such pid: %s\n", res(vm_read(4000000, &l, 1, &r, 1, 0)));
    printf("no such pid, empty local: %s\n", res(vm_read(4000000, &l, 0, &r, 1, 0)));
    struct iovec empty = {shared_name, 0};
    printf("no such pid, empty remote: %s\n", res(vm_read(4000000, &l, 1, &empty, 1, 0)));
    printf("self: %s\n", res(vm_read(getpid(), &l, 1, &r, 1, 0)));

    write(to_child[1], "x", 1);
    siginfo_t si;
    waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
    printf("a zombie: %s\n", res(vm_read(pid, &l, 1, &r, 1, 0)));
    waitpid(pid, NULL, 0);
    printf("reaped: %s\n", res(vm_read(pid, &l, 1, &r, 1, 0)));

    /* A process that gave up root may not read root's memory (run as root only). */
    if (getuid() == 0) {
        pid_t p2 = fork();
        if (p2 == 0) {
            if (setresuid(65534, 65534, 65534) != 0) _exit(2);
            long m = vm_read(getppid(), &l, 1, &r, 1, 0);
            _exit(m < 0 && errno == EPERM ? 0 : 1);
        }
        int st;
        waitpid(p2, &st, 0);
        printf("an unprivileged child reading root's memory: %s\n", WEXITSTATUS(st) == 0 ? "EPERM" : "allowed");
    } else {
        printf("an unprivileged child reading root's memory: EPERM\n");
    }
    return 0;
}
