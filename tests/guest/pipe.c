/* pipe: pipes as Linux makes them (fs/pipe.c), within one process:
 *   a round trip, short reads, zero-length reads and writes, EOF once the last writer is
 *   closed (dup keeps an end open), EAGAIN with O_NONBLOCK on either end, EBADF for the
 *   wrong end, ESPIPE for lseek and pread;
 *   how much a non-blocking pipe takes, which shows Linux's ring of 16 pages: 65536 bytes
 *   of 1-byte writes but 64000 of 100-byte writes (a write's remainder merges into the last
 *   page only when it fits), a 4096-byte write refused whole, a long write cut at the free
 *   pages;
 *   EPIPE with SIGPIPE ignored, blocked (it stays pending) and handled (si_code SI_USER);
 *   pipe2's O_CLOEXEC and O_NONBLOCK, EINVAL for other flags, EFAULT without leaking fds;
 *   fstat (S_IFIFO, 0600), F_GETFL and F_SETFL O_NONBLOCK, FIONREAD, F_GETPIPE_SZ and
 *   F_SETPIPE_SZ (EBUSY below what is buffered), packet mode (O_DIRECT);
 *   100 KiB through one pipe in writes of many sizes, each read back in 7000-byte reads.
 * Never more is written than the pipe holds: a full pipe would block this process forever.
 * With the argument "sigpipe" a write with no reader, SIGPIPE at its default, kills the
 * process (status 141). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *yesno(int b) { return b ? "yes" : "no"; }

static const char *err_name(int e)
{
    switch (e) {
    case 0: return "0";
    case EAGAIN: return "EAGAIN";
    case EPIPE: return "EPIPE";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case ESPIPE: return "ESPIPE";
    case EBUSY: return "EBUSY";
    default: return "other";
    }
}

/* The result of a call as "N" or "-1 ENAME". */
static const char *result(long r)
{
    static char buf[64];
    if (r < 0)
        snprintf(buf, sizeof buf, "-1 %s", err_name(errno));
    else
        snprintf(buf, sizeof buf, "%ld", r);
    return buf;
}

static void make_pipe(int fds[2], int flags)
{
    if (pipe2(fds, flags) != 0) {
        perror("pipe2");
        exit(2);
    }
}

static void close_pipe(const int fds[2])
{
    close(fds[0]);
    close(fds[1]);
}

static void set_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* Non-blocking writes of `size` bytes until the pipe refuses one: the bytes taken. */
static long fill(int fd, size_t size)
{
    static char buf[4096];
    long total = 0;
    for (;;) {
        ssize_t w = write(fd, buf, size);
        if (w < 0)
            return errno == EAGAIN ? total : -1;
        total += w;
    }
}

/* Reads what the pipe holds (non-blocking), up to max bytes. */
static long drain(int fd, unsigned char *out, long max)
{
    long total = 0;
    set_nonblock(fd, 1);
    for (;;) {
        ssize_t r = read(fd, out + total, (size_t)(max - total) < 65536 ? (size_t)(max - total) : 65536);
        if (r <= 0)
            break;
        total += r;
    }
    set_nonblock(fd, 0);
    return total;
}

static void basics(void)
{
    int p[2];
    char buf[64];
    make_pipe(p, 0);
    printf("write 5: %s\n", result(write(p[1], "hello", 5)));
    printf("read 3 of 5: %s", result(read(p[0], buf, 3)));
    printf(" \"%.3s\"\n", buf);
    printf("read 64 of the other 2: %s", result(read(p[0], buf, 64)));
    printf(" \"%.2s\"\n", buf);
    printf("read 0 bytes of an empty pipe: %s\n", result(read(p[0], buf, 0)));
    set_nonblock(p[0], 1);
    errno = 0;
    printf("non-blocking read of an empty pipe: %s\n", result(read(p[0], buf, 1)));
    set_nonblock(p[0], 0);
    printf("read from the write end: %s\n", result(read(p[1], buf, 1)));
    printf("write to the read end: %s\n", result(write(p[0], "x", 1)));
    printf("lseek: %s\n", result(lseek(p[0], 0, SEEK_CUR)));
    printf("pread: %s\n", result(pread(p[0], buf, 1, 0)));
    printf("pwrite: %s\n", result(pwrite(p[1], "x", 1, 0)));

    (void)!write(p[1], "0123456789", 10);
    int n = -1;
    long r = ioctl(p[0], FIONREAD, &n);
    printf("FIONREAD after 10 bytes: %s, %d\n", result(r), n);
    printf("read them: %s\n", result(read(p[0], buf, 64)));

    /* EOF: what was written is still read after the writer is gone; a dup keeps it open. */
    int w2 = dup(p[1]);
    close(p[1]);
    write(w2, "abc", 3);
    printf("read with a dup of the writer open: %s\n", result(read(p[0], buf, 64)));
    close(w2);
    printf("read after the last writer closed: %s\n", result(read(p[0], buf, 64)));
    printf("read at EOF again: %s\n", result(read(p[0], buf, 64)));
    close(p[0]);
}

static void status_flags(void)
{
    int p[2];
    struct stat st;
    make_pipe(p, 0);
    int r = fstat(p[0], &st);
    printf("fstat: %d, fifo %s, mode %o, nlink %lu, size %lld, blksize %ld\n", r, yesno(S_ISFIFO(st.st_mode)),
           (unsigned)(st.st_mode & 07777), (unsigned long)st.st_nlink, (long long)st.st_size, (long)st.st_blksize);
    printf("F_GETFL: read end %o, write end %o\n", fcntl(p[0], F_GETFL) & (O_ACCMODE | O_NONBLOCK),
           fcntl(p[1], F_GETFL) & (O_ACCMODE | O_NONBLOCK));
    set_nonblock(p[1], 1);
    printf("F_SETFL O_NONBLOCK on the write end: %o\n", fcntl(p[1], F_GETFL) & (O_ACCMODE | O_NONBLOCK));
    printf("F_GETFD: %d %d\n", fcntl(p[0], F_GETFD), fcntl(p[1], F_GETFD));
    close_pipe(p);

    make_pipe(p, O_CLOEXEC | O_NONBLOCK);
    printf("pipe2(O_CLOEXEC|O_NONBLOCK): F_GETFD %d %d, O_NONBLOCK %s %s\n", fcntl(p[0], F_GETFD),
           fcntl(p[1], F_GETFD), yesno(fcntl(p[0], F_GETFL) & O_NONBLOCK), yesno(fcntl(p[1], F_GETFL) & O_NONBLOCK));
    close_pipe(p);

    int q[2];
    printf("pipe2(O_APPEND): %s\n", result(pipe2(q, O_APPEND)));
    printf("pipe2(O_RDWR): %s\n", result(pipe2(q, O_RDWR)));
    printf("pipe2(1 << 30): %s\n", result(pipe2(q, 1 << 30)));
    make_pipe(p, 0);
    close_pipe(p);
    volatile uintptr_t bad = 16;
    printf("pipe(bad pointer): %s\n", result(pipe((int *)bad)));
    make_pipe(q, 0);
    printf("the fds of a failed pipe were not kept: %s\n", yesno(q[0] == p[0] && q[1] == p[1]));
    close_pipe(q);
}

static void capacity(void)
{
    int p[2];
    static unsigned char buf[70000];
    make_pipe(p, O_NONBLOCK);
    long got = fill(p[1], 1);
    printf("1-byte writes a pipe takes: %ld\n", got);
    printf("F_GETPIPE_SZ: %d\n", fcntl(p[1], F_GETPIPE_SZ));
    printf("drained: %ld\n", drain(p[0], buf, sizeof buf));

    got = fill(p[1], 100);
    printf("100-byte writes a pipe takes: %ld\n", got);
    printf("a 96-byte write still fits the last page: %s\n", result(write(p[1], buf, 96)));
    printf("then one more byte: %s\n", result(write(p[1], buf, 1)));
    printf("drained: %ld\n", drain(p[0], buf, sizeof buf));

    /* PIPE_BUF: 100 bytes free in the last page, but a 4096-byte write is taken whole or not at all. */
    for (int i = 0; i < 15; ++i)
        write(p[1], buf, 4096);
    write(p[1], buf, 3996);
    printf("a 4096-byte write with 100 bytes free: %s\n", result(write(p[1], buf, 4096)));
    printf("a 200-byte write with 100 bytes free: %s\n", result(write(p[1], buf, 200)));
    printf("drained: %ld\n", drain(p[0], buf, sizeof buf));

    /* A long write is cut at the free pages; its bytes come out in order. */
    for (int i = 0; i < 14; ++i)
        write(p[1], buf, 4096);
    for (int i = 0; i < 12338; ++i)
        buf[i] = (unsigned char)(i * 7 + 3);
    printf("a 12338-byte write with two pages free: %s\n", result(write(p[1], buf, 12338)));
    static unsigned char out[70000];
    long n = drain(p[0], out, sizeof out);
    printf("drained: %ld, the long write's bytes in order: %s\n", n,
           yesno(n == 14 * 4096 + 8192 && memcmp(out + 14 * 4096, buf, 8192) == 0));

    /* F_SETPIPE_SZ rounds up to a power-of-two number of pages and cannot drop data. */
    printf("F_SETPIPE_SZ 8192: %d\n", fcntl(p[1], F_SETPIPE_SZ, 8192));
    printf("1-byte writes it takes now: %ld\n", fill(p[1], 1));
    drain(p[0], out, sizeof out);
    printf("F_SETPIPE_SZ 1: %d\n", fcntl(p[1], F_SETPIPE_SZ, 1));
    printf("F_SETPIPE_SZ 100000: %d\n", fcntl(p[0], F_SETPIPE_SZ, 100000));
    for (int i = 0; i < 3; ++i)
        write(p[1], buf, 4096);
    printf("F_SETPIPE_SZ 8192 with 3 pages buffered: %s\n", result(fcntl(p[1], F_SETPIPE_SZ, 8192)));
    int maps = open("/proc/self/maps", O_RDONLY);
    printf("F_GETPIPE_SZ of a file that is no pipe: %s\n", result(fcntl(maps, F_GETPIPE_SZ)));
    close(maps);
    printf("drained: %ld\n", drain(p[0], out, sizeof out));
    close_pipe(p);
}

static void packets(void)
{
    int p[2];
    char buf[64];
    make_pipe(p, O_DIRECT);
    printf("O_DIRECT: read end %s, write end %s\n", yesno(fcntl(p[0], F_GETFL) & O_DIRECT),
           yesno(fcntl(p[1], F_GETFL) & O_DIRECT));
    write(p[1], "hello", 5);
    write(p[1], "world!", 6);
    write(p[1], "packet", 6);
    printf("packet reads: %s", result(read(p[0], buf, sizeof buf)));
    printf(" %s", result(read(p[0], buf, sizeof buf)));
    long r = read(p[0], buf, 3);
    printf(" %s (\"%.3s\")", result(r), buf);
    set_nonblock(p[0], 1);
    printf(", then %s\n", result(read(p[0], buf, sizeof buf)));
    close_pipe(p);
}

static volatile int sigpipe_count, sigpipe_code = -1, sigpipe_pid_ours;

static void on_sigpipe(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    ++sigpipe_count;
    sigpipe_code = si->si_code;
    sigpipe_pid_ours = si->si_pid == getpid();
}

static void epipe(void)
{
    int p[2];
    make_pipe(p, 0);
    close(p[0]);
    printf("write of 0 bytes with no reader: %s\n", result(write(p[1], "x", 0)));

    signal(SIGPIPE, SIG_IGN);
    printf("write with no reader, SIGPIPE ignored: %s\n", result(write(p[1], "x", 1)));

    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_BLOCK, &set, NULL);
    printf("write with no reader, SIGPIPE blocked: %s\n", result(write(p[1], "x", 1)));
    sigemptyset(&pending);
    sigpending(&pending);
    printf("SIGPIPE pending: %s\n", yesno(sigismember(&pending, SIGPIPE)));
    signal(SIGPIPE, SIG_IGN); /* discards it */
    sigprocmask(SIG_UNBLOCK, &set, NULL);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigpipe;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGPIPE, &sa, NULL);
    printf("write with no reader, SIGPIPE handled: %s", result(write(p[1], "x", 1)));
    printf(", handler ran %d time(s), si_code SI_USER %s, si_pid ours %s\n", sigpipe_count,
           yesno(sigpipe_code == SI_USER), yesno(sigpipe_pid_ours));
    signal(SIGPIPE, SIG_DFL);
    close(p[1]);
}

/* 100 KiB in writes of many sizes, each read back in 7000-byte reads before the next. */
static void stream(void)
{
    static const size_t sizes[] = {1, 100, 4095, 4096, 4097, 10000, 65536, 17000};
    static unsigned char in[65536], out[65536];
    int p[2];
    make_pipe(p, 0);
    size_t total = 0;
    unsigned long sum_in = 0, sum_out = 0, reads = 0;
    int same = 1;
    for (size_t i = 0; total < 100 * 1024; ++i) {
        size_t len = sizes[i % 8];
        if (len > 100 * 1024 - total)
            len = 100 * 1024 - total;
        for (size_t j = 0; j < len; ++j) {
            in[j] = (unsigned char)(total + j * 31);
            sum_in += in[j];
        }
        if (write(p[1], in, len) != (ssize_t)len) {
            printf("short write\n");
            break;
        }
        size_t got = 0;
        while (got < len) {
            ssize_t r = read(p[0], out + got, 7000);
            if (r <= 0)
                break;
            got += (size_t)r;
            ++reads;
        }
        for (size_t j = 0; j < got; ++j)
            sum_out += out[j];
        same &= got == len && memcmp(in, out, len) == 0;
        total += len;
    }
    printf("streamed %zu bytes in %lu reads, every chunk intact: %s, sums %lu %lu\n", total, reads, yesno(same),
           sum_in, sum_out);
    close_pipe(p);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "sigpipe") == 0) {
        int p[2];
        make_pipe(p, 0);
        close(p[0]);
        printf("writing to a pipe with no reader, SIGPIPE at its default\n");
        fflush(stdout);
        write(p[1], "x", 1);
        printf("still alive\n");
        return 0;
    }
    basics();
    status_flags();
    capacity();
    packets();
    epipe();
    stream();
    return 0;
}
