/* sendmmsg and recvmmsg over AF_UNIX sockets: msg_len filled per message, partial counts
 * when a later message fails, vlen 0, MSG_WAITFORONE, MSG_DONTWAIT with fewer messages than
 * asked, a zero timeout returning after one message, an error after some messages left on
 * the socket for the next call, per-message destinations on a bound datagram socket, the
 * sender's name in each msg_name, and a stream batch. On i386 the same calls also go
 * through socketcall. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void result(const char *what, long r)
{
    if (r < 0) printf("%s: %ld %s\n", what, r, strerror(errno));
    else printf("%s: %ld\n", what, r);
    errno = 0;
}

#define N 4
static char bufs[N][16];
static struct iovec iovs[N];
static struct mmsghdr msgs[N];
static struct sockaddr_un names[N];

static void prepare_recv(void)
{
    memset(bufs, 0, sizeof bufs);
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < N; i++) {
        iovs[i] = (struct iovec){bufs[i], sizeof bufs[i] - 1};
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_len = 999;
    }
}

static void prepare_send(const char *const *texts, int n)
{
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < n; i++) {
        iovs[i] = (struct iovec){(void *)texts[i], strlen(texts[i])};
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_len = 999;
    }
}

static void show(const char *what, int n)
{
    printf("%s:", what);
    for (int i = 0; i < N; i++) printf(" [%u %s]", msgs[i].msg_len, i < n ? bufs[i] : "-");
    printf("\n");
}

#ifdef __i386__
/* The same calls through i386's socketcall multiplexer. */
static long sc_sendmmsg(int fd, struct mmsghdr *m, unsigned n, int flags)
{
    unsigned long args[4] = {fd, (unsigned long)m, n, flags};
    return syscall(SYS_socketcall, 20, args);
}
static long sc_recvmmsg(int fd, struct mmsghdr *m, unsigned n, int flags)
{
    unsigned long args[5] = {fd, (unsigned long)m, n, flags, 0};
    return syscall(SYS_socketcall, 19, args);
}
#else
static long sc_sendmmsg(int fd, struct mmsghdr *m, unsigned n, int flags) { return sendmmsg(fd, m, n, flags); }
static long sc_recvmmsg(int fd, struct mmsghdr *m, unsigned n, int flags) { return recvmmsg(fd, m, n, flags, NULL); }
#endif

int main(int argc, char **argv)
{
    (void)argc;
    setvbuf(stdout, NULL, _IONBF, 0);
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    const char *three[] = {"one", "two", "three"};
    prepare_send(three, 3);
    result("sendmmsg 3", sendmmsg(sv[0], msgs, 3, 0));
    printf("msg_len %u %u %u %u\n", msgs[0].msg_len, msgs[1].msg_len, msgs[2].msg_len, msgs[3].msg_len);
    prepare_recv();
    result("recvmmsg 4 nonblocking", recvmmsg(sv[1], msgs, N, MSG_DONTWAIT, NULL));
    show("got", 3);
    result("recvmmsg on empty", recvmmsg(sv[1], msgs, N, MSG_DONTWAIT, NULL));
    result("sendmmsg vlen 0", sendmmsg(sv[0], msgs, 0, 0));
    result("sendmmsg bad fd", sendmmsg(99, msgs, 1, 0));
    result("sendmmsg on a pipe", sendmmsg(1, msgs, 1, 0));
    /* Bad pointers go straight to the kernel: libc wrappers may read them first. */
    result("sendmmsg bad vector", syscall(SYS_sendmmsg, sv[0], (struct mmsghdr *)8, 2, 0));

    /* A bad second message: the first is sent and counted. */
    prepare_send(three, 3);
    msgs[1].msg_hdr.msg_iov = (struct iovec *)8;
    result("sendmmsg with a bad second", sendmmsg(sv[0], msgs, 3, 0));
    printf("msg_len %u %u %u\n", msgs[0].msg_len, msgs[1].msg_len, msgs[2].msg_len);
    prepare_recv();
    result("recvmmsg", recvmmsg(sv[1], msgs, N, MSG_DONTWAIT, NULL));
    show("got", 1);

    /* MSG_WAITFORONE: waits for the first (sent by a child), then takes what is there. */
    pid_t child = fork();
    if (child == 0) {
        prepare_send(three, 2);
        _exit(sendmmsg(sv[0], msgs, 2, 0) == 2 ? 0 : 1);
    }
    int status;
    waitpid(child, &status, 0);
    prepare_recv();
    result("recvmmsg MSG_WAITFORONE", recvmmsg(sv[1], msgs, N, MSG_WAITFORONE, NULL));
    show("got", 2);

    /* A zero timeout: one message, then the timeout has passed. */
    prepare_send(three, 3);
    sendmmsg(sv[0], msgs, 3, 0);
    prepare_recv();
    struct timespec ts = {0, 0};
    result("recvmmsg zero timeout", recvmmsg(sv[1], msgs, N, 0, &ts));
    show("got", 1);
    ts = (struct timespec){5, 0};
    prepare_recv();
    result("recvmmsg timeout 5 s, 2 waiting, MSG_DONTWAIT", recvmmsg(sv[1], msgs, N, MSG_DONTWAIT, &ts));
    show("got", 2);
    ts = (struct timespec){0, 1000000000};
    result("recvmmsg bad timeout", recvmmsg(sv[1], msgs, N, 0, &ts));
    result("recvmmsg timeout fault", syscall(SYS_recvmmsg, sv[1], msgs, N, 0, (struct timespec *)8));
    /* EINVAL on x86-64; i386's compat entry sets the flag itself, so it is just a receive. */
    result("recvmmsg MSG_CMSG_COMPAT", recvmmsg(sv[1], msgs, N, MSG_DONTWAIT | 0x80000000, NULL));

    /* An error after one message: the count now, the error at the next call. */
    prepare_send(three, 3);
    sendmmsg(sv[0], msgs, 3, 0);
    prepare_recv();
    msgs[1].msg_hdr.msg_iov = (struct iovec *)8;
    result("recvmmsg with a bad second", recvmmsg(sv[1], msgs, N, MSG_DONTWAIT, NULL));
    show("got", 1);
    prepare_recv();
    result("the next recvmmsg", recvmmsg(sv[1], msgs, N, MSG_DONTWAIT, NULL));
    prepare_recv();
    result("and the one after", recvmmsg(sv[1], msgs, N, MSG_DONTWAIT, NULL));
    show("got", 2);

    /* Per-message destinations and the senders' names. */
    struct sockaddr_un a[2], me;
    socklen_t alen[2], melen;
    int s[2];
    for (int i = 0; i < 2; i++) {
        memset(&a[i], 0, sizeof a[i]);
        a[i].sun_family = AF_UNIX;
        alen[i] = offsetof(struct sockaddr_un, sun_path) + 1 +
                  snprintf(a[i].sun_path + 1, 100, "%s.%d.%d", strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0], getpid(), i);
        s[i] = socket(AF_UNIX, SOCK_DGRAM, 0);
        bind(s[i], (struct sockaddr *)&a[i], alen[i]);
    }
    int snd = socket(AF_UNIX, SOCK_DGRAM, 0);
    bind(snd, (struct sockaddr *)&(struct sockaddr_un){AF_UNIX}, offsetof(struct sockaddr_un, sun_path));
    melen = sizeof me;
    getsockname(snd, (struct sockaddr *)&me, &melen);
    const char *to[] = {"to0", "to1", "to0b"};
    prepare_send(to, 3);
    for (int i = 0; i < 3; i++) {
        msgs[i].msg_hdr.msg_name = &a[i % 2];
        msgs[i].msg_hdr.msg_namelen = alen[i % 2];
    }
    result("sendmmsg to two names", sc_sendmmsg(snd, msgs, 3, 0));
    for (int i = 0; i < 2; i++) {
        prepare_recv();
        for (int j = 0; j < N; j++) {
            msgs[j].msg_hdr.msg_name = &names[j];
            msgs[j].msg_hdr.msg_namelen = sizeof names[j];
        }
        long r = sc_recvmmsg(s[i], msgs, N, MSG_DONTWAIT);
        printf("socket %d: %ld:", i, r);
        for (int j = 0; j < r; j++)
            printf(" [%s from %s]", bufs[j],
                   msgs[j].msg_hdr.msg_namelen == melen && !memcmp(&names[j], &me, melen) ? "the sender" : "?");
        printf("\n");
    }

    /* A stream batch: each message's bytes, read back as one stream. */
    int st[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, st);
    prepare_send(three, 3);
    result("sendmmsg on a stream", sc_sendmmsg(st[0], msgs, 3, 0));
    char buf[32] = {0};
    read(st[1], buf, sizeof buf);
    printf("stream read: %s\n", buf);
    return 0;
}
