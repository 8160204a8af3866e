/* Asynchronous I/O signals (fs/fcntl.c: F_SETOWN, F_SETOWN_EX, F_SETSIG, O_ASYNC; pipes'
 * and AF_UNIX sockets' fasync lists; the generic ioctls of fs/ioctl.c):
 *   F_GETOWN/F_GETOWN_EX/F_GETOWNER_UIDS before and after F_SETOWN of a process, a group
 *   (negative) and F_SETOWN_EX of a thread, a process and a group; EINVAL for a bad type
 *   or INT_MIN, ESRCH for a pid nobody has; an owner that was reaped reads as 0;
 *   O_ASYNC kept from open on a regular file, but F_SETFL changes it only on files with a
 *   fasync (a pipe, a socket); FIOASYNC (ENOTTY without), FIONBIO, FIOCLEX, FIONCLEX,
 *   FIONREAD of a regular file; a socket's FIOSETOWN/SIOCSPGRP/FIOGETOWN/SIOCGPGRP;
 *   the signals: SIGIO (SI_KERNEL) by default, F_SETSIG's signal with POLL_IN/POLL_OUT,
 *   si_band and si_fd (SI_SIGIO for a signal with codes of its own), a pipe's reader on a
 *   write and when the last writer closes, its writer on a read, a socket on data and on
 *   the peer's close, an inotify instance on an event; a group owner signals every process of the group;
 *   a lease sets O_ASYNC and the owner, its removal clears both.
 * Run as root (as the oracle runs natively). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errname.h"

#ifndef F_GETOWNER_UIDS
#define F_GETOWNER_UIDS 17
#endif

static pid_t self, grp;

/* An owner as the test can print it: self, -group, 0 or a number. */
static const char *who(long pid)
{
    static char buf[32];
    if (pid == self) return "self";
    if (pid == -grp) return "-group";
    if (pid == grp) return "group";
    snprintf(buf, sizeof buf, "%ld", pid);
    return buf;
}

static void owner(const char *what, int fd)
{
    struct f_owner_ex ex = {-1, -1};
    unsigned uids[2] = {7, 7};
    long r = fcntl(fd, F_GETOWN);
    long e = fcntl(fd, F_GETOWN_EX, &ex);
    long u = fcntl(fd, F_GETOWNER_UIDS, uids);
    printf("%s: getown %s", what, who(r));
    printf(" getown_ex %s type %d pid %s", err(e), ex.type, who(ex.pid));
    printf(" uids %s %u %u\n", err(u), uids[0], uids[1]);
}

static sigset_t waitset;
static int wait_secs; /* signals come with the call that causes them: none is waited for */

/* Takes the one signal that should be pending now (or says none came). */
static void take(const char *what, int fd_base)
{
    struct timespec ts = {wait_secs, 0};
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int sig = sigtimedwait(&waitset, &si, &ts);
    if (sig < 0) {
        printf("%s: no signal (%s)\n", what, err(-1));
        return;
    }
    const char *name = sig == SIGIO ? "SIGIO" : sig == SIGUSR1 ? "SIGUSR1" : sig == SIGCHLD ? "SIGCHLD"
                       : sig == SIGRTMIN + 1                  ? "SIGRTMIN+1"
                                                              : "other";
    printf("%s: %s code %d", what, name, si.si_code);
    if (si.si_code != SI_KERNEL) printf(" band %#lx fd %d", (long)si.si_band, si.si_fd - fd_base);
    printf("\n");
    struct timespec zero = {0, 0};
    if (sigtimedwait(&waitset, &si, &zero) > 0) printf("%s: a second signal %d\n", what, si.si_signo);
}

static void flags(const char *what, int fd)
{
    printf("%s: O_ASYNC %d O_NONBLOCK %d\n", what, !!(fcntl(fd, F_GETFL) & O_ASYNC),
           !!(fcntl(fd, F_GETFL) & O_NONBLOCK));
}

int main(void)
{
    char dir[] = "/tmp/fasyncXXXXXX";
    if (!mkdtemp(dir)) return 1;
    char path[64];
    snprintf(path, sizeof path, "%s/f", dir);
    setvbuf(stdout, NULL, _IONBF, 0);
    if (setpgid(0, 0)) printf("setpgid: %s\n", err(-1));
    self = getpid();
    grp = getpgrp();
    sigemptyset(&waitset);
    sigaddset(&waitset, SIGIO);
    sigaddset(&waitset, SIGUSR1);
    sigaddset(&waitset, SIGCHLD);
    sigaddset(&waitset, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &waitset, NULL);

    /* Regular files: O_ASYNC from open stays; F_SETFL does not change it. */
    int rf = open(path, O_RDWR | O_CREAT | O_ASYNC, 0644);
    flags("open O_ASYNC", rf);
    printf("setfl 0: %s\n", err(fcntl(rf, F_SETFL, 0)));
    flags("regular after setfl 0", rf);
    close(rf);
    rf = open(path, O_RDWR);
    printf("setfl O_ASYNC: %s\n", err(fcntl(rf, F_SETFL, O_ASYNC)));
    flags("regular after setfl O_ASYNC", rf);
    int on = 1;
    printf("FIOASYNC regular: %s\n", err(ioctl(rf, FIOASYNC, &on)));
    if (write(rf, "0123456789", 10) != 10) return 1;
    lseek(rf, 3, SEEK_SET);
    int n = -1;
    long r = ioctl(rf, FIONREAD, &n);
    printf("FIONREAD regular: %s %d\n", err(r), n);
    printf("FIOCLEX: %s", err(ioctl(rf, FIOCLEX)));
    printf(" getfd %d", fcntl(rf, F_GETFD));
    printf(" FIONCLEX: %s", err(ioctl(rf, FIONCLEX)));
    printf(" getfd %d\n", fcntl(rf, F_GETFD));
    close(rf);

    /* Owners. */
    int p[2];
    if (pipe(p)) return 1;
    owner("new pipe", p[0]);
    printf("setown nobody: %s\n", err(fcntl(p[0], F_SETOWN, 0x3ffffff0)));
    printf("setown INT_MIN: %s\n", err(fcntl(p[0], F_SETOWN, INT_MIN)));
    struct f_owner_ex ex = {5, self};
    printf("setown_ex type 5: %s\n", err(fcntl(p[0], F_SETOWN_EX, &ex)));
    ex.type = F_OWNER_PID, ex.pid = 0x3ffffff0;
    printf("setown_ex nobody: %s\n", err(fcntl(p[0], F_SETOWN_EX, &ex)));
    owner("after failures", p[0]);
    printf("setown 0: %s\n", err(fcntl(p[0], F_SETOWN, 0)));
    owner("after setown 0", p[0]);
    printf("setown self: %s\n", err(fcntl(p[0], F_SETOWN, self)));
    owner("after setown self", p[0]);
    printf("setown -group: %s\n", err(fcntl(p[0], F_SETOWN, -grp)));
    owner("after setown -group", p[0]);
    ex.type = F_OWNER_TID, ex.pid = (pid_t)syscall(SYS_gettid);
    printf("setown_ex tid: %s\n", err(fcntl(p[0], F_SETOWN_EX, &ex)));
    owner("after setown_ex tid", p[0]);
    ex.type = F_OWNER_PGRP, ex.pid = grp;
    printf("setown_ex pgrp: %s\n", err(fcntl(p[0], F_SETOWN_EX, &ex)));
    owner("after setown_ex pgrp", p[0]);
    ex.type = F_OWNER_PID, ex.pid = 0;
    printf("setown_ex pid 0: %s\n", err(fcntl(p[0], F_SETOWN_EX, &ex)));
    owner("after setown_ex pid 0", p[0]);

    /* An owner that exits: a zombie still owns, a reaped one reads as 0. */
    pid_t c = fork();
    if (c == 0) _exit(0);
    fcntl(p[0], F_SETOWN, c);
    struct timespec ts = {0, 50 * 1000 * 1000};
    siginfo_t si;
    waitid(P_PID, c, &si, WEXITED | WNOWAIT);
    printf("zombie owner: %s\n", fcntl(p[0], F_GETOWN) == c ? "the child" : "other");
    waitpid(c, NULL, 0);
    printf("reaped owner: %s\n", who(fcntl(p[0], F_GETOWN)));
    nanosleep(&ts, NULL);
    sigtimedwait(&waitset, &si, &(struct timespec){0, 0}); /* the child's SIGCHLD */

    /* Signals from a pipe's reader end. */
    fcntl(p[0], F_SETOWN, self);
    printf("pipe setfl O_ASYNC: %s\n", err(fcntl(p[0], F_SETFL, O_ASYNC)));
    flags("pipe reader", p[0]);
    char b[16];
    if (write(p[1], "a", 1) != 1) return 1;
    take("write, default signal", 0);
    if (read(p[0], b, sizeof b) != 1) return 1;
    take("read by the reader itself", 0);
    fcntl(p[0], F_SETSIG, SIGUSR1);
    if (write(p[1], "a", 1) != 1) return 1;
    take("write, F_SETSIG SIGUSR1", p[0]);
    fcntl(p[0], F_SETSIG, SIGCHLD);
    if (write(p[1], "a", 1) != 1) return 1;
    take("write, F_SETSIG SIGCHLD", p[0]);
    fcntl(p[0], F_SETSIG, SIGRTMIN + 1);
    if (write(p[1], "ab", 2) != 2) return 1;
    take("write, F_SETSIG SIGRTMIN+1", p[0]);
    if (read(p[0], b, sizeof b) != 4) return 1;
    printf("setfl 0: %s\n", err(fcntl(p[0], F_SETFL, 0)));
    flags("pipe reader after setfl 0", p[0]);
    if (write(p[1], "a", 1) != 1) return 1;
    take("write without O_ASYNC", p[0]);
    if (read(p[0], b, sizeof b) != 1) return 1;
    printf("FIOASYNC on: %s\n", err(ioctl(p[0], FIOASYNC, &on)));
    flags("pipe reader after FIOASYNC", p[0]);
    printf("FIONBIO on: %s\n", err(ioctl(p[0], FIONBIO, &on)));
    flags("pipe reader after FIONBIO", p[0]);
    printf("empty read: %s\n", err(read(p[0], b, sizeof b)));
    take("an empty read", p[0]);

    /* The writer's end: a read makes room. */
    int q[2];
    if (pipe(q)) return 1;
    fcntl(q[1], F_SETOWN, self);
    fcntl(q[1], F_SETSIG, SIGUSR1);
    fcntl(q[1], F_SETFL, O_ASYNC);
    if (write(q[1], "xy", 2) != 2) return 1;
    take("writer's own write", q[1]);
    if (read(q[0], b, 1) != 1) return 1;
    take("read, to the writer", q[1]);
    close(q[0]);
    take("reader closed, to the writer", q[1]);
    close(q[1]);

    /* The last writer closes: the reader hears of it. */
    close(p[1]);
    take("writer closed, to the reader", p[0]);
    close(p[0]);

    /* A group owner: every process of the group. */
    if (pipe(p)) return 1;
    fcntl(p[0], F_SETOWN, -grp);
    fcntl(p[0], F_SETSIG, SIGUSR1);
    fcntl(p[0], F_SETFL, O_ASYNC);
    c = fork();
    if (c == 0) {
        close(p[1]);
        wait_secs = 10; /* until the parent writes */
        take("group member (child)", p[0]);
        _exit(0);
    }
    if (write(p[1], "a", 1) != 1) return 1;
    waitpid(c, NULL, 0);
    take("group member (parent)", p[0]);
    close(p[0]);
    close(p[1]);
    sigtimedwait(&waitset, &si, &(struct timespec){0, 0}); /* SIGCHLD */

    /* Sockets. */
    int s[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, s)) return 1;
    fcntl(s[0], F_SETOWN, self);
    fcntl(s[0], F_SETSIG, SIGUSR1);
    printf("socket setfl O_ASYNC: %s\n", err(fcntl(s[0], F_SETFL, O_ASYNC)));
    flags("socket", s[0]);
    int got = 0, want = -grp;
    printf("SIOCSPGRP -group: %s", err(ioctl(s[0], SIOCSPGRP, &want)));
    printf(" FIOGETOWN: %s", err(ioctl(s[0], FIOGETOWN, &got)));
    printf(" %s getown %s\n", who(got), who(fcntl(s[0], F_GETOWN)));
    want = 0x3ffffff0;
    printf("FIOSETOWN nobody: %s\n", err(ioctl(s[0], FIOSETOWN, &want)));
    want = self;
    printf("FIOSETOWN self: %s", err(ioctl(s[0], FIOSETOWN, &want)));
    printf(" SIOCGPGRP: %s", err(ioctl(s[0], SIOCGPGRP, &got)));
    printf(" %s\n", who(got));
    int t[2];
    if (pipe(t)) return 1;
    printf("FIOGETOWN on a pipe: %s\n", err(ioctl(t[0], FIOGETOWN, &got)));
    close(t[0]);
    close(t[1]);
    if (write(s[1], "abc", 3) != 3) return 1;
    take("socket data", s[0]);
    if (read(s[0], b, sizeof b) != 3) return 1;
    take("socket read by itself", s[0]);
    close(s[1]);
    take("socket peer closed", s[0]);
    close(s[0]);

    /* inotify: each queued event. */
    int in = inotify_init1(0);
    fcntl(in, F_SETOWN, self);
    fcntl(in, F_SETSIG, SIGUSR1);
    printf("inotify setfl O_ASYNC: %s\n", err(fcntl(in, F_SETFL, O_ASYNC)));
    flags("inotify", in);
    inotify_add_watch(in, dir, IN_CREATE);
    char created[80];
    snprintf(created, sizeof created, "%s/new", dir);
    close(open(created, O_WRONLY | O_CREAT, 0600));
    take("inotify event", in);
    unlink(created);
    take("an event nobody watches", in);
    close(in);

    /* A lease: the owner and O_ASYNC, gone with it. */
    rf = open(path, O_RDONLY);
    printf("setlease F_RDLCK: %s\n", err(fcntl(rf, F_SETLEASE, F_RDLCK)));
    flags("leased", rf);
    owner("leased", rf);
    printf("setlease F_UNLCK: %s\n", err(fcntl(rf, F_SETLEASE, F_UNLCK)));
    flags("lease removed", rf);
    owner("lease removed", rf);
    close(rf);

    unlink(path);
    rmdir(dir);
    return 0;
}
