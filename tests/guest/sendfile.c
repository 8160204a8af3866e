/* sendfile: do_sendfile's rules (fs/read_write.c): with an offset pointer (advanced, the file
 * position kept) or the file position (advanced); to a regular file, a pipe and /dev/null;
 * short at the end of the input; EBADF for a bad or wrong-mode fd, ESPIPE for an offset on
 * an input that cannot pread, EINVAL for a pipe or non-file input, an O_APPEND output or a
 * negative offset, EAGAIN to a full non-blocking pipe, EFAULT for a bad offset pointer; the
 * count capped at MAX_RW_COUNT; i386's sendfile (32-bit off_t) against sendfile64. */
#include "iosys_common.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

static long raw_sendfile(int out, int in, void *off, unsigned long count) { return syscall(SYS_sendfile, out, in, off, count); }
#ifdef SYS_sendfile64
static long raw_sendfile64(int out, int in, void *off, unsigned long count) { return syscall(SYS_sendfile64, out, in, off, count); }
#endif

static void check_data(int fd, long at, long n)
{
    static char buf[1 << 17];
    long r = pread(fd, buf, (size_t)n, at);
    printf("  %ld bytes at %ld ok %d\n", r, at, r == n && pattern_ok(buf, 0, n));
}

int main(void)
{
    int in = make_file("/dev/shm", 100000);
    int out = make_file("/dev/shm", 0);
    if (in < 0 || out < 0) return 1;

    /* File position: both advance. */
    show("sendfile 70000 (positions)", raw_sendfile(out, in, NULL, 70000));
    printf("  in at %ld, out at %ld\n", (long)lseek(in, 0, SEEK_CUR), (long)lseek(out, 0, SEEK_CUR));
    check_data(out, 0, 70000);
    show("sendfile rest, count 1 MiB", raw_sendfile(out, in, NULL, 1 << 20));
    show("sendfile at the end", raw_sendfile(out, in, NULL, 100));
    check_data(out, 0, 100000);

    /* Offset pointer: it advances, the input's position stays. */
    ftruncate(out, 0);
    lseek(out, 0, SEEK_SET);
    lseek(in, 5, SEEK_SET);
#ifdef __x86_64__
    long long off = 0;
#else
    long off = 0;
#endif
    show("sendfile offset 0, 30000", raw_sendfile(out, in, &off, 30000));
    printf("  offset now %lld, in at %ld\n", (long long)off, (long)lseek(in, 0, SEEK_CUR));
    check_data(out, 0, 30000);
    off = 99990;
    show("sendfile offset 99990, 100", raw_sendfile(out, in, &off, 100));
    printf("  offset now %lld\n", (long long)off);
    off = 200000;
    show("sendfile offset past the end", raw_sendfile(out, in, &off, 100));
    off = -1;
    show("sendfile offset -1", raw_sendfile(out, in, &off, 100));
    show("sendfile count 0", raw_sendfile(out, in, NULL, 0));
    show("sendfile bad offset pointer", raw_sendfile(out, in, (void *)16, 100));
    show("sendfile count -1 (huge)", raw_sendfile(out, in, NULL, (unsigned long)-1));
#ifdef SYS_sendfile64
    long long off64 = 3;
    show("sendfile64 offset 3, 50", raw_sendfile64(out, in, &off64, 50));
    printf("  offset now %lld\n", off64);
    off64 = 3LL << 32;
    show("sendfile64 offset 12 GiB", raw_sendfile64(out, in, &off64, 50));
#endif

    /* Bad descriptors and modes. */
    show("sendfile bad in", raw_sendfile(out, 999, NULL, 10));
    show("sendfile bad out", raw_sendfile(999, in, NULL, 10));
    int wo = open("/dev/null", O_WRONLY);
    show("sendfile in write-only", raw_sendfile(out, wo, NULL, 10));
    int ro = open("/dev/zero", O_RDONLY);
    lseek(in, 0, SEEK_SET);
    show("sendfile out read-only", raw_sendfile(ro, in, NULL, 10));
    show("sendfile to /dev/null", raw_sendfile(wo, in, NULL, 5000));
    show("sendfile from /dev/zero to file", raw_sendfile(out, ro, NULL, 10));
    int dir = open("/dev/shm", O_RDONLY | O_DIRECTORY);
    show("sendfile from a directory", raw_sendfile(out, dir, NULL, 10));
    int app = make_file("/dev/shm", 0);
    fcntl(app, F_SETFL, O_APPEND);
    show("sendfile to O_APPEND", raw_sendfile(app, in, NULL, 10));

    /* Pipes: out to a pipe (the pipe's room caps it), in from a pipe. */
    int p[2];
    if (pipe(p)) return 1;
    lseek(in, 0, SEEK_SET);
    show("sendfile to pipe 100000", raw_sendfile(p[1], in, NULL, 100000));
    printf("  in at %ld\n", (long)lseek(in, 0, SEEK_CUR));
    static char buf[70000];
    long got = read(p[0], buf, sizeof buf);
    printf("  pipe held %ld, ok %d\n", got, pattern_ok(buf, 0, got));
    show("sendfile from pipe to file", raw_sendfile(out, p[0], NULL, 10));
    write(p[1], "abc", 3);
    off = 0;
    show("sendfile from pipe with offset", raw_sendfile(out, p[0], &off, 10));
    show("sendfile pipe to pipe", raw_sendfile(p[1], p[0], NULL, 10));
    /* A full non-blocking pipe: EAGAIN; with a little room, what fits. */
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    while (write(p[1], buf, 4096) > 0) {}
    show("sendfile to full O_NONBLOCK pipe", raw_sendfile(p[1], in, NULL, 100));
    read(p[0], buf, 10000);
    show("sendfile to pipe with 2 free pages", raw_sendfile(p[1], in, NULL, 100000));
    /* To a socket. */
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    off = 1000;
    show("sendfile to a socket 5000", raw_sendfile(sv[0], in, &off, 5000));
    got = read(sv[1], buf, sizeof buf);
    printf("  socket gave %ld, ok %d\n", got, pattern_ok(buf, 1000, got));
    show("sendfile from a socket", raw_sendfile(out, sv[1], NULL, 10));
    /* No reader: EPIPE. */
    signal(SIGPIPE, SIG_IGN);
    close(p[0]);
    show("sendfile to pipe without reader", raw_sendfile(p[1], in, NULL, 100));
    close(p[1]);
    /* To stdout between write(2)s (a regular file under scripts/oracle-run), as busybox cat
     * copies: at the file's position, after what was written before. */
    printf("stdout before the sendfile: ");
    fflush(stdout);
    off = 0;
    raw_sendfile(1, in, &off, 26);
    printf("\nstdout after the sendfile\n");
    return 0;
}
