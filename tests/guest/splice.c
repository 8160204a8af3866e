/* splice: splice, tee and vmsplice as fs/splice.c makes them: file -> pipe (offset pointer
 * or file position, short at the end, the pipe's room caps it), pipe -> file, pipe -> pipe,
 * tee's copy that leaves its input, vmsplice both ways; the errors (EINVAL when neither end
 * is a pipe, a pipe into itself, unknown flags, an O_APPEND output, a file offset on a
 * stream; ESPIPE for an offset on the pipe end; EBADF for wrong modes; EAGAIN with
 * SPLICE_F_NONBLOCK or O_NONBLOCK; EPIPE without reader); how the buffers a splice makes
 * fill the pipe (one per file page touched, not merged with later writes); and a splice
 * between two processes: the child splices a file into a pipe in pieces while the parent
 * splices the pipe into another file, each sleeping on the other. Unix sockets: stream and
 * datagram into a pipe, a pipe into a stream. */
#include "iosys_common.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

static long sp(int in, long long *off_in, int out, long long *off_out, size_t len, unsigned flags)
{
    return syscall(SYS_splice, in, off_in, out, off_out, len, flags);
}

/* How many bytes a non-blocking write of 1-byte chunks still puts into the pipe. */
static long room(int wfd)
{
    int fl = fcntl(wfd, F_GETFL);
    fcntl(wfd, F_SETFL, fl | O_NONBLOCK);
    long n = 0;
    while (write(wfd, "z", 1) == 1) n++;
    fcntl(wfd, F_SETFL, fl);
    return n;
}

static void drain(int rfd)
{
    char buf[4096];
    int fl = fcntl(rfd, F_GETFL);
    fcntl(rfd, F_SETFL, fl | O_NONBLOCK);
    while (read(rfd, buf, sizeof buf) > 0) {}
    fcntl(rfd, F_SETFL, fl);
}

int main(void)
{
    static char buf[200000];
    int in = make_file("/dev/shm", 100000);
    int out = make_file("/dev/shm", 0);
    int p[2], q[2];
    if (in < 0 || out < 0 || pipe(p) || pipe(q)) return 1;

    /* file -> pipe at the file position, then with an offset. */
    show("splice file->pipe 5000", sp(in, NULL, p[1], NULL, 5000, 0));
    printf("  in at %ld\n", (long)lseek(in, 0, SEEK_CUR));
    long long off = 99000;
    show("splice file->pipe offset 99000, 5000", sp(in, &off, p[1], NULL, 5000, 0));
    printf("  offset now %lld, in at %ld\n", off, (long)lseek(in, 0, SEEK_CUR));
    long r = read(p[0], buf, sizeof buf);
    printf("  read %ld, ok %d %d\n", r, pattern_ok(buf, 0, 5000), pattern_ok(buf + 5000, 99000, 1000));
    off = 100000;
    show("splice file->pipe at the end", sp(in, &off, p[1], NULL, 10, 0));
    show("splice file->pipe 1 MiB (room 64 KiB)", sp(in, NULL, p[1], NULL, 1 << 20, 0));
    printf("  in at %ld\n", (long)lseek(in, 0, SEEK_CUR));

    /* pipe -> file: part, then the rest with an offset. */
    show("splice pipe->file 1000", sp(p[0], NULL, out, NULL, 1000, 0));
    printf("  out at %ld\n", (long)lseek(out, 0, SEEK_CUR));
    off = 1000;
    show("splice pipe->file offset 1000, 1 MiB", sp(p[0], NULL, out, &off, 1 << 20, 0));
    printf("  offset now %lld, out at %ld\n", off, (long)lseek(out, 0, SEEK_CUR));
    r = pread(out, buf, sizeof buf, 0);
    printf("  file %ld bytes, ok %d\n", r, pattern_ok(buf, 5000, r));
    show("splice empty pipe NONBLOCK flag", sp(p[0], NULL, out, NULL, 10, 2));
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    show("splice empty O_NONBLOCK pipe", sp(p[0], NULL, out, NULL, 10, 0));
    fcntl(p[0], F_SETFL, 0);

    /* The buffers a splice makes: one per page touched, not merged into by a write. */
    lseek(in, 0, SEEK_SET);
    show("splice 100 bytes", sp(in, NULL, p[1], NULL, 100, 0));
    printf("  room after %ld\n", room(p[1]));
    drain(p[0]);
    off = 4000;
    show("splice 200 bytes across a page", sp(in, &off, p[1], NULL, 200, 0));
    printf("  room after %ld\n", room(p[1]));
    drain(p[0]);

    /* pipe -> pipe and tee. */
    write(p[1], "hello, world", 12);
    show("tee p->q 5", syscall(SYS_tee, p[0], q[1], 5, 0));
    show("splice p->q 100", sp(p[0], NULL, q[1], NULL, 100, 0));
    r = read(q[0], buf, sizeof buf);
    printf("  q: %.*s\n", (int)r, buf);
    write(p[1], "abcdef", 6);
    show("tee p->q 100", syscall(SYS_tee, p[0], q[1], 100, 0));
    r = read(p[0], buf, sizeof buf);
    printf("  p still: %.*s\n", (int)r, buf);
    r = read(q[0], buf, sizeof buf);
    printf("  q: %.*s\n", (int)r, buf);
    show("tee empty pipe NONBLOCK", syscall(SYS_tee, p[0], q[1], 10, 2));
    show("splice p->q empty NONBLOCK", sp(p[0], NULL, q[1], NULL, 10, 2));
    write(p[1], "xyz", 3);
    show("splice p->p", sp(p[0], NULL, p[1], NULL, 10, 0));
    show("tee p->p", syscall(SYS_tee, p[0], p[1], 10, 0));
    show("tee file->pipe", syscall(SYS_tee, in, q[1], 10, 0));
    show("tee pipe->file", syscall(SYS_tee, p[0], out, 10, 0));
    show("tee wrong ends", syscall(SYS_tee, p[1], q[0], 10, 0));
    show("tee bad flags", syscall(SYS_tee, p[0], q[1], 10, 0x10));
    show("tee len 0", syscall(SYS_tee, p[0], q[1], 0, 0));
    drain(p[0]);

    /* Errors. */
    show("splice len 0", sp(in, NULL, out, NULL, 0, 0));
    show("splice file->file", sp(in, NULL, out, NULL, 10, 0));
    show("splice bad flags", sp(in, NULL, p[1], NULL, 10, 0x10));
    show("splice bad in", sp(999, NULL, p[1], NULL, 10, 0));
    show("splice bad out", sp(in, NULL, 999, NULL, 10, 0));
    off = 0;
    show("splice offset on pipe in", sp(p[0], &off, out, NULL, 10, 0));
    show("splice offset on pipe out", sp(in, NULL, p[1], &off, 10, 0));
    show("splice wrong pipe ends", sp(p[1], NULL, q[0], NULL, 10, 0));
    show("splice bad offset pointer", sp(in, (long long *)16, p[1], NULL, 10, 0));
    off = -5;
    show("splice offset -5", sp(in, &off, p[1], NULL, 10, 0));
    int app = make_file("/dev/shm", 0);
    fcntl(app, F_SETFL, O_APPEND);
    write(p[1], "abc", 3);
    show("splice pipe->O_APPEND file", sp(p[0], NULL, app, NULL, 10, 0));
    int dir = open("/dev/shm", O_RDONLY | O_DIRECTORY);
    show("splice dir->pipe", sp(dir, NULL, q[1], NULL, 10, 0));
    int r2[2];
    pipe(r2);
    off = 0;
    show("splice pipe->pipe with offset", sp(p[0], &off, r2[1], NULL, 10, 0));
    int wo = open("/dev/null", O_WRONLY);
    show("splice pipe->/dev/null", sp(p[0], NULL, wo, NULL, 10, 0));
    int zero = open("/dev/zero", O_RDONLY);
    show("splice /dev/zero->pipe 10", sp(zero, NULL, q[1], NULL, 10, 0));
    drain(q[0]);

    /* A full pipe: EAGAIN with the flag; no reader: EPIPE. */
    fcntl(q[1], F_SETFL, O_NONBLOCK);
    while (write(q[1], buf, 4096) > 0) {}
    fcntl(q[1], F_SETFL, 0);
    show("splice to full pipe NONBLOCK", sp(in, NULL, q[1], NULL, 10, 2));
    write(p[1], "abc", 3);
    show("splice p->full q NONBLOCK", sp(p[0], NULL, q[1], NULL, 10, 2));
    show("tee p->full q NONBLOCK", syscall(SYS_tee, p[0], q[1], 10, 2));
    signal(SIGPIPE, SIG_IGN);
    close(r2[0]);
    show("splice to pipe without reader", sp(in, NULL, r2[1], NULL, 10, 0));
    show("splice p->pipe without reader", sp(p[0], NULL, r2[1], NULL, 10, 0));
    drain(q[0]);
    drain(p[0]);

    /* vmsplice: user memory into a pipe, and out of it. */
    char msg1[] = "vm", msg2[] = "splice";
    struct iovec iov[2] = {{msg1, 2}, {msg2, 6}};
    show("vmsplice to pipe", syscall(SYS_vmsplice, p[1], iov, 2, 0));
    char o1[3] = {0}, o2[10] = {0};
    struct iovec oiov[2] = {{o1, 3}, {o2, 10}};
    show("vmsplice from pipe", syscall(SYS_vmsplice, p[0], oiov, 2, 0));
    printf("  got %.3s|%s\n", o1, o2);
    show("vmsplice from empty pipe NONBLOCK", syscall(SYS_vmsplice, p[0], oiov, 2, 2));
    show("vmsplice bad flags", syscall(SYS_vmsplice, p[1], iov, 2, 0x20));
    show("vmsplice to a file", syscall(SYS_vmsplice, out, iov, 2, 0));
    show("vmsplice bad fd", syscall(SYS_vmsplice, 999, iov, 2, 0));
    show("vmsplice 1025 iovecs", syscall(SYS_vmsplice, p[1], iov, 1025, 0));
    show("vmsplice 0 iovecs", syscall(SYS_vmsplice, p[1], iov, 0, 0));
    struct iovec bad[1] = {{(void *)4096, 10}};
    show("vmsplice unmapped memory", syscall(SYS_vmsplice, p[1], bad, 1, 0));
    show("vmsplice from pipe to unmapped", (write(p[1], "ab", 2), syscall(SYS_vmsplice, p[0], bad, 1, 0)));
    drain(p[0]);

    /* Sockets: a stream splices what is queued (EAGAIN with the flag or O_NONBLOCK, 0 after
     * the peer's close, EINVAL for an offset), a datagram socket one datagram; pipe -> socket. */
    int sv[2], dv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    socketpair(AF_UNIX, SOCK_DGRAM, 0, dv);
    write(sv[1], "hello", 5);
    write(sv[1], "world!", 6);
    show("splice socket->pipe 100", sp(sv[0], NULL, p[1], NULL, 100, 0));
    r = read(p[0], buf, sizeof buf);
    printf("  %.*s\n", (int)r, buf);
    show("splice empty socket NONBLOCK", sp(sv[0], NULL, p[1], NULL, 100, 2));
    off = 0;
    show("splice socket with offset", sp(sv[0], &off, p[1], NULL, 100, 0));
    write(sv[1], "abcdefgh", 8);
    show("splice socket->pipe 3", sp(sv[0], NULL, p[1], NULL, 3, 0));
    show("splice socket->pipe rest", sp(sv[0], NULL, p[1], NULL, 100, 0));
    r = read(p[0], buf, sizeof buf);
    printf("  %.*s\n", (int)r, buf);
    write(p[1], "topeer", 6);
    show("splice pipe->socket", sp(p[0], NULL, sv[1], NULL, 100, 0));
    r = read(sv[0], buf, sizeof buf);
    printf("  %.*s\n", (int)r, buf);
    write(dv[1], "dgram1", 6);
    write(dv[1], "dgram22", 7);
    show("splice dgram->pipe 100", sp(dv[0], NULL, p[1], NULL, 100, 0));
    show("splice dgram->pipe 3", sp(dv[0], NULL, p[1], NULL, 3, 0));
    r = read(p[0], buf, sizeof buf);
    printf("  %.*s\n", (int)r, buf);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    show("splice empty O_NONBLOCK socket", sp(sv[0], NULL, p[1], NULL, 100, 0));
    close(sv[1]);
    show("splice socket, peer closed", sp(sv[0], NULL, p[1], NULL, 100, 0));

    /* Between processes: the child splices the file into the pipe 7000 bytes at a time
     * (it blocks when the pipe is full), the parent splices the pipe into a file until EOF. */
    int big = make_file("/dev/shm", 300000);
    int dst = make_file("/dev/shm", 0);
    int t[2];
    pipe(t);
    pid_t pid = fork();
    if (pid == 0) {
        close(t[0]);
        long sent = 0, k;
        while ((k = sp(big, NULL, t[1], NULL, 7000, 0)) > 0) sent += k;
        _exit(sent == 300000 ? 0 : 1);
    }
    close(t[1]);
    long total = 0, k;
    while ((k = sp(t[0], NULL, dst, NULL, 50000, 0)) > 0) total += k;
    int status;
    waitpid(pid, &status, 0);
    printf("two processes: %ld bytes, last %ld, child status %d\n", total, k, WEXITSTATUS(status));
    static char all[300000];
    printf("  copy ok %d\n", pread(dst, all, sizeof all, 0) == 300000 && pattern_ok(all, 0, 300000));
    return 0;
}
