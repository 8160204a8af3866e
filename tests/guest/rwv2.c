/* rwv2: preadv/pwritev and preadv2/pwritev2 as fs/read_write.c makes them: offset -1 means
 * the file position (and moves it), other negative offsets EINVAL, ESPIPE for an offset on a
 * pipe, the RWF_* flags (HIPRI, DSYNC, SYNC accepted; NOWAIT EAGAIN on an empty pipe and
 * EOPNOTSUPP where the file has no FMODE_NOWAIT; APPEND and NOAPPEND against O_APPEND;
 * both at once EINVAL; unknown bits EOPNOTSUPP), the iovec checks (UIO_MAXIOV, negative
 * lengths, bad pointers) and offsets past 4 GiB through the i386 pos_l/pos_h split. */
#include "iosys_common.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>

#ifndef RWF_HIPRI
#define RWF_HIPRI 0x1
#define RWF_DSYNC 0x2
#define RWF_SYNC 0x4
#define RWF_NOWAIT 0x8
#define RWF_APPEND 0x10
#endif
#ifndef RWF_NOAPPEND
#define RWF_NOAPPEND 0x20
#endif

static long rd(int fd, char *buf, long len, int64_t pos, int flags)
{
    struct iovec iov[2] = {{buf, (size_t)len / 2}, {buf + len / 2, (size_t)(len - len / 2)}};
    return raw_rwv2(SYS_preadv2, fd, iov, 2, pos, flags);
}

static long wr(int fd, const char *buf, long len, int64_t pos, int flags)
{
    struct iovec iov[2] = {{(void *)buf, (size_t)len / 2}, {(void *)(buf + len / 2), (size_t)(len - len / 2)}};
    return raw_rwv2(SYS_pwritev2, fd, iov, 2, pos, flags);
}

static volatile int sigpipes;
static void on_sigpipe(int sig) { (void)sig; sigpipes++; }

static void show_pos(const char *what, int fd) { printf("%-44s %ld\n", what, (long)lseek(fd, 0, SEEK_CUR)); }

int main(void)
{
    char buf[256];
    int fd = make_file("/dev/shm", 1000);
    if (fd < 0) return 1;

    /* preadv and pwritev (no flags) at offsets and the split of pos. */
    struct iovec iov[3] = {{buf, 5}, {buf + 5, 0}, {buf + 5, 7}};
    long r = syscall(SYS_preadv, fd, iov, 3, 26L, 0L);
    show("preadv 12 at 26", r);
    printf("  data ok %d\n", pattern_ok(buf, 26, 12));
    show_pos("  position stays", fd);
    show("pwritev 2 at 990", syscall(SYS_pwritev, fd, iov, 1, 990L, 0L));

    /* offset -1: the file position, which moves. */
    show("preadv2 -1 (position 0)", rd(fd, buf, 10, -1, 0));
    printf("  data ok %d\n", pattern_ok(buf, 0, 10));
    show_pos("  position now", fd);
    show("preadv2 -1 again", rd(fd, buf, 10, -1, 0));
    printf("  data ok %d\n", pattern_ok(buf, 10, 10));
    show("preadv2 at 100", rd(fd, buf, 10, 100, 0));
    printf("  data ok %d\n", pattern_ok(buf, 100, 10));
    show_pos("  position stays", fd);
    show("preadv2 offset -2", rd(fd, buf, 10, -2, 0));
    show("pwritev2 offset -5", wr(fd, buf, 10, -5, 0));
    show("preadv2 at the end", rd(fd, buf, 10, 1000, 0));
    show("preadv2 past the end", rd(fd, buf, 10, 5000, 0));

    /* The flags. */
    show("preadv2 RWF_HIPRI", rd(fd, buf, 10, 0, RWF_HIPRI));
    show("preadv2 RWF_DSYNC", rd(fd, buf, 10, 0, RWF_DSYNC));
    show("pwritev2 RWF_SYNC", wr(fd, "0123456789", 10, 500, RWF_SYNC));
    show("pwritev2 RWF_DSYNC", wr(fd, "0123456789", 10, 510, RWF_DSYNC));
    show("preadv2 RWF_NOWAIT (tmpfs)", rd(fd, buf, 10, 500, RWF_NOWAIT));
    show("pwritev2 RWF_NOWAIT (tmpfs)", wr(fd, "abc", 3, 500, RWF_NOWAIT));
    show("preadv2 APPEND|NOAPPEND", rd(fd, buf, 10, 0, RWF_APPEND | RWF_NOAPPEND));
    show("pwritev2 APPEND|NOAPPEND", wr(fd, buf, 10, 0, RWF_APPEND | RWF_NOAPPEND));
    show("preadv2 RWF_NOSIGNAL", rd(fd, buf, 10, 0, 0x100));
    show("pwritev2 RWF_ATOMIC (tmpfs)", wr(fd, buf, 10, 0, 0x40));
    show("preadv2 RWF_ATOMIC (tmpfs)", rd(fd, buf, 10, 0, 0x40));
    show("preadv2 RWF_DONTCACHE (tmpfs)", rd(fd, buf, 10, 0, 0x80));
    show("preadv2 RWF_NOWAIT /dev/zero", raw_rwv2(SYS_preadv2, open("/dev/zero", O_RDONLY), iov, 1, -1, RWF_NOWAIT));
    show("preadv2 no iovec, bad flags", raw_rwv2(SYS_preadv2, fd, iov, 0, 0, 0x40000000));
    static const int unknown[] = {0x200, 0x1000, 0x10000, 0x40000000, (int)0x80000000u};
    for (unsigned i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        char what[64];
        snprintf(what, sizeof what, "preadv2 flag %#x", (unsigned)unknown[i]);
        show(what, rd(fd, buf, 10, 0, unknown[i]));
    }

    /* RWF_APPEND writes at the end whatever the offset; the position does not move for an
     * explicit offset, and moves past the data for -1. */
    struct stat st;
    show("pwritev2 RWF_APPEND at 0", wr(fd, "APPENDED", 8, 0, RWF_APPEND));
    fstat(fd, &st);
    printf("  size %ld\n", (long)st.st_size);
    pread(fd, buf, 8, 1000);
    printf("  at 1000: %.8s\n", buf);
    show_pos("  position", fd);
    show("pwritev2 RWF_APPEND at -1", wr(fd, "TAIL", 4, -1, RWF_APPEND));
    show_pos("  position", fd);
    /* O_APPEND file: RWF_NOAPPEND writes at the offset. */
    fcntl(fd, F_SETFL, O_APPEND);
    show("pwritev2 O_APPEND file at 0", wr(fd, "XY", 2, 0, 0));
    fstat(fd, &st);
    printf("  size %ld\n", (long)st.st_size);
    show("pwritev2 RWF_NOAPPEND at 0", wr(fd, "NO", 2, 0, RWF_NOAPPEND));
    fstat(fd, &st);
    printf("  size %ld\n", (long)st.st_size);
    pread(fd, buf, 4, 0);
    printf("  at 0: %.4s\n", buf);
    fcntl(fd, F_SETFL, 0);

    /* Offsets past 4 GiB: pos_h carries the high half on i386. */
    show("pwritev2 at 5 GiB + 3", wr(fd, "high", 4, (5LL << 30) + 3, 0));
    fstat(fd, &st);
    printf("  size %lld\n", (long long)st.st_size);
    memset(buf, 0, 8);
    show("preadv2 at 5 GiB + 3", rd(fd, buf, 4, (5LL << 30) + 3, 0));
    printf("  data %.4s\n", buf);
    show("preadv2 at 4 GiB (a hole)", rd(fd, buf, 4, 4LL << 30, 0));
    printf("  zeros %d\n", buf[0] == 0 && buf[3] == 0);
    ftruncate(fd, 1000);

    /* iovec checks. */
    struct iovec big[1025];
    for (int i = 0; i < 1025; i++) big[i] = (struct iovec){buf, 1};
    show("preadv2 1024 iovecs", raw_rwv2(SYS_preadv2, fd, big, 1024, 0, 0));
    show("preadv2 1025 iovecs", raw_rwv2(SYS_preadv2, fd, big, 1025, 0, 0));
    show("preadv2 -1 iovecs", raw_rwv2(SYS_preadv2, fd, big, -1, 0, 0));
    show("preadv2 0 iovecs", raw_rwv2(SYS_preadv2, fd, big, 0, 0, 0));
    struct iovec neg[1] = {{buf, (size_t)-1}};
    show("preadv2 negative length", raw_rwv2(SYS_preadv2, fd, neg, 1, 0, 0));
    struct iovec badp[1] = {{(void *)16, 10}};
    show("preadv2 unmapped buffer", raw_rwv2(SYS_preadv2, fd, badp, 1, 0, 0));
    show("preadv2 unmapped iovec", raw_rwv2(SYS_preadv2, fd, (void *)16, 1, 0, 0));
    show("preadv2 bad fd", raw_rwv2(SYS_preadv2, 999, big, 1, 0, 0));
    int ro = open("/dev/null", O_RDONLY);
    show("pwritev2 read-only fd", raw_rwv2(SYS_pwritev2, ro, big, 1, 0, 0));
    show("pwritev2 RWF_NOWAIT /dev/null", raw_rwv2(SYS_pwritev2, open("/dev/null", O_WRONLY), big, 1, -1, RWF_NOWAIT));

    /* Pipes: -1 reads and writes the stream, an offset is ESPIPE, RWF_NOWAIT gives EAGAIN on
     * an empty pipe even without O_NONBLOCK. */
    int p[2];
    if (pipe(p)) return 1;
    show("pwritev2 pipe at 0", wr(p[1], "pipe", 4, 0, 0));
    show("pwritev2 pipe at -1", wr(p[1], "pipe", 4, -1, 0));
    show("preadv2 pipe at 0", rd(p[0], buf, 4, 0, 0));
    show("preadv2 pipe at -2", rd(p[0], buf, 4, -2, 0));
    show("preadv2 pipe at -1", rd(p[0], buf, 4, -1, 0));
    printf("  data %.4s\n", buf);
    show("preadv2 empty pipe RWF_NOWAIT", rd(p[0], buf, 4, -1, RWF_NOWAIT));
    show("pwritev2 pipe RWF_NOWAIT", wr(p[1], "ab", 2, -1, RWF_NOWAIT));
    show("preadv2 pipe RWF_NOWAIT with data", rd(p[0], buf, 4, -1, RWF_NOWAIT));
    show("preadv2 pipe RWF_HIPRI", rd(p[0], buf, 4, -1, RWF_HIPRI | RWF_NOWAIT));
    show("pwritev2 pipe RWF_APPEND", wr(p[1], "cd", 2, -1, RWF_APPEND));
    show("pwritev2 pipe RWF_NOAPPEND", wr(p[1], "ef", 2, -1, RWF_NOAPPEND));
    show("preadv2 pipe", rd(p[0], buf, 8, -1, 0));
    printf("  data %.4s\n", buf);
    /* eventfd and sockets take RWF_NOWAIT too. */
    int efd = eventfd(0, 0);
    uint64_t ev = 0;
    struct iovec eiov[1] = {{&ev, 8}};
    show("preadv2 empty eventfd RWF_NOWAIT", raw_rwv2(SYS_preadv2, efd, eiov, 1, -1, RWF_NOWAIT));
    ev = 3;
    show("pwritev2 eventfd RWF_NOWAIT", raw_rwv2(SYS_pwritev2, efd, eiov, 1, -1, RWF_NOWAIT));
    show("preadv2 eventfd RWF_NOWAIT", raw_rwv2(SYS_preadv2, efd, eiov, 1, -1, RWF_NOWAIT));
    printf("  value %llu\n", (unsigned long long)ev);
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    show("preadv2 empty socket RWF_NOWAIT", rd(sv[0], buf, 4, -1, RWF_NOWAIT));
    show("pwritev2 socket", wr(sv[1], "sock", 4, -1, RWF_NOWAIT));
    show("preadv2 socket RWF_NOWAIT", rd(sv[0], buf, 4, -1, RWF_NOWAIT));
    show("preadv2 socket at 0", rd(sv[0], buf, 4, 0, 0));

    /* A pipe without readers: EPIPE, and RWF_NOSIGNAL spares the SIGPIPE. */
    signal(SIGPIPE, on_sigpipe);
    close(p[0]);
    show("pwritev2 no reader", wr(p[1], "x", 1, -1, 0));
    printf("  SIGPIPEs %d\n", sigpipes);
    show("pwritev2 no reader RWF_NOSIGNAL", wr(p[1], "x", 1, -1, 0x100));
    printf("  SIGPIPEs %d\n", sigpipes);
    /* And a socket whose peer is gone. */
    close(sv[1]);
    show("pwritev2 socket, peer closed", wr(sv[0], "x", 1, -1, 0));
    printf("  SIGPIPEs %d\n", sigpipes);
    show("pwritev2 socket, peer closed, NOSIGNAL", wr(sv[0], "x", 1, -1, 0x100));
    printf("  SIGPIPEs %d\n", sigpipes);
    return 0;
}
