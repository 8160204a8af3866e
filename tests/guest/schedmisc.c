/* schedmisc: scheduling attributes and small process syscalls with Linux's rules.
 * getpriority/setpriority, sched_{set,get}{scheduler,param,attr}, sched_get_priority_max/min,
 * sched_rr_get_interval, nice (i386), ioprio_get/set, personality, sethostname/setdomainname
 * (errors and a same-name set only), syslog (no action that changes the host), utime, the
 * old getdents, close_range, get_robust_list, kcmp and membarrier. Every change happens in a
 * forked child of its own process group, so nothing outside the test is touched. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif
#ifndef SCHED_IDLE
#define SCHED_IDLE 5
#endif
#ifndef SCHED_BATCH
#define SCHED_BATCH 3
#endif

static void result(const char *what, long r) {
    if (r < 0) printf("%s: -1 %s\n", what, strerror(errno));
    else printf("%s: %ld\n", what, r);
}

static void in_child(const char *name, void (*fn)(void)) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        setpgid(0, 0);  /* a group of its own: PRIO_PGRP and IOPRIO_WHO_PGRP stay inside */
        printf("== %s\n", name);
        fn();
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st)) printf("%s: child status %#x\n", name, st);
}

static int root;
static char dir[64];

static int child_value(long (*fn)(void)) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) _exit((int)fn() & 0xff);
    int st;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static long raw_getprio(void) { return syscall(SYS_getpriority, PRIO_PROCESS, 0); }
static long get_sched(void) { return sched_getscheduler(0); }
static long get_ioprio(void) { return syscall(SYS_ioprio_get, 1, 0) >> 13; }

static void t_priority(void) {
    result("getpriority raw", raw_getprio());
    result("setpriority(5)", setpriority(PRIO_PROCESS, 0, 5));
    result("getpriority raw", raw_getprio());
    result("child inherits raw", child_value(raw_getprio));
    result("setpriority(30) clamps", setpriority(PRIO_PROCESS, 0, 30));
    result("getpriority raw", raw_getprio());
    errno = 0;
    result("setpriority(-30)", setpriority(PRIO_PROCESS, 0, -30));
    result("getpriority raw", raw_getprio());
    result("setpriority(which 3)", setpriority(3, 0, 0));
    result("getpriority(which -1)", syscall(SYS_getpriority, -1, 0));
    result("setpriority(no pid)", setpriority(PRIO_PROCESS, 999999, 0));
    result("getpriority(no pid)", syscall(SYS_getpriority, PRIO_PROCESS, 999999));
    result("setpriority(pgrp 0, 3)", setpriority(PRIO_PGRP, 0, 3));
    result("getpriority(pgrp 0) raw", syscall(SYS_getpriority, PRIO_PGRP, 0));
    result("getpriority(user 54321)", syscall(SYS_getpriority, PRIO_USER, 54321));
    if (root) {
        result("setresuid(1000,1000,1000)", setresuid(1000, 1000, 1000));
        result("setpriority(parent)", setpriority(PRIO_PROCESS, getppid(), 0));
        result("setpriority(0) as user", setpriority(PRIO_PROCESS, 0, 0));
        result("setpriority(10) as user", setpriority(PRIO_PROCESS, 0, 10));
    }
#if defined(__i386__)
    result("nice(2)", syscall(SYS_nice, 2));
    result("getpriority raw", raw_getprio());
    result("nice(-100)", syscall(SYS_nice, -100));
    result("getpriority raw", raw_getprio());
#endif
}

static void t_sched(void) {
    int pols[] = {SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, 6, 4, 7, -1};
    for (unsigned i = 0; i < sizeof pols / sizeof *pols; ++i) {
        char w[64];
        snprintf(w, sizeof w, "max(%d)", pols[i]);
        result(w, sched_get_priority_max(pols[i]));
        snprintf(w, sizeof w, "min(%d)", pols[i]);
        result(w, sched_get_priority_min(pols[i]));
    }
    struct sched_param sp = {0};
    result("getscheduler", sched_getscheduler(0));
    result("getparam", sched_getparam(0, &sp));
    printf("priority %d\n", sp.sched_priority);
    result("getscheduler(-1)", sched_getscheduler(-1));
    result("getscheduler(none)", sched_getscheduler(999999));
    result("getparam(NULL)", syscall(SYS_sched_getparam, 0, NULL));
    result("getparam(fault)", syscall(SYS_sched_getparam, 0, (void *)8));
    struct timespec ts = {7, 7};
    result("rr_get_interval(-1)", sched_rr_get_interval(-1, &ts));
    result("rr_get_interval(none)", sched_rr_get_interval(999999, &ts));
    sp.sched_priority = 5;
    result("setscheduler(OTHER, 5)", sched_setscheduler(0, SCHED_OTHER, &sp));
    sp.sched_priority = 0;
    result("setscheduler(FIFO, 0)", sched_setscheduler(0, SCHED_FIFO, &sp));
    sp.sched_priority = 100;
    result("setscheduler(RR, 100)", sched_setscheduler(0, SCHED_RR, &sp));
    result("setscheduler(99, 0)", syscall(SYS_sched_setscheduler, 0, 99, &sp));
    result("setscheduler(NULL)", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL));
    result("setscheduler(pid -1)", syscall(SYS_sched_setscheduler, -1, SCHED_OTHER, &sp));
    result("setscheduler(fault)", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, (void *)8));
    sp.sched_priority = 0;
    result("setscheduler(BATCH)", sched_setscheduler(0, SCHED_BATCH, &sp));
    result("getscheduler", sched_getscheduler(0));
    result("setscheduler(IDLE)", sched_setscheduler(0, SCHED_IDLE, &sp));
    result("getscheduler", sched_getscheduler(0));
    result("setscheduler(OTHER|RESET_ON_FORK)", sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &sp));
    result("getscheduler", sched_getscheduler(0));
    result("setparam(0)", sched_setparam(0, &sp));
    result("getscheduler", sched_getscheduler(0));
    result("setscheduler(OTHER) clears reset", sched_setscheduler(0, SCHED_OTHER, &sp));
    result("getscheduler", sched_getscheduler(0));
    if (!root) return;
    sp.sched_priority = 10;
    long r = sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp);
    result("setscheduler(RR|RESET_ON_FORK, 10)", r);
    if (r == 0) {
        result("getscheduler", sched_getscheduler(0));
        sp.sched_priority = 0;
        result("getparam", sched_getparam(0, &sp));
        printf("priority %d\n", sp.sched_priority);
        result("rr_get_interval", sched_rr_get_interval(0, &ts));
        printf("rr %ld.%09ld\n", (long)ts.tv_sec, (long)ts.tv_nsec);
        result("child's policy", child_value(get_sched));
        sp.sched_priority = 20;
        result("setparam(20)", sched_setparam(0, &sp));
        sched_getparam(0, &sp);
        printf("priority %d\n", sp.sched_priority);
        sp.sched_priority = 0;
        result("setscheduler(OTHER)", sched_setscheduler(0, SCHED_OTHER, &sp));
    }
    result("setresuid(1000,1000,1000)", setresuid(1000, 1000, 1000));
    sp.sched_priority = 1;
    result("setscheduler(FIFO) as user", sched_setscheduler(0, SCHED_FIFO, &sp));
    sp.sched_priority = 0;
    result("setscheduler(parent) as user", sched_setscheduler(getppid(), SCHED_OTHER, &sp));
}

struct sched_attr_v1 {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
};

static void t_sched_attr(void) {
    struct {
        struct sched_attr_v1 a;
        char tail[16];
    } big;
    struct sched_attr_v1 a;
    memset(&a, 0xee, sizeof a);
    result("getattr", syscall(SYS_sched_getattr, 0, &a, sizeof a, 0));
    printf("size %u policy %u flags %llu nice %d prio %u\n", a.size, a.sched_policy,
           (unsigned long long)a.sched_flags, a.sched_nice, a.sched_priority);
    result("getattr(size 47)", syscall(SYS_sched_getattr, 0, &a, 47, 0));
    result("getattr(flags 1)", syscall(SYS_sched_getattr, 0, &a, sizeof a, 1));
    result("getattr(NULL)", syscall(SYS_sched_getattr, 0, NULL, sizeof a, 0));
    result("getattr(none)", syscall(SYS_sched_getattr, 999999, &a, sizeof a, 0));
    memset(&a, 0, sizeof a);
    a.size = 0;  /* version 0 */
    a.sched_policy = SCHED_OTHER;
    a.sched_nice = 7;
    result("setattr(nice 7)", syscall(SYS_sched_setattr, 0, &a, 0));
    result("getpriority raw", raw_getprio());
    a.sched_nice = 50;
    result("setattr(nice 50)", syscall(SYS_sched_setattr, 0, &a, 0));
    result("getpriority raw", raw_getprio());
    result("setattr(flags arg 1)", syscall(SYS_sched_setattr, 0, &a, 1));
    a.sched_flags = 0x1000;
    result("setattr(unknown flag)", syscall(SYS_sched_setattr, 0, &a, 0));
    a.sched_flags = 0;
    a.size = 4097;
    result("setattr(size 4097)", syscall(SYS_sched_setattr, 0, &a, 0));
    printf("size written back %u\n", a.size);
    a.size = 20;
    result("setattr(size 20)", syscall(SYS_sched_setattr, 0, &a, 0));
    memset(&big, 0, sizeof big);
    big.a.size = sizeof big;
    big.a.sched_policy = SCHED_BATCH;
    result("setattr(big, zero tail)", syscall(SYS_sched_setattr, 0, &big, 0));
    result("getscheduler", sched_getscheduler(0));
    big.tail[3] = 1;
    result("setattr(big, nonzero tail)", syscall(SYS_sched_setattr, 0, &big, 0));
    printf("size written back %u\n", big.a.size);
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.sched_flags = 0x08;  /* KEEP_POLICY */
    a.sched_nice = 2;
    result("setattr(KEEP_POLICY, nice 2)", syscall(SYS_sched_setattr, 0, &a, 0));
    result("getscheduler", sched_getscheduler(0));
    result("getpriority raw", raw_getprio());
    a.sched_flags = 0;
    a.sched_policy = 6;  /* SCHED_DEADLINE with no parameters */
    result("setattr(DEADLINE, zero)", syscall(SYS_sched_setattr, 0, &a, 0));
    a.sched_policy = 0;
    a.sched_nice = -5;
    if (root) setresuid(1000, 1000, 1000);
    result("setattr(nice -5)", syscall(SYS_sched_setattr, 0, &a, 0));
}

static void t_ioprio(void) {
    result("ioprio_get(self)", syscall(SYS_ioprio_get, 1, 0));
    result("ioprio_set(BE 4)", syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 4));
    result("ioprio_get(self)", syscall(SYS_ioprio_get, 1, 0));
    result("child's class", child_value(get_ioprio));
    result("ioprio_set(IDLE)", syscall(SYS_ioprio_set, 1, 0, 3 << 13));
    result("ioprio_get(self)", syscall(SYS_ioprio_get, 1, 0));
    result("ioprio_set(NONE 4)", syscall(SYS_ioprio_set, 1, 0, 4));
    result("ioprio_set(class 5)", syscall(SYS_ioprio_set, 1, 0, 5 << 13));
    result("ioprio_set(which 4)", syscall(SYS_ioprio_set, 4, 0, 2 << 13));
    result("ioprio_set(no pid)", syscall(SYS_ioprio_set, 1, 999999, 2 << 13));
    result("ioprio_get(no pid)", syscall(SYS_ioprio_get, 1, 999999));
    result("ioprio_get(which 0)", syscall(SYS_ioprio_get, 0, 0));
    result("ioprio_set(NONE)", syscall(SYS_ioprio_set, 1, 0, 0));
    result("ioprio_get(self) after NONE", syscall(SYS_ioprio_get, 1, 0));
    result("ioprio_set(pgrp, BE 2)", syscall(SYS_ioprio_set, 2, 0, (2 << 13) | 2));
    result("ioprio_get(pgrp)", syscall(SYS_ioprio_get, 2, 0));
    if (root) {
        result("ioprio_set(RT 1)", syscall(SYS_ioprio_set, 1, 0, (1 << 13) | 1));
        result("setresuid(1000,1000,1000)", setresuid(1000, 1000, 1000));
        result("ioprio_set(RT 1) as user", syscall(SYS_ioprio_set, 1, 0, (1 << 13) | 1));
        result("ioprio_set(parent) as user", syscall(SYS_ioprio_set, 1, getppid(), 2 << 13));
    }
}

static void t_personality(void) {
    result("personality(query)", personality(0xffffffff));
    result("personality(ADDR_NO_RANDOMIZE)", personality(ADDR_NO_RANDOMIZE));
    result("personality(query)", personality(0xffffffff));
    result("personality(PER_LINUX32)", personality(PER_LINUX32));
    struct utsname u;
    uname(&u);
    printf("machine %s\n", u.machine);
    result("personality(PER_LINUX)", personality(PER_LINUX));
    uname(&u);
    printf("machine %s\n", u.machine);
}

static void t_uts(void) {
    struct utsname u;
    uname(&u);
    result("sethostname(len -1)", syscall(SYS_sethostname, u.nodename, -1));
    result("sethostname(len 65)", sethostname(u.nodename, 65));
    result("sethostname(fault)", syscall(SYS_sethostname, (void *)8, 4));
    result("setdomainname(len 65)", setdomainname(u.domainname, 65));
    result("sethostname(same)", sethostname(u.nodename, strlen(u.nodename)));
    struct utsname v;
    uname(&v);
    printf("nodename unchanged: %d\n", !strcmp(u.nodename, v.nodename));
    if (root) {
        setresuid(1000, 1000, 1000);
        result("sethostname as user", sethostname(u.nodename, strlen(u.nodename)));
    }
}

static void t_syslog(void) {
    char buf[64];
    result("syslog(99)", syscall(SYS_syslog, 99, buf, 0));
    result("syslog(SIZE_BUFFER) > 0", syscall(SYS_syslog, 10, NULL, 0) > 0 ? 1 : -1);
    result("syslog(READ_ALL, NULL)", syscall(SYS_syslog, 3, NULL, 10));
    result("syslog(READ_ALL, len -1)", syscall(SYS_syslog, 3, buf, -1));
    result("syslog(READ_ALL, len 0)", syscall(SYS_syslog, 3, buf, 0));
    result("syslog(READ, NULL)", syscall(SYS_syslog, 2, NULL, 10));
    result("syslog(OPEN)", syscall(SYS_syslog, 1, NULL, 0));
    if (root) {
        setresuid(1000, 1000, 1000);
        result("syslog(OPEN) as user", syscall(SYS_syslog, 1, NULL, 0));
        result("syslog(CLEAR) as user", syscall(SYS_syslog, 5, NULL, 0));
    }
}

static void t_files(void) {
    char path[96], sub[96];
    snprintf(path, sizeof path, "%s/f", dir);
    close(open(path, O_CREAT | O_WRONLY, 0644));
    struct utimbuf ub = {100, 200};
    result("utime(100,200)", utime(path, &ub));
    struct stat st;
    stat(path, &st);
    printf("atime %ld mtime %ld\n", (long)st.st_atime, (long)st.st_mtime);
    result("utime(NULL)", utime(path, NULL));
    stat(path, &st);
    printf("mtime moved: %d\n", st.st_mtime > 200);
    result("utime(fault)", syscall(SYS_utime, path, (void *)8));
    result("utime(missing)", utime("/nonexistent/x", &ub));
    snprintf(sub, sizeof sub, "%s/d", dir);
    mkdir(sub, 0755);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    char buf[4096];
    long n = syscall(SYS_getdents, dfd, buf, sizeof buf);
    printf("getdents: %s\n", n > 0 ? "records" : strerror(errno));
    char names[8][32];
    int types[8], count = 0;
    for (long off = 0; off < n && count < 8;) {
        unsigned short reclen;
        memcpy(&reclen, buf + off + 2 * sizeof(long), 2);
        snprintf(names[count], sizeof names[count], "%s", buf + off + 2 * sizeof(long) + 2);
        types[count++] = buf[off + reclen - 1];
        off += reclen;
    }
    for (int i = 0; i < count; ++i)  /* in name order, as the order of a directory is its own */
        for (int j = i + 1; j < count; ++j)
            if (strcmp(names[i], names[j]) > 0) {
                char t[32];
                strcpy(t, names[i]), strcpy(names[i], names[j]), strcpy(names[j], t);
                int ty = types[i];
                types[i] = types[j], types[j] = ty;
            }
    for (int i = 0; i < count; ++i) printf("  %s type %d\n", names[i], types[i]);
    lseek(dfd, 0, SEEK_SET);
    result("getdents(count 8)", syscall(SYS_getdents, dfd, buf, 8));
    result("getdents(EBADF)", syscall(SYS_getdents, 999, buf, sizeof buf));
    int ffd = open(path, O_RDONLY);
    result("getdents(file)", syscall(SYS_getdents, ffd, buf, sizeof buf));
    result("getdents(fault)", syscall(SYS_getdents, dfd, (void *)8, sizeof buf));
    close(ffd);
    close(dfd);
    rmdir(sub);
    unlink(path);
}

static void t_close_range(void) {
    int fd = open("/dev/null", O_RDONLY);
    dup2(fd, 20), dup2(fd, 21), dup2(fd, 22), dup2(fd, 23);
    close(fd);
    result("close_range(21, 22)", syscall(SYS_close_range, 21, 22, 0));
    result("fcntl(20)", fcntl(20, F_GETFD));
    result("fcntl(21)", fcntl(21, F_GETFD));
    result("fcntl(22)", fcntl(22, F_GETFD));
    result("fcntl(23)", fcntl(23, F_GETFD));
    result("close_range(23, ~0, CLOEXEC)", syscall(SYS_close_range, 23, ~0u, 4));
    result("fcntl(23)", fcntl(23, F_GETFD));
    result("close_range(5, 4)", syscall(SYS_close_range, 5, 4, 0));
    result("close_range(flags 8)", syscall(SYS_close_range, 20, 30, 8));
    result("close_range(UNSHARE)", syscall(SYS_close_range, 20, ~0u, 2));
    result("fcntl(20)", fcntl(20, F_GETFD));
}

static long robust_len;
static void t_robust(void) {
    void *head = NULL;
    size_t len = 0;
    result("get_robust_list(self)", syscall(SYS_get_robust_list, 0, &head, &len));
    printf("len %zu head set %d\n", len, head != NULL);
    result("get_robust_list(parent)", syscall(SYS_get_robust_list, getppid(), &head, &len));
    result("get_robust_list(none)", syscall(SYS_get_robust_list, 999999, &head, &len));
    result("get_robust_list(fault)", syscall(SYS_get_robust_list, 0, &head, (void *)8));
    (void)robust_len;
    if (root) {
        setresuid(1000, 1000, 1000);
        result("get_robust_list(parent) as user", syscall(SYS_get_robust_list, getppid(), &head, &len));
    }
}

static void t_kcmp(void) {
    pid_t me = getpid(), parent = getppid();
    long r = syscall(SYS_kcmp, me, me, 1, 0, 0);
    if (r < 0 && errno == ENOSYS) {
        printf("no kcmp\n");
        return;
    }
    result("kcmp(self, self, VM)", r);
    printf("VM differs from parent: %d\n", syscall(SYS_kcmp, me, parent, 1, 0, 0) > 0);
    printf("FILES differs from parent: %d\n", syscall(SYS_kcmp, me, parent, 2, 0, 0) > 0);
    result("kcmp(FILE 1 vs parent's 1)", syscall(SYS_kcmp, me, parent, 0, 1, 1));
    int fd = open("/dev/null", O_RDONLY);
    int fd2 = dup(fd);
    result("kcmp(FILE dup)", syscall(SYS_kcmp, me, me, 0, fd, fd2));
    int fd3 = open("/dev/null", O_RDONLY);
    printf("FILE other open differs: %d\n", syscall(SYS_kcmp, me, me, 0, fd, fd3) > 0);
    result("kcmp(FILE bad fd)", syscall(SYS_kcmp, me, me, 0, fd, 999));
    result("kcmp(type 99)", syscall(SYS_kcmp, me, me, 99, 0, 0));
    result("kcmp(no pid)", syscall(SYS_kcmp, me, 999999, 1, 0, 0));
    result("kcmp(SIGHAND self)", syscall(SYS_kcmp, me, me, 4, 0, 0));
    if (root) {
        setresuid(1000, 1000, 1000);
        result("kcmp(parent) as user", syscall(SYS_kcmp, me, parent, 1, 0, 0));
    }
}

static void t_membarrier(void) {
    int cmds[] = {0, 1, 2, 4, 8, 16, 8, 32, 64, 32, 128, 256, 128, 512, 1024, -1};
    for (unsigned i = 0; i < sizeof cmds / sizeof *cmds; ++i) {
        char w[32];
        snprintf(w, sizeof w, "membarrier(%d)", cmds[i]);
        result(w, syscall(SYS_membarrier, cmds[i], 0, 0));
    }
    result("membarrier(QUERY, flags 1)", syscall(SYS_membarrier, 0, 1, 0));
    result("membarrier(RSEQ, flag CPU)", syscall(SYS_membarrier, 128, 1, 0));
    fflush(stdout);
    if (fork() == 0) {  /* registrations survive fork */
        result("child GET_REGISTRATIONS", syscall(SYS_membarrier, 512, 0, 0));
        result("child PRIVATE_EXPEDITED", syscall(SYS_membarrier, 8, 0, 0));
        fflush(stdout);
        _exit(0);
    }
    wait(NULL);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    root = geteuid() == 0;
    snprintf(dir, sizeof dir, "/tmp/emu-schedmisc-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    in_child("priority", t_priority);
    in_child("sched", t_sched);
    in_child("sched_attr", t_sched_attr);
    in_child("ioprio", t_ioprio);
    in_child("personality", t_personality);
    in_child("uts", t_uts);
    in_child("syslog", t_syslog);
    in_child("files", t_files);
    in_child("close_range", t_close_range);
    in_child("robust", t_robust);
    in_child("kcmp", t_kcmp);
    in_child("membarrier", t_membarrier);
    rmdir(dir);
    return 0;
}
