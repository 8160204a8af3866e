/* AF_INET sockets on loopback: a TCP echo between a forked client and server on an
 * ephemeral port, UDP datagrams, the names getsockname/getpeername/accept/recvfrom give
 * (ports are printed only as "same" or "differs": they change from run to run), shutdown,
 * SIGPIPE, and the errnos of bad addresses, busy ports and refused connections. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void result(const char *what, long r)
{
    if (r < 0) printf("%s: %ld %s\n", what, r, strerror(errno));
    else printf("%s: %ld\n", what, r);
    errno = 0;
}

static struct sockaddr_in loopback(unsigned short port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* A TCP listener on 127.0.0.1 with an ephemeral port, its address in *a. */
static int listener(struct sockaddr_in *a)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    *a = loopback(0);
    socklen_t l = sizeof *a;
    if (bind(s, (struct sockaddr *)a, sizeof *a) || listen(s, 5) || getsockname(s, (struct sockaddr *)a, &l))
        perror("listener");
    return s;
}

static void print_name(const char *what, const struct sockaddr_in *a, socklen_t l, unsigned short port)
{
    char buf[32];
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    printf("%s: len %u family %d addr %s port %s\n", what, (unsigned)l, a->sin_family, buf,
           port ? (ntohs(a->sin_port) == port ? "same" : "differs") : (a->sin_port ? "set" : "0"));
}

static void tcp_echo(void)
{
    struct sockaddr_in a;
    int ls = listener(&a);
    pid_t pid = fork();
    if (pid == 0) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a)) _exit(10);
        char big[100000];
        for (size_t i = 0; i < sizeof big; ++i) big[i] = (char)(i * 7);
        if (write(c, "hello", 5) != 5) _exit(11);
        char buf[64];
        ssize_t n = read(c, buf, sizeof buf);
        if (n != 5 || memcmp(buf, "HELLO", 5)) _exit(12);
        /* a large send goes in whole; the server reads it all back */
        if (send(c, big, sizeof big, 0) != (ssize_t)sizeof big) _exit(13);
        shutdown(c, SHUT_WR);
        n = recv(c, buf, sizeof buf, MSG_WAITALL);
        if (n != 8) _exit(14);
        n = recv(c, buf, sizeof buf, 0); /* the server closed */
        _exit(n == 0 ? 0 : 15);
    }
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    int s = accept(ls, (struct sockaddr *)&peer, &pl);
    result("accept", s >= 0);
    print_name("accept peer", &peer, pl, 0);
    struct sockaddr_in me, gp;
    socklen_t ml = sizeof me, gl = sizeof gp;
    getsockname(s, (struct sockaddr *)&me, &ml);
    print_name("accepted name", &me, ml, ntohs(a.sin_port));
    getpeername(s, (struct sockaddr *)&gp, &gl);
    printf("getpeername is accept's peer: %d\n", gl == pl && !memcmp(&gp, &peer, pl));
    char buf[4096];
    ssize_t n = read(s, buf, sizeof buf);
    result("server read", n);
    for (ssize_t i = 0; i < n; ++i) buf[i] = (char)(buf[i] - 32);
    result("server write", write(s, buf, (size_t)n));
    long total = 0, sum = 0;
    while ((n = recv(s, buf, sizeof buf, 0)) > 0) {
        for (ssize_t i = 0; i < n; ++i) sum += (unsigned char)buf[i];
        total += n;
    }
    printf("server got %ld bytes, sum %ld, then %zd\n", total, sum, n);
    result("send after peer's SHUT_WR", send(s, "goodbye!", 8, 0));
    close(s);
    int st;
    waitpid(pid, &st, 0);
    printf("client exit %d\n", WEXITSTATUS(st));
    struct stat sb;
    fstat(ls, &sb);
    printf("fstat: S_ISSOCK %d\n", S_ISSOCK(sb.st_mode));
    char link[64], target[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", ls);
    ssize_t tl = readlink(link, target, sizeof target - 1);
    target[tl > 0 ? tl : 0] = 0;
    printf("fd link starts socket:[ %d\n", strncmp(target, "socket:[", 8) == 0);
    close(ls);
}

static void udp(void)
{
    int r = socket(AF_INET, SOCK_DGRAM, 0), w = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = loopback(0), from;
    socklen_t l = sizeof a;
    bind(r, (struct sockaddr *)&a, sizeof a);
    getsockname(r, (struct sockaddr *)&a, &l);
    result("sendto", sendto(w, "datagram one", 12, 0, (struct sockaddr *)&a, sizeof a));
    result("sendto", sendto(w, "two", 3, 0, (struct sockaddr *)&a, sizeof a));
    char buf[64];
    socklen_t fl = sizeof from;
    result("recvfrom", recvfrom(r, buf, 4, 0, (struct sockaddr *)&from, &fl));
    struct sockaddr_in wn;
    socklen_t wl = sizeof wn;
    getsockname(w, (struct sockaddr *)&wn, &wl);
    print_name("recvfrom source", &from, fl, ntohs(wn.sin_port));
    struct msghdr m;
    struct iovec iov = {buf, sizeof buf};
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    result("recvmsg", recvmsg(r, &m, 0));
    printf("msg_flags %#x\n", m.msg_flags);
    /* a datagram cut short says so */
    sendto(w, "0123456789", 10, 0, (struct sockaddr *)&a, sizeof a);
    iov.iov_len = 4;
    result("recvmsg short", recvmsg(r, &m, 0));
    printf("msg_flags MSG_TRUNC %d\n", !!(m.msg_flags & MSG_TRUNC));
    sendto(w, "0123456789", 10, 0, (struct sockaddr *)&a, sizeof a);
    result("recv MSG_TRUNC", recv(r, buf, 4, MSG_TRUNC));
    /* connected datagram sockets */
    result("connect", connect(w, (struct sockaddr *)&a, sizeof a));
    result("send", send(w, "abc", 3, 0));
    result("recv", recv(r, buf, sizeof buf, 0));
    struct sockaddr_in p;
    socklen_t pl = sizeof p;
    result("getpeername", getpeername(w, (struct sockaddr *)&p, &pl));
    print_name("udp peer", &p, pl, ntohs(a.sin_port));
    pl = sizeof p;
    result("getpeername unconnected", getpeername(r, (struct sockaddr *)&p, &pl));
    result("recv DONTWAIT empty", recv(r, buf, sizeof buf, MSG_DONTWAIT));
    close(r);
    close(w);
}

static void errnos(void)
{
    struct sockaddr_in a = loopback(0);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    result("bind short", bind(s, (struct sockaddr *)&a, sizeof a - 1));
    struct sockaddr_in6 six;
    memset(&six, 0, sizeof six);
    six.sin6_family = AF_INET6;
    result("bind AF_INET6 on inet", bind(s, (struct sockaddr *)&six, sizeof six));
    a.sin_family = AF_UNIX;
    result("bind AF_UNIX on inet", bind(s, (struct sockaddr *)&a, sizeof a));
    a.sin_family = AF_INET;
    result("bind", bind(s, (struct sockaddr *)&a, sizeof a));
    result("bind again", bind(s, (struct sockaddr *)&a, sizeof a));
    struct sockaddr_in got;
    socklen_t l = sizeof got;
    getsockname(s, (struct sockaddr *)&got, &l);
    int s2 = socket(AF_INET, SOCK_STREAM, 0);
    result("listen", listen(s, 1));
    result("bind in use", bind(s2, (struct sockaddr *)&got, sizeof got));
    close(s);
    /* the port is free now and nobody listens: refused */
    result("connect refused", connect(s2, (struct sockaddr *)&got, sizeof got));
    result("connect short", connect(s2, (struct sockaddr *)&got, 4));
    result("connect len 1", connect(s2, (struct sockaddr *)&got, 1));
    close(s2);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    signal(SIGPIPE, SIG_IGN);
    result("send unconnected", send(t, "x", 1, 0));
    result("send unconnected NOSIGNAL", send(t, "x", 1, MSG_NOSIGNAL));
    result("recv unconnected", recv(t, &got, 1, 0));
    result("accept unlistened", accept(t, NULL, NULL));
    result("shutdown unconnected", shutdown(t, SHUT_RDWR));
    result("shutdown bad how", shutdown(t, 7));
    result("socketpair AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0, 0}));
    result("socket bad type", socket(AF_INET, 9, 0));
    result("socket bad protocol", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
    result("socket AF 99", socket(99, SOCK_STREAM, 0));
    result("socket type 12", socket(AF_INET, 12, 0));
    close(t);
    /* an unprivileged user may not bind a port below 1024 nor open a raw socket */
    pid_t pid = fork();
    if (pid == 0) {
        if (setuid(65534)) _exit(1);
        int u = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in low = loopback(80);
        result("unprivileged bind port 80", bind(u, (struct sockaddr *)&low, sizeof low));
        result("unprivileged raw socket", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("unprivileged child exit %d\n", WEXITSTATUS(st));
}

static void sigpipe(void)
{
    struct sockaddr_in a;
    int ls = listener(&a);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&a, sizeof a);
    int s = accept(ls, NULL, NULL);
    close(s);
    close(ls);
    char buf[8];
    result("read after peer closed", read(c, buf, sizeof buf));
    /* the first send is answered by a reset; a later one is EPIPE with SIGPIPE */
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        for (int i = 0; i < 100; ++i) {
            if (send(c, "x", 1, 0) < 0 && errno != ECONNRESET) _exit(errno);
            usleep(1000);
        }
        _exit(1);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child: signaled %d sig %d\n", WIFSIGNALED(st), WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    close(c);
}

static void options(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), v;
    socklen_t l = sizeof v;
    getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l);
    printf("SO_TYPE %d\n", v);
    getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &l);
    printf("SO_DOMAIN %d\n", v);
    getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &l);
    printf("SO_PROTOCOL %d\n", v);
    v = 1;
    result("SO_REUSEADDR", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
    v = 0;
    getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, &l);
    printf("SO_REUSEADDR %d\n", v);
    v = 1;
    result("TCP_NODELAY", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v));
    getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &l);
    printf("TCP_NODELAY %d\n", v);
    v = 10000;
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &l);
    printf("SO_RCVBUF after 10000: %d\n", v);
    v = 42;
    setsockopt(s, IPPROTO_IP, IP_TTL, &v, sizeof v);
    getsockopt(s, IPPROTO_IP, IP_TTL, &v, &l);
    printf("IP_TTL %d\n", v);
    struct linger lg = {1, 5};
    result("SO_LINGER", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    memset(&lg, 0, sizeof lg);
    l = sizeof lg;
    getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &l);
    printf("SO_LINGER %d %d len %u\n", lg.l_onoff, lg.l_linger, (unsigned)l);
    struct timeval tv = {2, 500000};
    result("SO_RCVTIMEO", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    memset(&tv, 0, sizeof tv);
    l = sizeof tv;
    getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, &l);
    printf("SO_RCVTIMEO %ld.%06ld len %u\n", (long)tv.tv_sec, (long)tv.tv_usec, (unsigned)l);
    tv.tv_usec = 2000000;
    result("SO_RCVTIMEO bad usec", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    result("SO_SNDTIMEO short", setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, 3));
    l = sizeof v;
    result("SO_ERROR", getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &l));
    printf("SO_ERROR %d\n", v);
    result("bad level", setsockopt(s, 12345, 1, &v, sizeof v));
    close(s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    tcp_echo();
    udp();
    errnos();
    sigpipe();
    options();
    return 0;
}
