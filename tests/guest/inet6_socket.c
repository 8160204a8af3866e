/* AF_INET6 on the loopback ::1: a TCP exchange between a forked client and server, a UDP
 * datagram with its source, the names (ports printed only as "same"), and the errnos of
 * IPv6 addresses given with the wrong length or family. Exits 77 (skipped) when the
 * machine has no IPv6 loopback, natively and under emu alike. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void result(const char *what, long r)
{
    if (r < 0) printf("%s: %ld %s\n", what, r, strerror(errno));
    else printf("%s: %ld\n", what, r);
    errno = 0;
}

static void print_name(const char *what, const struct sockaddr_in6 *a, socklen_t l, unsigned short port)
{
    char buf[64];
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    printf("%s: len %u family %d addr %s port %s\n", what, (unsigned)l, a->sin6_family, buf,
           ntohs(a->sin6_port) == port ? "same" : "differs");
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    int ls = socket(AF_INET6, SOCK_STREAM, 0);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a)) return 77;
    socklen_t l = sizeof a;
    listen(ls, 5);
    getsockname(ls, (struct sockaddr *)&a, &l);
    print_name("listener", &a, l, ntohs(a.sin6_port));
    pid_t pid = fork();
    if (pid == 0) {
        int c = socket(AF_INET6, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a)) _exit(10);
        char buf[16];
        if (write(c, "ping6", 5) != 5 || read(c, buf, sizeof buf) != 5 || memcmp(buf, "pong6", 5)) _exit(11);
        _exit(0);
    }
    struct sockaddr_in6 peer;
    socklen_t pl = sizeof peer;
    int s = accept(ls, (struct sockaddr *)&peer, &pl);
    char buf[64];
    inet_ntop(AF_INET6, &peer.sin6_addr, buf, sizeof buf);
    printf("accept peer: len %u family %d addr %s\n", (unsigned)pl, peer.sin6_family, buf);
    result("read", read(s, buf, sizeof buf));
    result("write", write(s, "pong6", 5));
    int st;
    waitpid(pid, &st, 0);
    printf("client exit %d\n", WEXITSTATUS(st));
    close(s);

    int u = socket(AF_INET6, SOCK_DGRAM, 0), w = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 ua = a, from, wn;
    ua.sin6_port = 0;
    bind(u, (struct sockaddr *)&ua, sizeof ua);
    l = sizeof ua;
    getsockname(u, (struct sockaddr *)&ua, &l);
    result("sendto", sendto(w, "dgram6", 6, 0, (struct sockaddr *)&ua, sizeof ua));
    socklen_t fl = sizeof from;
    result("recvfrom", recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
    socklen_t wl = sizeof wn;
    getsockname(w, (struct sockaddr *)&wn, &wl);
    print_name("source", &from, fl, ntohs(wn.sin6_port));

    int t = socket(AF_INET6, SOCK_STREAM, 0);
    result("bind short", bind(t, (struct sockaddr *)&a, sizeof(struct sockaddr_in)));
    struct sockaddr_in four = {.sin_family = AF_INET};
    result("bind AF_INET on inet6", bind(t, (struct sockaddr *)&four, sizeof a));
    result("connect short", connect(t, (struct sockaddr *)&a, 8));
    int v = -1;
    l = sizeof v;
    getsockopt(t, SOL_SOCKET, SO_DOMAIN, &v, &l);
    printf("SO_DOMAIN %d\n", v);
    getsockopt(t, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l);
    printf("IPV6_V6ONLY %d\n", v);
    return 0;
}
