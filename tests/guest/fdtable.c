/* The fd table's edges as Linux answers them (fs/file.c, fs/fcntl.c, fs/open.c,
 * fs/ioctl.c, fs/readdir.c, fs/read_write.c): dup, dup2 and dup3 with bad, equal and
 * limit-crossing descriptors; F_DUPFD at and past RLIMIT_NOFILE; FD_CLOEXEC through
 * F_DUPFD_CLOEXEC, dup3 and close_range; close of a closed fd; ftruncate, fallocate,
 * lseek, ioctl and getdents64 on the wrong kind of descriptor. Each line prints what the
 * kernel answered. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

/* This build's name (fifo.x86_64, fifo.i386...): with the pid it keeps the files of runs
 * that share a /tmp apart (the three builds natively, and under emu when it keeps the
 * host's /tmp). */
static const char* program_name_of(const char* path) {
    const char* s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void report(const char* what, long r) {
    printf("%-36s %ld %s\n", what, r, r < 0 ? strerror(errno) : "");
    errno = 0;
}

static long cloexec_of(int fd) { return fcntl(fd, F_GETFD); }

int main(int argc, char** argv) {
    (void)argc;
    syscall(SYS_close_range, 3, ~0u, 0); /* only 0, 1 and 2, whatever the runner left open */
    struct rlimit rl = {64, 64};
    report("setrlimit NOFILE 64", setrlimit(RLIMIT_NOFILE, &rl));

    report("dup of a closed fd", dup(40));
    report("dup2 to itself", dup2(1, 1));
    report("dup2 of a closed fd to itself", dup2(40, 40));
    report("dup2 to the limit", dup2(1, 64));
    report("dup2 to 63", dup2(1, 63));
    report("dup3 to itself", syscall(SYS_dup3, 1, 1, 0));
    report("dup3 with a bad flag", syscall(SYS_dup3, 1, 20, O_NONBLOCK));
    report("dup3 O_CLOEXEC", dup3(1, 21, O_CLOEXEC));
    report("  its FD_CLOEXEC", cloexec_of(21));
    report("dup2 over it clears FD_CLOEXEC", dup2(1, 21));
    report("  its FD_CLOEXEC", cloexec_of(21));

    report("F_DUPFD from 10", fcntl(1, F_DUPFD, 10));
    report("F_DUPFD from 10 again", fcntl(1, F_DUPFD, 10));
    report("F_DUPFD_CLOEXEC from 30", fcntl(1, F_DUPFD_CLOEXEC, 30));
    report("  its FD_CLOEXEC", cloexec_of(30));
    report("F_DUPFD from 63", fcntl(1, F_DUPFD, 63));
    report("F_DUPFD from the limit", fcntl(1, F_DUPFD, 64));
    report("F_DUPFD from -1", fcntl(1, F_DUPFD, -1));
    report("F_SETFD 1 then F_GETFD", fcntl(10, F_SETFD, FD_CLOEXEC) ?: cloexec_of(10));
    report("F_GETFD of a closed fd", fcntl(40, F_GETFD));
    report("fcntl unknown command", fcntl(1, 0x7fff));

    report("close_range 10..11 CLOEXEC", syscall(SYS_close_range, 10, 11, CLOSE_RANGE_CLOEXEC));
    report("  fd 11 FD_CLOEXEC", cloexec_of(11));
    report("close_range first > last", syscall(SYS_close_range, 12, 11, 0));
    report("close_range bad flag", syscall(SYS_close_range, 10, 11, 8));
    report("close_range 10..~0", syscall(SYS_close_range, 10, ~0u, 0));
    report("  fd 21 after it", cloexec_of(21));
    report("close of a closed fd", close(21));
    report("close of -1", close(-1));

    int p[2];
    report("pipe2 with a bad flag", pipe2(p, O_APPEND));
    report("pipe2 O_CLOEXEC", pipe2(p, O_CLOEXEC));
    report("  read end FD_CLOEXEC", cloexec_of(p[0]));
    report("lseek on a pipe", lseek(p[0], 0, SEEK_SET));
    report("ftruncate of a pipe", ftruncate(p[1], 0));
    report("fallocate on a pipe", fallocate(p[1], 0, 0, 4096));
    report("getdents64 of a pipe", syscall(SYS_getdents64, p[0], (char[256]){0}, 256));
    int avail = -1;
    report("FIONREAD on an empty pipe", ioctl(p[0], FIONREAD, &avail));
    report("  bytes", avail);
    struct termios t;
    report("TCGETS on a pipe", ioctl(p[0], TCGETS, &t));

    char name[64];  /* natively the three builds' runs share /tmp */
    snprintf(name, sizeof name, "/tmp/%s.%d", program_name_of(argv[0]), (int)getpid());
    int f = open(name, O_CREAT | O_RDWR | O_TRUNC, 0600);
    report("open a file", f >= 0 ? 0 : -1);
    report("ftruncate to 5000", ftruncate(f, 5000));
    report("lseek SEEK_END", lseek(f, 0, SEEK_END));
    report("lseek bad whence", lseek(f, 0, 17));
    report("lseek before 0", lseek(f, -1, SEEK_SET));
    report("ftruncate negative", ftruncate(f, -1));
    int r = open(name, O_RDONLY);
    report("ftruncate of a read-only fd", ftruncate(r, 0));
    report("fallocate of a read-only fd", fallocate(r, 0, 0, 4096));
    report("fallocate length 0", fallocate(f, 0, 0, 0));
    report("getdents64 of a file", syscall(SYS_getdents64, f, (char[256]){0}, 256));
    int d = open("/tmp", O_RDONLY | O_DIRECTORY);
    report("getdents64 into 8 bytes", syscall(SYS_getdents64, d, (char[8]){0}, 8));
    report("write to a directory", write(d, "x", 1));
    report("F_GETFL of a read-only fd", fcntl(r, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK));
    report("F_SETFL O_APPEND|O_NONBLOCK", fcntl(r, F_SETFL, O_APPEND | O_NONBLOCK));
    report("F_GETFL after", fcntl(r, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK));
    unlink(name);

    /* Past the limit the next open is EMFILE. */
    int n = 0;
    while (dup(0) >= 0) ++n;
    report("dups until EMFILE", n);
    report("  and then", dup(0));
    return 0;
}
