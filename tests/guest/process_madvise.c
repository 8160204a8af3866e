/* process_madvise on the caller's own pidfd and on a forked child's: flags must be 0; the
 * iovec is read as import_iovec does (UIO_MAXIOV, negative lengths, bad addresses); any advice
 * works on oneself (MADV_DONTNEED really drops the pages), only the hints (MADV_COLD,
 * MADV_PAGEOUT, MADV_WILLNEED) on another process; the result is the bytes of the ranges done
 * before the first failing one, or that failure; a pidfd of a zombie or a reaped child is
 * ESRCH, another fd EBADF; without privileges another process is EACCES or EPERM. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __NR_process_madvise
#define __NR_process_madvise 440
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define PG 4096

static const char *ename(int e)
{
    switch (e) {
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    case ESRCH: return "ESRCH";
    case ENOMEM: return "ENOMEM";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    default: return strerror(e);
    }
}

static long pm(const char *what, int pidfd, struct iovec *iov, unsigned long n, int advice, unsigned flags)
{
    long r = syscall(__NR_process_madvise, pidfd, iov, n, advice, flags);
    if (r < 0) printf("%s = -1 %s\n", what, ename(errno));
    else printf("%s = %ld\n", what, r);
    return r;
}

static int pidfd_open(pid_t pid) { return (int)syscall(__NR_pidfd_open, pid, 0); }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    char *p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    memset(p, 'x', 8 * PG);
    munmap(p + 6 * PG, PG); /* a hole at page 6 */
    int self = pidfd_open(getpid());
    struct iovec one = {p, PG};

    pm("flags 1", self, &one, 1, MADV_WILLNEED, 1);
    pm("flags 1, bad fd", -1, &one, 1, MADV_WILLNEED, 1);
    pm("vlen 1025", self, &one, 1025, MADV_WILLNEED, 0);
    pm("vlen 1025, bad fd", -1, &one, 1025, MADV_WILLNEED, 0);
    pm("bad iovec pointer", self, (struct iovec *)8, 1, MADV_WILLNEED, 0);
    struct iovec neg[2] = {{p, PG}, {p, (size_t)-1}};
    pm("negative length", self, neg, 2, MADV_WILLNEED, 0);
    struct iovec kern[2] = {{p, PG}, {(void *)-4096l, 8192}};
    pm("kernel address", self, kern, 2, MADV_WILLNEED, 0);
    pm("vlen 0", self, &one, 0, MADV_WILLNEED, 0);
    pm("bad fd", -1, &one, 1, MADV_WILLNEED, 0);
    pm("closed fd", 100, &one, 1, MADV_WILLNEED, 0);
    pm("not a pidfd", 1, &one, 1, MADV_WILLNEED, 0);
    pm("self: invalid advice 12345", self, &one, 1, 12345, 0);

    /* Oneself: any advice, bytes advised. */
    struct iovec three[3] = {{p, PG}, {p + 2 * PG, 100}, {p + 4 * PG, PG}};
    pm("self: WILLNEED over three ranges", self, three, 3, MADV_WILLNEED, 0);
    pm("self: COLD", self, three, 3, MADV_COLD, 0);
    pm("self: PAGEOUT", self, three, 3, MADV_PAGEOUT, 0);
    pm("self: DONTNEED", self, three, 3, MADV_DONTNEED, 0);
    printf("after DONTNEED: %d %d %d %d %d\n", p[0], p[PG], p[2 * PG], p[3 * PG], p[4 * PG]);
    memset(p, 'y', 6 * PG);
    pm("self: DONTNEED page 0", self, &one, 1, MADV_DONTNEED, 0);
    printf("page 0 now %d\n", p[0]);

    /* Partial progress: the ranges before the failing one count. */
    struct iovec part[4] = {{p, PG}, {p + PG, 0}, {p + 5 * PG, 2 * PG}, {p + 2 * PG, PG}};
    pm("second range over the hole", self, part, 4, MADV_WILLNEED, 0);
    struct iovec unal[2] = {{p, 2 * PG}, {p + 1, PG}};
    pm("second range unaligned", self, unal, 2, MADV_WILLNEED, 0);
    struct iovec first_bad[2] = {{p + 1, PG}, {p, PG}};
    pm("first range unaligned", self, first_bad, 2, MADV_WILLNEED, 0);
    struct iovec first_hole[2] = {{p + 6 * PG, PG}, {p, PG}};
    pm("first range in the hole", self, first_hole, 2, MADV_WILLNEED, 0);
    struct iovec empties[3] = {{p, 0}, {NULL, 0}, {p + 1, 0}};
    pm("only empty ranges", self, empties, 3, MADV_WILLNEED, 0);
    struct iovec small_neg[1] = {{p, (size_t)-100}};
    pm("length -100 alone", self, small_neg, 1, MADV_WILLNEED, 0);

    /* Another process. */
    int pfd[2];
    if (pipe(pfd)) return 1;
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(pfd[1]);
        read(pfd[0], &c, 1);
        _exit(p[PG] == 'y' ? 0 : 1); /* its copy is untouched by the hints */
    }
    close(pfd[0]);
    int child = pidfd_open(pid);
    pm("child: WILLNEED", child, three, 3, MADV_WILLNEED, 0);
    pm("child: COLD", child, three, 3, MADV_COLD, 0);
    pm("child: PAGEOUT", child, three, 3, MADV_PAGEOUT, 0);
    pm("child: DONTNEED", child, three, 3, MADV_DONTNEED, 0);
    pm("child: FREE", child, three, 3, MADV_FREE, 0);
    pm("child: NORMAL", child, three, 3, MADV_NORMAL, 0);
    pm("child: 12345", child, three, 3, 12345, 0);
    pm("child: over the hole", child, part, 4, MADV_COLD, 0);
    pm("child: flags 2", child, three, 3, MADV_COLD, 2);
    if (getuid() == 0) {
        /* Without CAP_SYS_NICE: the hints are EPERM; with other ids as well, EACCES first. */
        pid_t helper = fork();
        if (helper == 0) {
            struct __user_cap_header_struct { unsigned version; int pid; } h = {0x20080522, 0};
            struct { unsigned eff, perm, inh; } d[2];
            syscall(SYS_capget, &h, d);
            d[0].eff &= ~(1u << 23); /* CAP_SYS_NICE */
            syscall(SYS_capset, &h, d);
            pm("child without CAP_SYS_NICE: COLD", child, three, 3, MADV_COLD, 0);
            pm("child without CAP_SYS_NICE: DONTNEED", child, three, 3, MADV_DONTNEED, 0);
            pm("self without CAP_SYS_NICE: DONTNEED", self, &one, 1, MADV_DONTNEED, 0);
            pm("PIDFD_SELF_THREAD_GROUP", -20000, &one, 1, MADV_DONTNEED, 0);
            if (setresuid(65534, 65534, 65534)) printf("setresuid failed\n");
            pm("child as nobody: COLD", child, three, 3, MADV_COLD, 0);
            pm("child as nobody: DONTNEED", child, three, 3, MADV_DONTNEED, 0);
            _exit(0);
        }
        waitpid(helper, NULL, 0);
    }
    write(pfd[1], "x", 1);
    siginfo_t si;
    waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
    printf("child exited with %d\n", si.si_status);
    pm("zombie child: COLD", child, three, 3, MADV_COLD, 0);
    waitpid(pid, NULL, 0);
    pm("reaped child: COLD", child, three, 3, MADV_COLD, 0);
    pm("reaped child: bad iovec", child, (struct iovec *)8, 1, MADV_COLD, 0);
    return 0;
}
