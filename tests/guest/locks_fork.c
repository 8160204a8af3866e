/* File locks across fork (LTP fcntl's cases): a forked child does not inherit the parent's
 * POSIX record locks (it is another owner: its F_SETLK conflicts, F_GETLK names the parent,
 * its unlock and its exit leave the parent's lock alone, its close of the shared descriptor
 * too); flock and OFD locks belong to the open file description, which fork shares: the
 * child "takes" them again, and its unlock releases the parent's; a description opened anew
 * conflicts. Run on a file in a mkdtemp directory; output does not depend on timing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errname.h"

static char path[64];
static pid_t parent;

static int lk(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    return fcntl(fd, cmd, &fl);
}

#define SHOW(what, call)                          \
    do {                                          \
        errno = 0;                                \
        long r_ = (call);                         \
        printf("%-58s %s\n", what, err(r_));      \
        fflush(stdout);                           \
    } while (0)

/* What F_GETLK (or F_OFD_GETLK) says of a write lock on [start, start+len). */
static void getlk(const char *what, int fd, int cmd, off_t start, off_t len)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    if (fcntl(fd, cmd, &fl) != 0) {
        printf("%-58s %s\n", what, err(-1));
    } else if (fl.l_type == F_UNLCK) {
        printf("%-58s free\n", what);
    } else {
        const char *who = fl.l_pid == parent ? "the parent" : fl.l_pid == -1 ? "-1" : fl.l_pid == getpid() ? "self" : "another";
        printf("%-58s %s [%lld,+%lld) held by %s\n", what, fl.l_type == F_WRLCK ? "write" : "read",
               (long long)fl.l_start, (long long)fl.l_len, who);
    }
    fflush(stdout);
}

/* Runs fn in a child and waits for it. */
static void in_child(void (*fn)(int), int fd)
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        fn(fd);
        fflush(stdout);
        _exit(0);
    }
    waitpid(p, NULL, 0);
}

static void posix_child(int fd)
{
    getlk("child: F_GETLK [0,10)", fd, F_GETLK, 0, 10);
    SHOW("child: F_SETLK write [0,10) on the inherited fd", lk(fd, F_SETLK, F_WRLCK, 0, 10));
    SHOW("child: F_SETLK read [5,6)", lk(fd, F_SETLK, F_RDLCK, 5, 1));
    SHOW("child: F_SETLK write [20,30)", lk(fd, F_SETLK, F_WRLCK, 20, 10));
    SHOW("child: F_SETLK unlock [0,100) (its own locks only)", lk(fd, F_SETLK, F_UNLCK, 0, 100));
    getlk("child: F_GETLK [0,10) after its unlock", fd, F_GETLK, 0, 10);
    close(fd);  /* the child's close drops the child's locks, not the parent's */
}

static void posix_child_locks(int fd)
{
    SHOW("child: F_SETLK write [40,50)", lk(fd, F_SETLK, F_WRLCK, 40, 10));
}

static void flock_child(int fd)
{
    SHOW("child: flock LOCK_EX|LOCK_NB on the inherited fd", flock(fd, LOCK_EX | LOCK_NB));
    int other = open(path, O_RDWR);
    SHOW("child: flock LOCK_EX|LOCK_NB on a new open", flock(other, LOCK_EX | LOCK_NB));
    SHOW("child: flock LOCK_UN on the inherited fd", flock(fd, LOCK_UN));
    SHOW("child: flock LOCK_EX|LOCK_NB on the new open after it", flock(other, LOCK_EX | LOCK_NB));
    close(other);
}

static void ofd_child(int fd)
{
    getlk("child: F_OFD_GETLK [0,10) on the inherited fd", fd, F_OFD_GETLK, 0, 10);
    SHOW("child: F_OFD_SETLK write [0,10) on the inherited fd", lk(fd, F_OFD_SETLK, F_WRLCK, 0, 10));
    int other = open(path, O_RDWR);
    getlk("child: F_OFD_GETLK [0,10) on a new open", other, F_OFD_GETLK, 0, 10);
    SHOW("child: F_OFD_SETLK write [0,10) on a new open", lk(other, F_OFD_SETLK, F_WRLCK, 0, 10));
    SHOW("child: F_SETLK (POSIX) write [0,10) on the new open", lk(other, F_SETLK, F_WRLCK, 0, 10));
    close(other);
    close(fd);  /* the parent still holds the description: its lock stays */
}

int main(void)
{
    char dir[] = "/tmp/locks_fork.XXXXXX";
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "%s/f", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    if (fd < 0) return 1;
    if (write(fd, "0123456789", 10) != 10) return 1;
    parent = getpid();

    printf("-- POSIX record locks\n");
    SHOW("parent: F_SETLK write [0,10)", lk(fd, F_SETLK, F_WRLCK, 0, 10));
    in_child(posix_child, fd);
    getlk("parent: F_GETLK [0,10) (its own lock: none in the way)", fd, F_GETLK, 0, 10);
    in_child(posix_child, fd);  /* the lock is still the parent's after the first child */

    /* A child's lock, while the child lives, and after it exited. */
    int go[2], ready[2];
    if (pipe(go) != 0 || pipe(ready) != 0) return 1;
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        close(go[1]);
        close(ready[0]);
        posix_child_locks(fd);
        fflush(stdout);
        char c = 'r';
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) < 0) _exit(1);
        _exit(0);
    }
    close(go[0]);
    close(ready[1]);
    char c;
    if (read(ready[0], &c, 1) != 1) return 1;  /* the child holds its lock and has said so */
    getlk("parent: F_GETLK [40,50) while the child holds it", fd, F_GETLK, 40, 10);
    SHOW("parent: F_SETLK write [40,50)", lk(fd, F_SETLK, F_WRLCK, 40, 10));
    close(go[1]);
    waitpid(p, NULL, 0);
    getlk("parent: F_GETLK [40,50) after the child exited", fd, F_GETLK, 40, 10);
    SHOW("parent: F_SETLK unlock [0,100)", lk(fd, F_SETLK, F_UNLCK, 0, 100));

    printf("-- flock\n");
    SHOW("parent: flock LOCK_EX", flock(fd, LOCK_EX));
    in_child(flock_child, fd);
    int other = open(path, O_RDWR);
    SHOW("parent: flock LOCK_EX|LOCK_NB on a new open", flock(other, LOCK_EX | LOCK_NB));
    close(other);
    SHOW("parent: flock LOCK_UN", flock(fd, LOCK_UN));

    printf("-- OFD locks\n");
    SHOW("parent: F_OFD_SETLK write [0,10)", lk(fd, F_OFD_SETLK, F_WRLCK, 0, 10));
    in_child(ofd_child, fd);
    other = open(path, O_RDWR);
    getlk("parent: F_OFD_GETLK [0,10) on a new open", other, F_OFD_GETLK, 0, 10);
    close(other);
    close(fd);

    unlink(path);
    rmdir(dir);
    return 0;
}
