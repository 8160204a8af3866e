/* File leases (fcntl F_SETLEASE / F_GETLEASE, fs/locks.c):
 *   EINVAL for a bad type, a directory or a pipe; EAGAIN to remove a lease that is not there;
 *   EACCES for someone who neither owns the file nor has CAP_LEASE; a read lease needs the
 *   file open for writing nowhere (its own O_RDWR descriptor too), a write lease needs no
 *   other descriptor open on it; F_SETSIG's range and F_GETSIG;
 *   a break: another process's open for reading of a write-leased file starts a downgrade
 *   (F_GETLEASE says F_RDLCK) and fails with EWOULDBLOCK under O_NONBLOCK; the holder gets
 *   F_SETSIG's signal with POLL_MSG, its fd and band; after the downgrade readers open at
 *   once; an open for writing waits until the holder removes the lease (F_GETLEASE says
 *   F_UNLCK meanwhile, and a downgrade is EAGAIN: the writer is open already); a truncate by
 *   path breaks it too, and without F_SETSIG the holder gets
 *   SIGIO; removing a lease resets F_SETSIG; a closed descriptor's lease is gone; a mapping
 *   whose descriptor was closed still holds the file open, a running program denies a write
 *   lease.
 * Run as root (as the oracle runs natively), on a file in a mkdtemp directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errname.h"

static char path[64];

#define SHOW(what, call)                       \
    do {                                       \
        errno = 0;                             \
        long r_ = (call);                      \
        printf("%-56s %s\n", what, err(r_));   \
        fflush(stdout);                        \
    } while (0)

static const char *lease_name(long t)
{
    return t == F_RDLCK ? "F_RDLCK" : t == F_WRLCK ? "F_WRLCK" : t == F_UNLCK ? "F_UNLCK" : "?";
}

static void getlease(const char *what, int fd)
{
    printf("%-56s %s\n", what, lease_name(fcntl(fd, F_GETLEASE)));
    fflush(stdout);
}

/* A child that opens the file with flags and exits with 0 or the errno. */
static pid_t opener(int flags)
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        errno = 0;
        int fd = open(path, flags);
        _exit(fd >= 0 ? 0 : errno);
    }
    return p;
}

/* Waits for a child and says how its call went (so the output does not race the child's). */
static void reap(pid_t p, const char *what)
{
    int st;
    waitpid(p, &st, 0);
    errno = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
    printf("child: %-49s %s\n", what, errno ? err(-1) : WIFEXITED(st) ? "done" : "killed");
    fflush(stdout);
}

static void errors(void)
{
    int fd = open(path, O_RDONLY);
    getlease("F_GETLEASE with none", fd);
    SHOW("F_SETLEASE 5", fcntl(fd, F_SETLEASE, 5));
    SHOW("F_SETLEASE F_UNLCK with none", fcntl(fd, F_SETLEASE, F_UNLCK));
    int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
    SHOW("F_SETLEASE F_RDLCK on a directory", fcntl(dir, F_SETLEASE, F_RDLCK));
    close(dir);
    int p[2];
    if (pipe(p) != 0) exit(1);
    SHOW("F_SETLEASE F_RDLCK on a pipe", fcntl(p[0], F_SETLEASE, F_RDLCK));
    close(p[0]);
    close(p[1]);
    int rw = open(path, O_RDWR);
    SHOW("F_SETLEASE F_RDLCK with an O_RDWR fd open", fcntl(fd, F_SETLEASE, F_RDLCK));
    SHOW("F_SETLEASE F_RDLCK on that O_RDWR fd", fcntl(rw, F_SETLEASE, F_RDLCK));
    SHOW("F_SETLEASE F_WRLCK with another fd open", fcntl(fd, F_SETLEASE, F_WRLCK));
    close(rw);
    SHOW("F_SETLEASE F_RDLCK", fcntl(fd, F_SETLEASE, F_RDLCK));
    getlease("F_GETLEASE", fd);
    int fd2 = open(path, O_RDONLY);
    printf("%-56s %s\n", "a second O_RDONLY open while read-leased", fd2 >= 0 ? "opened" : err(-1));
    SHOW("F_SETLEASE F_RDLCK on it too", fcntl(fd2, F_SETLEASE, F_RDLCK));
    SHOW("F_SETLEASE F_WRLCK (another lease and fd there)", fcntl(fd, F_SETLEASE, F_WRLCK));
    close(fd2);
    getlease("F_GETLEASE after the second fd closed", fd);
    SHOW("F_SETLEASE F_WRLCK (upgrade, alone now)", fcntl(fd, F_SETLEASE, F_WRLCK));
    getlease("F_GETLEASE", fd);
    SHOW("F_SETLEASE F_UNLCK", fcntl(fd, F_SETLEASE, F_UNLCK));
    getlease("F_GETLEASE", fd);

    SHOW("F_GETSIG", fcntl(fd, F_GETSIG));
    SHOW("F_SETSIG 65", fcntl(fd, F_SETSIG, 65));
    SHOW("F_SETSIG -1", fcntl(fd, F_SETSIG, -1));
    SHOW("F_SETSIG 64", fcntl(fd, F_SETSIG, 64));
    SHOW("F_GETSIG", fcntl(fd, F_GETSIG));
    SHOW("F_SETSIG 0", fcntl(fd, F_SETSIG, 0));
    close(fd);

    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        if (setuid(65534) != 0) _exit(1);
        int f = open(path, O_RDONLY);
        SHOW("nobody: F_SETLEASE F_RDLCK on root's file", fcntl(f, F_SETLEASE, F_RDLCK));
        SHOW("nobody: F_SETLEASE F_UNLCK on root's file", fcntl(f, F_SETLEASE, F_UNLCK));
        _exit(0);
    }
    waitpid(c, NULL, 0);
}

static void breaks(void)
{
    const int sig = SIGRTMIN + 1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigaddset(&set, SIGIO);
    sigprocmask(SIG_BLOCK, &set, NULL);

    int fd = open(path, O_RDONLY);
    SHOW("F_SETSIG SIGRTMIN+1", fcntl(fd, F_SETSIG, sig));
    SHOW("F_SETLEASE F_WRLCK", fcntl(fd, F_SETLEASE, F_WRLCK));
    pid_t p = opener(O_RDONLY | O_NONBLOCK);
    reap(p, "open O_RDONLY|O_NONBLOCK");
    siginfo_t si;
    int got = sigwaitinfo(&set, &si);
    printf("holder: signal %s, POLL_MSG %s, si_fd is the lease's %s, band %#lx\n",
           got == sig ? "F_SETSIG's" : "other", si.si_code == POLL_MSG ? "yes" : "no", si.si_fd == fd ? "yes" : "no",
           (unsigned long)si.si_band);
    getlease("holder: F_GETLEASE while a reader waits", fd);
    SHOW("holder: F_SETLEASE F_RDLCK (downgrade)", fcntl(fd, F_SETLEASE, F_RDLCK));
    getlease("holder: F_GETLEASE", fd);
    p = opener(O_RDONLY);
    reap(p, "open O_RDONLY after the downgrade");
    sigpending(&set);
    printf("holder: a signal for that reader: %s\n", sigismember(&set, sig) ? "yes" : "no");

    /* A writer breaks the read lease and waits until it is removed. */
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigaddset(&set, SIGIO);
    p = opener(O_WRONLY);
    got = sigwaitinfo(&set, &si);
    printf("holder: signal %s for the writer\n", got == sig ? "F_SETSIG's" : "other");
    getlease("holder: F_GETLEASE while a writer waits", fd);
    SHOW("holder: F_SETLEASE F_RDLCK while a writer waits", fcntl(fd, F_SETLEASE, F_RDLCK));
    printf("holder: removing the lease\n");
    fflush(stdout);
    SHOW("holder: F_SETLEASE F_UNLCK", fcntl(fd, F_SETLEASE, F_UNLCK));
    reap(p, "open O_WRONLY (waited for the holder)");
    SHOW("holder: F_GETSIG after the lease went", fcntl(fd, F_GETSIG));

    /* truncate(2) breaks a lease; without F_SETSIG the holder gets SIGIO. */
    SHOW("F_SETLEASE F_WRLCK", fcntl(fd, F_SETLEASE, F_WRLCK));
    fflush(stdout);
    p = fork();
    if (p == 0) {
        errno = 0;
        _exit(truncate(path, 0) == 0 ? 0 : errno);
    }
    got = sigwaitinfo(&set, &si);
    printf("holder: %s, si_code SI_KERNEL %s\n", got == SIGIO ? "SIGIO" : "other",
           si.si_code == SI_KERNEL ? "yes" : "no");
    getlease("holder: F_GETLEASE while truncate waits", fd);
    SHOW("holder: F_SETLEASE F_RDLCK while truncate waits", fcntl(fd, F_SETLEASE, F_RDLCK));
    printf("holder: removing the lease\n");
    fflush(stdout);
    SHOW("holder: F_SETLEASE F_UNLCK", fcntl(fd, F_SETLEASE, F_UNLCK));
    reap(p, "truncate (waited for the holder)");

    /* Closing the descriptor ends its lease. */
    SHOW("F_SETLEASE F_WRLCK", fcntl(fd, F_SETLEASE, F_WRLCK));
    close(fd);
    p = opener(O_WRONLY | O_NONBLOCK);
    reap(p, "open O_WRONLY|O_NONBLOCK after the holder closed");
    fd = open(path, O_RDONLY);
    getlease("F_GETLEASE on a new descriptor", fd);
    close(fd);
}

/* What else holds the file open: a mapping whose descriptor was closed, and a running
 * program (a write lease needs nobody else; a read lease only no writer). */
static void holders(void)
{
    int fd = open(path, O_RDONLY);
    void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    fd = open(path, O_RDONLY);
    SHOW("F_SETLEASE F_WRLCK with a mapping of another open", fcntl(fd, F_SETLEASE, F_WRLCK));
    SHOW("F_SETLEASE F_RDLCK with a read-only mapping", fcntl(fd, F_SETLEASE, F_RDLCK));
    SHOW("F_SETLEASE F_UNLCK", fcntl(fd, F_SETLEASE, F_UNLCK));
    munmap(m, 4096);
    SHOW("F_SETLEASE F_WRLCK once unmapped", fcntl(fd, F_SETLEASE, F_WRLCK));
    SHOW("F_SETLEASE F_UNLCK", fcntl(fd, F_SETLEASE, F_UNLCK));
    close(fd);
    fd = open("/proc/self/exe", O_RDONLY);
    SHOW("F_SETLEASE F_WRLCK on the running program", fcntl(fd, F_SETLEASE, F_WRLCK));
    SHOW("F_SETLEASE F_RDLCK on the running program", fcntl(fd, F_SETLEASE, F_RDLCK));
    SHOW("F_SETLEASE F_UNLCK", fcntl(fd, F_SETLEASE, F_UNLCK));
    close(fd);
}

int main(void)
{
    char dir[] = "/tmp/leases.XXXXXX";
    if (!mkdtemp(dir)) return 1;
    chmod(dir, 0755);
    snprintf(path, sizeof path, "%s/f", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0 || write(fd, "data", 4) != 4) return 1;
    close(fd);
    errors();
    breaks();
    holders();
    unlink(path);
    rmdir(dir);
    return 0;
}
