/* AF_UNIX socketpair: stream, datagram and seqpacket pairs with SOCK_NONBLOCK/SOCK_CLOEXEC;
 * read/write/send/recv/sendmsg/recvmsg (message boundaries, MSG_TRUNC, MSG_PEEK,
 * MSG_DONTWAIT, MSG_WAITALL), SCM_RIGHTS descriptors (several, truncated control buffers,
 * MSG_CMSG_CLOEXEC), shutdown in each direction, the peer's close (EOF, EPIPE with and
 * without SIGPIPE, ECONNREFUSED, ECONNRESET), poll readiness, socket options, sleeping
 * reads woken by another process, and the errno of bad arguments. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int sigpipes;
static void on_sigpipe(int sig) { (void)sig; sigpipes++; }
static int *volatile bad_sv = (int *)8;

static void result(const char *what, long r)
{
    if (r < 0) printf("%s: %ld %s\n", what, r, strerror(errno));
    else printf("%s: %ld\n", what, r);
    errno = 0;
}

static unsigned revents(int fd, short events)
{
    struct pollfd p = {fd, events, 0};
    poll(&p, 1, 0);
    return (unsigned short)p.revents;
}

static void creation(void)
{
    int sv[2];
    result("socketpair AF_INET6-less family 99", socketpair(99, SOCK_STREAM, 0, sv));
    result("type 0", socketpair(AF_UNIX, 0, 0, sv));
    result("type 4 (RDM)", socketpair(AF_UNIX, 4, 0, sv));
    result("type 12", socketpair(AF_UNIX, 12, 0, sv));
    result("protocol 2", socketpair(AF_UNIX, SOCK_STREAM, 2, sv));
    result("bad flag", socketpair(AF_UNIX, SOCK_STREAM | 0x100, 0, sv));
    result("bad vector", socketpair(AF_UNIX, SOCK_STREAM, 0, bad_sv));
    result("bad vector and type", socketpair(AF_UNIX, 0, 0, bad_sv));
    int r = socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv);
    printf("flags: %d nonblock %d cloexec %d\n", r, !!(fcntl(sv[0], F_GETFL) & O_NONBLOCK), fcntl(sv[1], F_GETFD));
    struct stat st;
    fstat(sv[0], &st);
    long off = lseek(sv[0], 0, SEEK_SET);
    printf("S_ISSOCK %d lseek %ld %s\n", S_ISSOCK(st.st_mode), off, strerror(errno));
    errno = 0;
    int type, len = sizeof type;
    getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, (socklen_t *)&len);
    int dom;
    len = sizeof dom;
    getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &dom, (socklen_t *)&len);
    struct ucred cr;
    len = sizeof cr;
    getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cr, (socklen_t *)&len);
    printf("SO_TYPE %d SO_DOMAIN %d peercred pid is us %d uid %d len %d\n", type, dom, cr.pid == getpid(),
           cr.uid == getuid(), len);
    struct sockaddr_un sa;
    socklen_t alen = sizeof sa;
    memset(&sa, 0x55, sizeof sa);
    r = getsockname(sv[0], (struct sockaddr *)&sa, &alen);
    printf("getsockname %d len %d family %d\n", r, (int)alen, sa.sun_family);
    alen = sizeof sa;
    r = getpeername(sv[0], (struct sockaddr *)&sa, &alen);
    printf("getpeername %d len %d\n", r, (int)alen);
    char c;
    result("nonblocking read, empty", read(sv[0], &c, 1));
    result("recv on a pipe", recv(0, &c, 1, 0) < 0 && errno == ENOTSOCK ? -1 : 0);
    close(sv[0]);
    close(sv[1]);
}

static void stream(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    printf("stream poll: %#x %#x\n", revents(sv[0], POLLIN | POLLOUT), revents(sv[1], POLLIN | POLLOUT));
    write(sv[0], "hello ", 6);
    send(sv[0], "world", 5, 0);
    printf("with data: %#x\n", revents(sv[1], POLLIN | POLLOUT));
    char buf[64] = {0};
    long n = recv(sv[1], buf, sizeof buf, MSG_PEEK);
    printf("peek %ld '%.*s'\n", n, (int)n, buf);
    n = read(sv[1], buf, 3);
    printf("read 3: %ld '%.*s'\n", n, (int)n, buf);
    n = read(sv[1], buf, sizeof buf);
    printf("read rest: %ld '%.*s'\n", n, (int)n, buf);
    struct iovec iov[3] = {{"a", 1}, {"bc", 2}, {"def", 3}};
    struct msghdr mh = {0};
    mh.msg_iov = iov;
    mh.msg_iovlen = 3;
    n = sendmsg(sv[1], &mh, 0);
    char b1[2], b2[8];
    struct iovec riov[2] = {{b1, 2}, {b2, 8}};
    struct msghdr rh = {0};
    rh.msg_iov = riov;
    rh.msg_iovlen = 2;
    long m = recvmsg(sv[0], &rh, 0);
    printf("sendmsg %ld recvmsg %ld '%.2s' '%.4s' flags %#x controllen %d\n", n, m, b1, b2, rh.msg_flags, (int)rh.msg_controllen);
    errno = 0;
    result("recv MSG_DONTWAIT, empty", recv(sv[0], buf, 1, MSG_DONTWAIT));

    /* A child sends in pieces; MSG_WAITALL waits for all of them. */
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 4; i++) {
            usleep(5000);
            write(sv[1], "12345", 5);
        }
        _exit(0);
    }
    n = recv(sv[0], buf, 20, MSG_WAITALL);
    printf("MSG_WAITALL: %ld '%.*s'\n", n, (int)n, buf);
    waitpid(pid, NULL, 0);

    /* Shutdown in each direction. */
    shutdown(sv[0], SHUT_WR);
    printf("after SHUT_WR: mine %#x peer's %#x\n", revents(sv[0], POLLIN | POLLOUT | POLLRDHUP),
           revents(sv[1], POLLIN | POLLOUT | POLLRDHUP));
    result("peer reads EOF", read(sv[1], buf, 1));
    signal(SIGPIPE, on_sigpipe);
    result("write after SHUT_WR", write(sv[0], "x", 1));
    result("send MSG_NOSIGNAL after SHUT_WR", send(sv[0], "x", 1, MSG_NOSIGNAL));
    printf("sigpipes %d\n", sigpipes);
    result("peer still writes", write(sv[1], "back", 4));
    result("and we read it", read(sv[0], buf, sizeof buf));
    result("shutdown how 3", shutdown(sv[0], 3));
    result("shutdown SHUT_RD", shutdown(sv[1], SHUT_RD));
    printf("both shut: %#x %#x\n", revents(sv[0], POLLIN | POLLOUT | POLLRDHUP), revents(sv[1], POLLIN | POLLOUT | POLLRDHUP));
    close(sv[0]);
    close(sv[1]);

    /* The peer's close: EOF, then EPIPE and SIGPIPE. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(sv[1], "left", 4);
    close(sv[1]);
    printf("peer closed: %#x\n", revents(sv[0], POLLIN | POLLOUT | POLLRDHUP));
    result("read what it left", read(sv[0], buf, sizeof buf));
    result("then EOF", read(sv[0], buf, sizeof buf));
    result("write", write(sv[0], "x", 1));
    printf("sigpipes %d\n", sigpipes);
    close(sv[0]);

    /* Closing with unread data resets the peer. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(sv[0], "unread", 6);
    close(sv[1]);
    printf("reset: %#x\n", revents(sv[0], POLLIN | POLLOUT));
    int err;
    socklen_t len = sizeof err;
    getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &err, &len);
    printf("SO_ERROR %s\n", strerror(err));
    printf("after SO_ERROR: %#x\n", revents(sv[0], POLLIN | POLLOUT));
    close(sv[0]);

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(sv[0], "unread", 6);
    close(sv[1]);
    result("read after reset", read(sv[0], buf, 1));
    result("read again", read(sv[0], buf, 1));
    close(sv[0]);

    /* A full socket: a nonblocking write gives EAGAIN, and writable again once read. */
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    static char big[65536];
    long total = 0;
    while ((n = write(sv[0], big, sizeof big)) > 0) total += n;
    printf("full: EAGAIN %d more than 64 KiB %d pollout %#x\n", errno == EAGAIN, total > 65536, revents(sv[0], POLLOUT));
    while (read(sv[1], big, sizeof big) > 0) {
    }
    printf("drained: pollout %#x\n", revents(sv[0], POLLOUT));
    close(sv[0]);
    close(sv[1]);
}

static void datagrams(int type, const char *name)
{
    int sv[2];
    socketpair(AF_UNIX, type, 0, sv);
    printf("%s poll: %#x\n", name, revents(sv[0], POLLIN | POLLOUT));
    write(sv[0], "one", 3);
    write(sv[0], "", 0);
    send(sv[0], "three33", 7, 0);
    char buf[16];
    long n = read(sv[1], buf, sizeof buf);
    printf("%s read: %ld '%.*s'\n", name, n, (int)n, buf);
    n = read(sv[1], buf, sizeof buf);
    printf("%s empty message: %ld\n", name, n);
    struct iovec iov = {buf, 5};
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    n = recvmsg(sv[1], &mh, MSG_PEEK);
    printf("%s peek: %ld flags %#x\n", name, n, mh.msg_flags);
    n = recv(sv[1], buf, 2, MSG_TRUNC);
    printf("%s recv 2 with MSG_TRUNC: %ld\n", name, n);
    send(sv[0], "again", 5, 0);
    n = recvmsg(sv[1], &mh, 0);
    printf("%s recvmsg 5 of 5: %ld flags %#x\n", name, n, mh.msg_flags);
    send(sv[0], "longer", 6, 0);
    n = recvmsg(sv[1], &mh, 0);
    printf("%s recvmsg 5 of 6: %ld flags %#x\n", name, n, mh.msg_flags);
    errno = 0;
    static char huge[300000];
    result("message larger than sndbuf", send(sv[0], huge, sizeof huge, 0));
    shutdown(sv[0], SHUT_WR);
    result("send after own SHUT_WR", send(sv[0], "x", 1, MSG_NOSIGNAL));
    printf("%s after SHUT_WR: mine %#x peer's %#x\n", name, revents(sv[0], POLLIN | POLLOUT | POLLRDHUP),
           revents(sv[1], POLLIN | POLLOUT | POLLRDHUP));
    result("peer's nonblocking recv", recv(sv[1], buf, 1, MSG_DONTWAIT));
    close(sv[0]);
    close(sv[1]);

    socketpair(AF_UNIX, type, 0, sv);
    send(sv[1], "queued", 6, 0);
    close(sv[1]);
    printf("%s peer closed: %#x\n", name, revents(sv[0], POLLIN | POLLOUT));
    int before = sigpipes;
    result("send to the closed peer", send(sv[0], "x", 1, 0));
    printf("%s SIGPIPE %d\n", name, sigpipes - before);
    result("send again", send(sv[0], "x", 1, 0));
    result("recv", recv(sv[0], buf, sizeof buf, MSG_DONTWAIT));
    result("recv again", recv(sv[0], buf, sizeof buf, MSG_DONTWAIT));
    close(sv[0]);
}

static void send_fds(int sock, const int *fds, int n, const char *data)
{
    char ctl[CMSG_SPACE(sizeof(int) * 8)];
    memset(ctl, 0, sizeof ctl);
    struct iovec iov = {(void *)data, strlen(data)};
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
    result("sendmsg with fds", sendmsg(sock, &mh, 0));
}

static void recv_fds(int sock, size_t ctl_space, int flags)
{
    char ctl[256];
    char buf[16];
    struct iovec iov = {buf, sizeof buf};
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl;
    mh.msg_controllen = ctl_space;
    long n = recvmsg(sock, &mh, flags);
    printf("recvmsg: %ld '%.*s' flags %#x controllen %d", n, n > 0 ? (int)n : 0, buf, mh.msg_flags, (int)mh.msg_controllen);
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        int count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        printf(" cmsg level %d type %d fds %d:", cm->cmsg_level, cm->cmsg_type, count);
        for (int i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
            char data[8] = {0};
            lseek(fd, 0, SEEK_SET);
            int r = read(fd, data, sizeof data - 1);
            printf(" [%d '%s' cloexec %d]", r, data, fcntl(fd, F_GETFD));
            close(fd);
        }
    }
    printf("\n");
}

static int tmpfile_with(const char *text)
{
    char path[] = "/tmp/emu-unix-XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    write(fd, text, strlen(text));
    return fd;
}

static void rights(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int a = tmpfile_with("A"), b = tmpfile_with("B"), c = tmpfile_with("C");
    int fds[3] = {a, b, c};
    send_fds(sv[0], fds, 3, "xyz");
    recv_fds(sv[1], CMSG_SPACE(sizeof(int) * 3), MSG_CMSG_CLOEXEC);
    send_fds(sv[0], fds, 3, "t");
    recv_fds(sv[1], CMSG_SPACE(sizeof(int) * 1), 0);
    send_fds(sv[0], fds, 1, "u");
    recv_fds(sv[1], 4, 0);
    /* The descriptors ride on their bytes: a read before them does not take them. */
    write(sv[0], "pre", 3);
    send_fds(sv[0], fds + 1, 1, "fd");
    write(sv[0], "post", 4);
    recv_fds(sv[1], 64, 0);
    recv_fds(sv[1], 64, 0);
    int bad[1] = {99};
    send_fds(sv[0], bad, 1, "bad");
    /* A pipe sent to a child process, which writes into it. */
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        char ctl[CMSG_SPACE(sizeof(int))], buf[4];
        struct iovec iov = {buf, sizeof buf};
        struct msghdr mh = {0};
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = ctl;
        mh.msg_controllen = sizeof ctl;
        recvmsg(sv[1], &mh, 0);
        int fd;
        memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof fd);
        write(fd, "from the child", 14);
        _exit(0);
    }
    send_fds(sv[0], &p[1], 1, "p");
    close(p[1]);
    char buf[32] = {0};
    long n = read(p[0], buf, sizeof buf);
    printf("pipe through the child: %ld '%.*s'\n", n, (int)(n > 0 ? n : 0), buf);
    waitpid(pid, NULL, 0);
    close(p[0]);
    /* Control message errors. */
    struct msghdr mh = {0};
    struct iovec iov = {"x", 1};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    char ctl[CMSG_SPACE(sizeof(int))] = {0};
    mh.msg_control = ctl;
    mh.msg_controllen = sizeof ctl;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = 77;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    result("unknown SOL_SOCKET cmsg", sendmsg(sv[0], &mh, 0));
    cm->cmsg_len = 2;
    cm->cmsg_type = SCM_RIGHTS;
    result("cmsg_len too small", sendmsg(sv[0], &mh, 0));
    cm->cmsg_len = 1000;
    result("cmsg_len too large", sendmsg(sv[0], &mh, 0));
    mh.msg_iovlen = 2000;
    result("iovlen 2000", sendmsg(sv[0], &mh, 0));
    result("bad msghdr", syscall(SYS_sendmsg, sv[0], (struct msghdr *)8, 0));
    close(a);
    close(b);
    close(c);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    creation();
    stream();
    datagrams(SOCK_DGRAM, "dgram");
    datagrams(SOCK_SEQPACKET, "seqpacket");
    rights();
    return 0;
}
