/* The pipe sysctls and fs.lease-break-time: their values and the writes that leave them as
 * they are (a size rounded up to a power of two, EINVAL for a negative value, a word, a size
 * past 2 GiB); F_SETPIPE_SZ past pipe-max-size as root and, without CAP_SYS_RESOURCE, EPERM;
 * and an unprivileged user whose pipes hold pipe-user-pages-soft pages: a new pipe gets two
 * slots and may not grow, only shrink. The user is a uid of this flavour's own, since the
 * three flavours run natively at the same time and the count is per user. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *name)
{
    char path[128], buf[64] = "";
    snprintf(path, sizeof path, "/proc/sys/fs/%s", name);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (n > 0) buf[n] = 0;
    printf("%s: %s", name, n > 0 ? buf : "unreadable\n");
    if (fd >= 0) close(fd);
}

static void put(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "/proc/sys/fs/%s", name);
    int fd = open(path, O_WRONLY);
    ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));
    printf("write \"%s\" to %s: %s\n", text, name, n >= 0 ? "ok" : strerror(errno));
    if (fd >= 0) close(fd);
    show(name);
}

static const char *setsz(int fd, int size)
{
    static char buf[64];
    int r = fcntl(fd, F_SETPIPE_SZ, size);
    if (r < 0) return strerror(errno);
    snprintf(buf, sizeof buf, "%d", r);
    return buf;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    show("pipe-max-size");
    show("pipe-user-pages-hard");
    show("pipe-user-pages-soft");
    show("lease-break-time");
    put("pipe-max-size", "1000000");
    put("pipe-max-size", "1048576\n");
    put("pipe-max-size", "-1");
    put("pipe-max-size", "abc");
    put("pipe-max-size", "2147483649");
    put("pipe-user-pages-soft", "16384");
    put("pipe-user-pages-soft", "-1");
    put("pipe-user-pages-hard", "0");
    put("lease-break-time", "45");
    put("lease-break-time", "x");

    int p[2];
    pipe(p);
    printf("root: F_SETPIPE_SZ 2 MiB: %s\n", setsz(p[1], 2 << 20));
    close(p[0]);
    close(p[1]);

#if defined(__i386__)
    uid_t uid = 61001;
#elif defined(__GLIBC__)
    uid_t uid = 61000;
#else
    uid_t uid = 61002;
#endif
    pid_t pid = fork();
    if (pid == 0) {
        if (setuid(uid) != 0) _exit(1);
        pipe(p);
        printf("user: F_SETPIPE_SZ 2 MiB: %s\n", setsz(p[1], 2 << 20));
        printf("user: F_SETPIPE_SZ 1 MiB: %s\n", setsz(p[1], 1 << 20));
        printf("user: F_SETPIPE_SZ 3 pages: %s\n", setsz(p[1], 3 * 4096));
        close(p[0]);
        close(p[1]);
        /* 64 pipes of 256 pages reach the soft limit of 16384 pages exactly. */
        int ok = 0;
        for (int i = 0; i < 64; i++) {
            if (pipe(p) != 0) break;
            if (fcntl(p[1], F_SETPIPE_SZ, 1 << 20) == 1 << 20) ok++;
        }
        printf("user: pipes grown to 1 MiB: %d\n", ok);
        pipe(p);
        printf("user: a pipe past the soft limit: %d bytes\n", fcntl(p[0], F_GETPIPE_SZ));
        printf("user: grow it to 64 KiB: %s\n", setsz(p[1], 65536));
        printf("user: shrink it to a page: %s\n", setsz(p[1], 4096));
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    return 0;
}
