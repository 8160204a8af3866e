/* Named AF_UNIX datagram sockets: sendto a path or an abstract name (ENOENT, ECONNREFUSED,
 * EPROTOTYPE), recvfrom and recvmsg returning the sender's name (none for an unbound
 * sender), connect as the default peer (EPERM for a socket connected elsewhere, AF_UNSPEC
 * to disconnect, ENOTCONN after), the receiver's queue limit for senders that are not its
 * peer (EAGAIN, poll not writable until it reads), a peer's close (ECONNREFUSED, then
 * ENOTCONN), and a blocked sender woken by a read in another process. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "unix_common.h"

static int bound(int type, struct sockaddr_un *a, socklen_t len)
{
    int s = socket(AF_UNIX, type, 0);
    if (bind(s, (struct sockaddr *)a, len)) perror("bind");
    return s;
}

static unsigned revents(int fd)
{
    struct pollfd p = {fd, POLLIN | POLLOUT, 0};
    poll(&p, 1, 0);
    return (unsigned short)p.revents;
}

/* Receives one datagram and says who sent it: the name's length and whether it is want. */
static void recv_from(const char *what, int s, const struct sockaddr_un *want, socklen_t want_len)
{
    char buf[32] = {0};
    struct sockaddr_un from;
    memset(&from, 0x55, sizeof from);
    socklen_t len = sizeof from;
    long r = recvfrom(s, buf, sizeof buf - 1, MSG_DONTWAIT, (struct sockaddr *)&from, &len);
    if (r < 0) {
        result(what, r);
        return;
    }
    printf("%s: %ld \"%s\" from a name %d same %d\n", what, r, buf, len > 0,
           want ? len == want_len && !memcmp(&from, want, len) : -1);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (make_run_dir("/tmp", argv[0])) return 1;
    setvbuf(stdout, NULL, _IONBF, 0);

    struct sockaddr_un sa, ca, xa;
    socklen_t slen = path_addr(&sa, "server"), clen = abstract_addr(&ca, "client");
    int srv = bound(SOCK_DGRAM, &sa, slen);
    int cli = bound(SOCK_DGRAM, &ca, clen);
    int anon = socket(AF_UNIX, SOCK_DGRAM, 0);

    result("send unconnected", send(anon, "x", 1, 0));
    result("sendto the server", sendto(cli, "hello", 5, 0, (struct sockaddr *)&sa, slen));
    recv_from("server got", srv, &ca, clen);
    result("sendto from an unbound socket", sendto(anon, "anon", 4, 0, (struct sockaddr *)&sa, slen));
    recv_from("server got", srv, NULL, 0);
    result("reply to the abstract name", sendto(srv, "reply", 5, 0, (struct sockaddr *)&ca, clen));
    recv_from("client got", cli, &sa, slen);
    result("recv on empty", recv(srv, NULL, 0, MSG_DONTWAIT));

    /* recvmsg's msg_name and msg_namelen. */
    sendto(cli, "msg", 3, 0, (struct sockaddr *)&sa, slen);
    char buf[16] = {0};
    struct iovec iov = {buf, sizeof buf};
    struct sockaddr_un from;
    struct msghdr m = {.msg_name = &from, .msg_namelen = 4, .msg_iov = &iov, .msg_iovlen = 1};
    result("recvmsg with a 4-byte name buffer", recvmsg(srv, &m, 0));
    printf("msg_namelen is the full name %d, family %d\n", m.msg_namelen == clen, from.sun_family);

    socklen_t xlen = path_addr(&xa, "missing");
    result("sendto a missing path", sendto(anon, "x", 1, 0, (struct sockaddr *)&xa, xlen));
    xlen = abstract_addr(&xa, "missing");
    result("sendto a missing abstract name", sendto(anon, "x", 1, 0, (struct sockaddr *)&xa, xlen));
    xlen = path_addr(&xa, "stream");
    int st = bound(SOCK_STREAM, &xa, xlen);
    listen(st, 1);
    result("sendto a stream socket's path", sendto(anon, "x", 1, 0, (struct sockaddr *)&xa, xlen));
    result("sendto with a bad length", sendto(anon, "x", 1, 0, (struct sockaddr *)&sa, 1));
    result("sendto with length 200", sendto(anon, "x", 1, 0, (struct sockaddr *)&sa, 200));
    result("sendto AF_INET family", sendto(anon, "x", 1, 0, (struct sockaddr *)&(struct sockaddr){AF_INET}, 16));
    close(st);

    /* connect: the default peer. */
    result("connect to the server", connect(cli, (struct sockaddr *)&sa, slen));
    struct sockaddr_un got;
    socklen_t len = sizeof got;
    getpeername(cli, (struct sockaddr *)&got, &len);
    printf("getpeername: same %d\n", len == slen && !memcmp(&got, &sa, len));
    result("send to the peer", send(cli, "p1", 2, 0));
    recv_from("server got", srv, &ca, clen);
    result("connect the server back", connect(srv, (struct sockaddr *)&ca, clen));
    result("a third sends to the connected client", sendto(anon, "x", 1, 0, (struct sockaddr *)&ca, clen));
    result("a third sends to the connected server", sendto(anon, "x", 1, 0, (struct sockaddr *)&sa, slen));
    result("connect with 1 byte", connect(cli, (struct sockaddr *)&sa, 1));
    result("disconnect with AF_UNSPEC", connect(cli, (struct sockaddr *)&(struct sockaddr){AF_UNSPEC}, 2));
    len = sizeof got;
    result("getpeername after", getpeername(cli, (struct sockaddr *)&got, &len));
    result("send after", send(cli, "x", 1, 0));
    result("sendto with an address still works", sendto(cli, "p2", 2, 0, (struct sockaddr *)&sa, slen));
    recv_from("server got", srv, &ca, clen);
    connect(srv, (struct sockaddr *)&(struct sockaddr){AF_UNSPEC}, 2);

    /* The queue limit for others: the host's net.unix.max_dgram_qlen (+1). */
    int other = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int sent = 0;
    while (sendto(other, "q", 1, 0, (struct sockaddr *)&sa, slen) == 1) sent++;
    int full_errno = errno;
    FILE *f = fopen("/proc/sys/net/unix/max_dgram_qlen", "r");
    int qlen = 10;
    if (f) {
        if (fscanf(f, "%d", &qlen) != 1) qlen = 10;
        fclose(f);
    }
    printf("sent before EAGAIN: qlen+%d (%s)\n", sent - qlen, strerror(full_errno));
    connect(other, (struct sockaddr *)&sa, slen);
    printf("poll a sender whose peer is full: %#x\n", revents(other));
    recv(srv, buf, sizeof buf, 0);
    printf("poll after one read: %#x\n", revents(other));
    while (recv(srv, buf, sizeof buf, MSG_DONTWAIT) > 0) {}

    /* A blocked sender is woken by the receiver's read in another process. */
    fcntl(other, F_SETFL, 0);
    for (int i = 0; i <= qlen; i++) send(other, "f", 1, 0);
    pid_t child = fork();
    if (child == 0) {
        _exit(send(other, "last", 4, 0) == 4 ? 0 : 1);
    }
    int drained = 0;
    while (recv(srv, buf, sizeof buf, 0) > 0) {
        if (++drained == qlen + 2) break;
    }
    int status;
    waitpid(child, &status, 0);
    printf("blocked sender: exit %d, drained qlen+%d\n", WEXITSTATUS(status), drained - qlen);

    /* The peer goes. */
    int a = socket(AF_UNIX, SOCK_DGRAM, 0);
    connect(a, (struct sockaddr *)&sa, slen);
    close(srv);
    result("send to a closed peer", send(a, "x", 1, 0));
    result("send again", send(a, "x", 1, 0));
    result("sendto its path", sendto(anon, "x", 1, 0, (struct sockaddr *)&sa, slen));
    close(a), close(other), close(anon), close(cli);
    unlink(sa.sun_path);
    unlink(xa.sun_path);
    result("rmdir", rmdir(dir));
    return 0;
}
