/* File locks between processes: fcntl POSIX locks (F_GETLK shows the holder's pid, F_SETLK
 * EAGAIN, F_SETLKW waits, EDEADLK, EINTR, release on close and exit, split and merge), open
 * file description locks (F_OFD_*) and flock(2). Run on a file under /tmp (emu's tmpfs) and
 * under the working directory (a host file); output does not depend on timing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* err(long r) {
    static char buf[32];
    if (r >= 0) return "0";
    switch (errno) {
    case EAGAIN: return "EAGAIN";
    case EDEADLK: return "EDEADLK";
    case EINTR: return "EINTR";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    default: snprintf(buf, sizeof buf, "errno %d", errno); return buf;
    }
}

#define SHOW(what, call) printf("%-46s %s\n", what, err((long)(call)))

static int lk(int fd, int cmd, short type, off_t start, off_t len) {
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    return fcntl(fd, cmd, &fl);
}

/* F_GETLK for a write lock on [start, start+len): what is in the way. */
static void getlk(const char* who, int fd, int cmd, off_t start, off_t len, pid_t holder) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    if (fcntl(fd, cmd, &fl) != 0) { printf("%s getlk: %s\n", who, err(-1)); return; }
    if (fl.l_type == F_UNLCK) { printf("%s getlk [%lld,+%lld): unlocked\n", who, (long long)start, (long long)len); return; }
    printf("%s getlk [%lld,+%lld): %s at %lld len %lld, pid %s\n", who, (long long)start, (long long)len,
           fl.l_type == F_WRLCK ? "write lock" : "read lock", (long long)fl.l_start, (long long)fl.l_len,
           fl.l_pid == holder ? "of the holder" : fl.l_pid == -1 ? "-1" : "WRONG");
}

static pid_t child(void) {
    fflush(stdout);
    pid_t p = fork();
    if (p < 0) { perror("fork"); exit(1); }
    return p;
}

static void reap(pid_t p) {
    int st;
    waitpid(p, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st)) printf("child ended with %d\n", st);
}

static void on_alarm(int sig) { (void)sig; }

static void run(const char* tmpl) {
    char dir[PATH_MAX], path[PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s", tmpl);
    if (!mkdtemp(dir)) { printf("mkdtemp: %s\n", err(-1)); return; }
    snprintf(path, sizeof path, "%s/f", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    if (write(fd, "0123456789abcdefghij", 20) != 20) printf("write failed\n");
    const pid_t me = getpid();

    /* POSIX locks seen from another process */
    SHOW("parent F_SETLK write [0,10)", lk(fd, F_SETLK, F_WRLCK, 0, 10));
    SHOW("parent F_SETLK read [50,100)", lk(fd, F_SETLK, F_RDLCK, 50, 50));
    SHOW("parent unlocks [60,70) (splits it)", lk(fd, F_SETLK, F_UNLCK, 60, 10));
    getlk("parent (own locks never conflict)", fd, F_GETLK, 0, 0, me);
    pid_t p = child();
    if (p == 0) {
        int cfd = open(path, O_RDWR);
        getlk("child", cfd, F_GETLK, 5, 1, me);
        getlk("child", cfd, F_GETLK, 60, 10, me);
        getlk("child", cfd, F_GETLK, 65, 100, me);
        getlk("child", cfd, F_GETLK, 10, 40, me);
        SHOW("child F_SETLK write [5,6)", lk(cfd, F_SETLK, F_WRLCK, 5, 1));
        SHOW("child F_SETLK read [50,60) (shares)", lk(cfd, F_SETLK, F_RDLCK, 50, 10));
        SHOW("child F_SETLK write [10,50)", lk(cfd, F_SETLK, F_WRLCK, 10, 40));
        fflush(stdout);
        _exit(0);  /* its locks go with it */
    }
    reap(p);
    SHOW("parent F_SETLK write [10,50) after child exit", lk(fd, F_SETLK, F_WRLCK, 10, 40));
    SHOW("parent merges: write [0,50) whole", lk(fd, F_SETLK, F_WRLCK, 0, 50));

    /* a close of any fd of the file drops the process's POSIX locks */
    int other = open(path, O_RDONLY);
    close(other);
    p = child();
    if (p == 0) {
        int cfd = open(path, O_RDWR);
        getlk("child after parent closed another fd", cfd, F_GETLK, 0, 0, me);
        fflush(stdout);
        _exit(0);
    }
    reap(p);

    /* F_SETLKW waits for the holder; EDEADLK when two would wait for each other */
    int pipefd[2];
    if (pipe(pipefd) != 0) return;
    SHOW("parent F_SETLK write [0,1)", lk(fd, F_SETLK, F_WRLCK, 0, 1));
    p = child();
    if (p == 0) {
        int cfd = open(path, O_RDWR);
        SHOW("child F_SETLK write [1,2)", lk(cfd, F_SETLK, F_WRLCK, 1, 1));
        if (write(pipefd[1], "r", 1) != 1) _exit(2);
        int r = lk(cfd, F_SETLKW, F_WRLCK, 0, 1);  /* sleeps until the parent lets go */
        char c;
        if (read(pipefd[0], &c, 1) != 1) _exit(3);
        printf("child F_SETLKW [0,1) after the parent's unlock %s (parent said %c)\n", err(r), c);
        fflush(stdout);
        _exit(0);
    }
    char c;
    if (read(pipefd[0], &c, 1) != 1) return;
    usleep(200000);  /* the child is asleep in F_SETLKW by now */
    SHOW("parent F_SETLKW [1,2) would deadlock", lk(fd, F_SETLKW, F_WRLCK, 1, 1));
    SHOW("parent unlocks [0,1)", lk(fd, F_SETLK, F_UNLCK, 0, 1));
    if (write(pipefd[1], "u", 1) != 1) return;
    reap(p);
    close(pipefd[0]);
    close(pipefd[1]);

    /* A delayed deadlock: B waits for the parent's lock, then for A's once the parent lets
     * go, while A waits for B's: B gets EDEADLK when its blocker changes (LTP fcntl17). The
     * children report by exit status: no race between their output and the parent's. */
    int ready[2], go[2];
    if (pipe(ready) != 0 || pipe(go) != 0) return;
    SHOW("parent F_SETLK write [0,1)", lk(fd, F_SETLK, F_WRLCK, 0, 1));
    pid_t b = child();
    if (b == 0) {
        int cfd = open(path, O_RDWR);
        int r = lk(cfd, F_SETLK, F_WRLCK, 4, 1);
        if (write(ready[1], "b", 1) != 1 || read(go[0], &c, 1) != 1) _exit(2);
        int w = lk(cfd, F_SETLKW, F_WRLCK, 0, 3);  /* the parent's [0,1), then A's [2,3) */
        _exit(r < 0 ? 100 : w < 0 ? errno : 0);
    }
    if (read(ready[0], &c, 1) != 1) return;
    pid_t a = child();
    if (a == 0) {
        int cfd = open(path, O_RDWR);
        int r = lk(cfd, F_SETLK, F_WRLCK, 2, 1);
        if (write(ready[1], "a", 1) != 1) _exit(2);
        int w = lk(cfd, F_SETLKW, F_WRLCK, 4, 1);  /* B's, until B is gone */
        _exit(r < 0 ? 100 : w < 0 ? errno : 0);
    }
    if (read(ready[0], &c, 1) != 1) return;
    usleep(200000);  /* A sleeps in F_SETLKW */
    if (write(go[1], "g", 1) != 1) return;
    usleep(200000);  /* B sleeps in F_SETLKW on the parent's lock */
    SHOW("parent unlocks [0,1)", lk(fd, F_SETLK, F_UNLCK, 0, 1));
    int st = 0;
    waitpid(b, &st, 0);
    printf("B's F_SETLKW [0,3): %s\n", WEXITSTATUS(st) == EDEADLK ? "EDEADLK" : WEXITSTATUS(st) ? "other" : "0");
    waitpid(a, &st, 0);
    printf("A's F_SETLKW [4,5) once B is gone: %s\n", WEXITSTATUS(st) ? "failed" : "0");
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);

    /* a signal ends F_SETLKW with EINTR (no SA_RESTART) */
    SHOW("parent F_SETLK write [0,1)", lk(fd, F_SETLK, F_WRLCK, 0, 1));
    p = child();
    if (p == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm;
        sigaction(SIGALRM, &sa, 0);
        struct itimerval it = {{0, 0}, {0, 100000}};
        setitimer(ITIMER_REAL, &it, 0);
        int cfd = open(path, O_RDWR);
        SHOW("child F_SETLKW interrupted by SIGALRM", lk(cfd, F_SETLKW, F_WRLCK, 0, 1));
        fflush(stdout);
        _exit(0);
    }
    reap(p);
    lk(fd, F_SETLK, F_UNLCK, 0, 0);

    /* errors */
    SHOW("F_SETLK bad l_type", lk(fd, F_SETLK, 7, 0, 1));
    struct flock bad = {.l_type = F_RDLCK, .l_whence = 9, .l_start = 0, .l_len = 1};
    SHOW("F_SETLK bad l_whence", fcntl(fd, F_SETLK, &bad));
    SHOW("F_SETLK negative start", lk(fd, F_SETLK, F_RDLCK, -5, 1));
    int ro = open(path, O_RDONLY);
    SHOW("F_SETLK write lock on a read-only fd", lk(ro, F_SETLK, F_WRLCK, 0, 1));
    SHOW("F_SETLK read lock on a read-only fd", lk(ro, F_SETLK, F_RDLCK, 0, 1));
    close(ro);  /* drops that read lock */
    int wo = open(path, O_WRONLY);
    SHOW("F_SETLK read lock on a write-only fd", lk(wo, F_SETLK, F_RDLCK, 0, 1));
    close(wo);

    /* OFD locks: owned by the open file, so they conflict inside one process */
    int o1 = open(path, O_RDWR), o2 = open(path, O_RDWR);
    SHOW("F_OFD_SETLK write [0,10) on o1", lk(o1, F_OFD_SETLK, F_WRLCK, 0, 10));
    SHOW("F_OFD_SETLK write [5,6) on o2", lk(o2, F_OFD_SETLK, F_WRLCK, 5, 1));
    getlk("o2 OFD", o2, F_OFD_GETLK, 0, 1, me);
    getlk("parent POSIX", fd, F_GETLK, 0, 1, me);
    struct flock withpid = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1, .l_pid = 1};
    SHOW("F_OFD_SETLK with l_pid set", fcntl(o2, F_OFD_SETLK, &withpid));
    close(o1);  /* the last reference to the description: the lock goes */
    SHOW("F_OFD_SETLK write [5,6) on o2 after o1 closed", lk(o2, F_OFD_SETLK, F_WRLCK, 5, 1));
    close(o2);

    /* flock: one lock per open file description, apart from fcntl locks */
    int f1 = open(path, O_RDONLY);
    SHOW("flock LOCK_EX on f1", flock(f1, LOCK_EX));
    SHOW("fcntl write lock beside it (independent)", lk(fd, F_SETLK, F_WRLCK, 0, 0));
    p = child();
    if (p == 0) {
        int cfd = open(path, O_RDONLY);
        SHOW("child flock LOCK_EX|LOCK_NB (other file)", flock(cfd, LOCK_EX | LOCK_NB));
        SHOW("child flock LOCK_SH|LOCK_NB (other file)", flock(cfd, LOCK_SH | LOCK_NB));
        SHOW("child flock LOCK_EX|LOCK_NB (inherited f1)", flock(f1, LOCK_EX | LOCK_NB));
        SHOW("child flock bad operation", flock(cfd, 0));
        fflush(stdout);
        _exit(0);
    }
    reap(p);
    SHOW("flock LOCK_SH on f1 (downgrade)", flock(f1, LOCK_SH));
    int f2 = open(path, O_RDONLY);
    SHOW("flock LOCK_SH|LOCK_NB on f2 (shares)", flock(f2, LOCK_SH | LOCK_NB));
    SHOW("flock LOCK_EX|LOCK_NB on f2", flock(f2, LOCK_EX | LOCK_NB));
    SHOW("flock LOCK_UN on f1", flock(f1, LOCK_UN));
    SHOW("flock LOCK_EX|LOCK_NB on f2 now", flock(f2, LOCK_EX | LOCK_NB));
    close(f1);
    close(f2);

    /* F_GETLK reports the first conflict in the owner's locks as Linux keeps them: by start,
     * whatever order they were taken in. */
    SHOW("unlock all", lk(fd, F_SETLK, F_UNLCK, 0, 0));
    SHOW("parent write [10,15)", lk(fd, F_SETLK, F_WRLCK, 10, 5));
    SHOW("parent read [1,6)", lk(fd, F_SETLK, F_RDLCK, 1, 5));
    SHOW("parent read [20,24)", lk(fd, F_SETLK, F_RDLCK, 20, 4));
    SHOW("parent write [6,8)", lk(fd, F_SETLK, F_WRLCK, 6, 2));
    p = child();
    if (p == 0) {
        int cfd = open(path, O_RDWR);
        getlk("child, whole file", cfd, F_GETLK, 0, 0, me);
        getlk("child, from 6", cfd, F_GETLK, 6, 0, me);
        getlk("child, from 8", cfd, F_GETLK, 8, 0, me);
        getlk("child, from 15", cfd, F_GETLK, 15, 0, me);
        fflush(stdout);
        _exit(0);
    }
    reap(p);
    close(fd);
    unlink(path);
    SHOW("rmdir", rmdir(dir));
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("== under /tmp\n");
    run("/tmp/locks.XXXXXX");
    printf("== under the working directory\n");
    run("./locks.XXXXXX");
    return 0;
}
