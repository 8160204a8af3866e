/* Open and stat rules LTP checks (open02, open11, openat202, statx03, readlink03):
 * - O_NOATIME is for the file's owner or CAP_FOWNER only (may_open's EPERM);
 * - a character device node made in a directory of the host's tree opens the device its
 *   number names (init_special_inode), here /dev/null's 1:3 and /dev/zero's 1:5;
 * - /proc/version exists and starts with "Linux version ";
 * - statx with a reserved mask bit, or with both AT_STATX_FORCE_SYNC and
 *   AT_STATX_DONT_SYNC, is EINVAL;
 * - readlink of what is no link is EINVAL, but ENOENT for an empty path (readlink03);
 * - mmap of /dev/zero, execve of a file open for writing, splice from /proc/sys (below).
 * Run as root (as the oracle runs natively), in a mkdtemp directory of the working directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, long r)
{
    printf("%s: %s\n", what, r >= 0 ? "ok" : strerror(errno));
}

static void noatime(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOATIME);
    show("O_NOATIME by the owner", fd);
    if (fd >= 0) close(fd);
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) || setuid(65534)) _exit(1);
        int fd = open(path, O_RDONLY | O_NOATIME);
        show("O_NOATIME by another user", fd);
        fd = open(path, O_RDONLY);
        show("O_RDONLY by another user", fd);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

static void chrdev(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/null", dir);
    show("mknod c 1 3", mknod(path, S_IFCHR | 0666, makedev(1, 3)));
    int fd = open(path, O_RDWR);
    show("open the 1:3 node", fd);
    char buf[8] = "abc";
    if (fd >= 0) {
        printf("write 3 bytes: %zd, read: %zd\n", write(fd, buf, 3), read(fd, buf, sizeof buf));
        close(fd);
    }
    unlink(path);
    snprintf(path, sizeof path, "%s/zero", dir);
    show("mknod c 1 5", mknod(path, S_IFCHR | 0666, makedev(1, 5)));
    fd = open(path, O_RDONLY);
    show("open the 1:5 node", fd);
    if (fd >= 0) {
        memset(buf, 'x', sizeof buf);
        ssize_t n = read(fd, buf, sizeof buf);
        printf("read %zd bytes, all zero: %s\n", n, n == 8 && !memcmp(buf, "\0\0\0\0\0\0\0\0", 8) ? "yes" : "no");
        close(fd);
    }
    unlink(path);
}

static void proc_version(void)
{
    char buf[256] = "";
    int fd = open("/proc/version", O_RDONLY);
    show("open /proc/version", fd);
    if (fd < 0) return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    printf("starts with \"Linux version \": %s, one line: %s\n", !strncmp(buf, "Linux version ", 14) ? "yes" : "no",
           n > 0 && buf[n - 1] == '\n' && !memchr(buf, '\n', n - 1) ? "yes" : "no");
    fd = open("/proc/version", O_RDONLY | O_CREAT, 0400);
    show("open /proc/version O_CREAT", fd);
    if (fd >= 0) close(fd);
}

static void statx_einval(const char *path)
{
    char buf[256];
    show("statx mask STATX_BASIC_STATS", syscall(SYS_statx, AT_FDCWD, path, 0, 0x7ffu, buf));
    show("statx mask with bit 31", syscall(SYS_statx, AT_FDCWD, path, 0, 0x80000000u, buf));
    show("statx FORCE_SYNC", syscall(SYS_statx, AT_FDCWD, path, 0x2000, 0x7ffu, buf));
    show("statx DONT_SYNC", syscall(SYS_statx, AT_FDCWD, path, 0x4000, 0x7ffu, buf));
    show("statx FORCE_SYNC|DONT_SYNC", syscall(SYS_statx, AT_FDCWD, path, 0x6000, 0x7ffu, buf));
    show("readlink of a regular file", readlink(path, buf, sizeof buf));
    show("readlink of \"\"", readlink("", buf, sizeof buf));
}

/* mmap of /dev/zero: anonymous memory, private or shared (a child's writes seen), never
 * writable through a read-only descriptor; mmap's length is checked before the descriptor's
 * mode (mmap06, mmap10, mprotect01). */
static void dev_zero(void)
{
    int fd = open("/dev/zero", O_RDWR);
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    show("mmap /dev/zero private", p == MAP_FAILED ? -1 : 0);
    if (p != MAP_FAILED) {
        printf("zeros: %s\n", p[0] == 0 && p[8191] == 0 ? "yes" : "no");
        p[100] = 7;
        munmap(p, 8192);
    }
    int *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    show("mmap /dev/zero shared", s == MAP_FAILED ? -1 : 0);
    if (s != MAP_FAILED) {
        pid_t pid = fork();
        if (pid == 0) {
            s[1] = 42;
            _exit(0);
        }
        waitpid(pid, NULL, 0);
        printf("the child's write seen: %d\n", s[1]);
        munmap(s, 4096);
    }
    close(fd);
    fd = open("/dev/zero", O_RDONLY);
    void *r = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    show("mmap /dev/zero shared from O_RDONLY", r == MAP_FAILED ? -1 : 0);
    if (r != MAP_FAILED) {
        show("mprotect it PROT_WRITE", mprotect(r, 4096, PROT_READ | PROT_WRITE));
        munmap(r, 4096);
    }
    r = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    show("mmap /dev/zero shared writable from O_RDONLY", r == MAP_FAILED ? -1 : 0);
    close(fd);
    fd = open("/dev/null", O_WRONLY);
    show("mmap length 0 of an O_WRONLY descriptor", mmap(NULL, 0, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0);
    show("mmap of an O_WRONLY descriptor", mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0);
    close(fd);
    show("mmap of a closed descriptor, bad type", mmap(NULL, 4096, PROT_READ, 0, 1000, 0) == MAP_FAILED ? -1 : 0);
}

/* splice from a /proc/sys file into a pipe (proc_sys_file_operations' copy_splice_read;
 * splice06). */
static void splice_proc_sys(void)
{
    int fd = open("/proc/sys/kernel/ostype", O_RDONLY), p[2];
    if (fd < 0 || pipe(p)) return;
    ssize_t n = splice(fd, NULL, p[1], NULL, 100, 0);
    show("splice /proc/sys/kernel/ostype to a pipe", n);
    char buf[100] = "";
    if (n > 0) printf("read back: %.*s", (int)read(p[0], buf, sizeof buf), buf);
    close(fd);
    close(p[0]);
    close(p[1]);
    /* and into one: kernel.domainname gets its own value back */
    char name[100] = "";
    fd = open("/proc/sys/kernel/domainname", O_RDONLY);
    n = fd >= 0 ? read(fd, name, sizeof name - 1) : -1;
    if (fd >= 0) close(fd);
    if (n <= 0 || pipe(p)) return;
    fd = open("/proc/sys/kernel/domainname", O_WRONLY);
    if (write(p[1], name, n) != n) return;
    show("splice a pipe to /proc/sys/kernel/domainname", splice(p[0], NULL, fd, NULL, 100, 0) == n ? 0 : -1);
    close(fd);
    close(p[0]);
    close(p[1]);
}

/* execve of a file open for writing is ETXTBSY (deny_write_access; execve04), here a script
 * a child of ours holds open. */
static void exec_busy(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/script", dir);
    int fd = open(path, O_WRONLY | O_CREAT, 0755);
    if (fd < 0 || write(fd, "#!/bin/sh\nexit 0\n", 17) != 17) return;
    close(fd);
    int go[2], done[2];
    if (pipe(go) || pipe(done)) return;
    pid_t pid = fork();
    if (pid == 0) {
        int w = open(path, O_WRONLY);
        char c = 0;
        write(go[1], &c, 1);
        read(done[0], &c, 1);
        close(w);
        _exit(0);
    }
    char c;
    read(go[0], &c, 1);
    char *argv[] = {path, NULL}, *envp[] = {NULL};
    show("execve of a script another process holds open for writing", execve(path, argv, envp));
    write(done[1], &c, 1);
    waitpid(pid, NULL, 0);
    unlink(path);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[] = "open_special.XXXXXX";
    if (!mkdtemp(dir)) return 1;
    chmod(dir, 0755);
    char path[256];
    snprintf(path, sizeof path, "%s/f", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0) return 1;
    close(fd);
    noatime(path);
    chrdev(dir);
    proc_version();
    statx_einval(path);
    dev_zero();
    exec_busy(dir);
    splice_proc_sys();
    unlink(path);
    rmdir(dir);
    return 0;
}
