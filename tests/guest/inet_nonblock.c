/* AF_INET sockets that must not block emu: non-blocking connect then poll, accept and
 * recv with O_NONBLOCK/SOCK_NONBLOCK/FIONBIO/MSG_DONTWAIT giving EAGAIN, epoll on a
 * listener and a connection, FIONREAD/SIOCOUTQ, SO_RCVTIMEO ending a recv with EAGAIN, a
 * signal ending a blocking accept with EINTR, and a blocked reader woken by a forked
 * writer. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* linux/sockios.h's, which musl does not ship */
#ifndef SIOCINQ
#define SIOCINQ FIONREAD
#endif
#ifndef SIOCOUTQ
#define SIOCOUTQ TIOCOUTQ
#endif

static void result(const char *what, long r)
{
    if (r < 0) printf("%s: %ld %s\n", what, r, strerror(errno));
    else printf("%s: %ld\n", what, r);
    errno = 0;
}

static int listener(struct sockaddr_in *a, int flags)
{
    int s = socket(AF_INET, SOCK_STREAM | flags, 0);
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof *a;
    if (bind(s, (struct sockaddr *)a, sizeof *a) || listen(s, 5) || getsockname(s, (struct sockaddr *)a, &l))
        perror("listener");
    return s;
}

static void on_alarm(int sig) { (void)sig; }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sockaddr_in a;
    int ls = listener(&a, SOCK_NONBLOCK);
    result("accept nonblocking, none waiting", accept(ls, NULL, NULL));
    struct pollfd p = {ls, POLLIN, 0};
    result("poll listener, none waiting", poll(&p, 1, 0));

    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int r = connect(c, (struct sockaddr *)&a, sizeof a);
    printf("nonblocking connect: %s\n", r == 0 ? "0" : errno == EINPROGRESS ? "EINPROGRESS" : strerror(errno));
    p = (struct pollfd){c, POLLOUT, 0};
    result("poll connecting for POLLOUT", poll(&p, 1, 5000));
    printf("revents %#x\n", p.revents);
    int err = -1;
    socklen_t l = sizeof err;
    getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &l);
    printf("SO_ERROR after connect %d\n", err);
    result("connect again", connect(c, (struct sockaddr *)&a, sizeof a));

    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7}, out[4];
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    result("epoll_wait listener", epoll_wait(ep, out, 4, 5000));
    printf("event %#x data %u\n", out[0].events, out[0].data.u32);
    int s = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
    result("accept4", s >= 0);
    printf("accepted O_NONBLOCK %d\n", !!(fcntl(s, F_GETFL) & O_NONBLOCK));
    result("accept again", accept(ls, NULL, NULL));
    char buf[256];
    result("recv nothing yet", recv(s, buf, sizeof buf, 0));
    ev = (struct epoll_event){.events = EPOLLIN | EPOLLET, .data.u32 = 9};
    epoll_ctl(ep, EPOLL_CTL_DEL, ls, NULL);
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    result("epoll_wait nothing", epoll_wait(ep, out, 4, 0));
    result("write", write(c, "0123456789", 10));
    result("epoll_wait data", epoll_wait(ep, out, 4, 5000));
    printf("event %#x data %u\n", out[0].events, out[0].data.u32);
    int n = -1;
    result("FIONREAD", ioctl(s, FIONREAD, &n));
    printf("FIONREAD %d\n", n);
    result("recv 4", recv(s, buf, 4, 0));
    ioctl(s, SIOCINQ, &n);
    printf("SIOCINQ %d\n", n);
    result("recv rest", recv(s, buf, sizeof buf, 0));
    result("recv drained", recv(s, buf, sizeof buf, 0));
    ioctl(c, SIOCOUTQ, &n);
    printf("SIOCOUTQ %d\n", n);
    result("write again", write(c, "ab", 2));
    result("epoll_wait edge again", epoll_wait(ep, out, 4, 5000));

    /* blocking again: FIONBIO off, then fcntl on and off */
    int off = 0, on = 1;
    result("FIONBIO off", ioctl(s, FIONBIO, &off));
    printf("O_NONBLOCK %d\n", !!(fcntl(s, F_GETFL) & O_NONBLOCK));
    result("recv blocking with data", recv(s, buf, sizeof buf, 0));
    ioctl(s, FIONBIO, &on);
    result("recv after FIONBIO on", recv(s, buf, sizeof buf, 0));
    fcntl(s, F_SETFL, 0);
    result("recv MSG_DONTWAIT", recv(s, buf, sizeof buf, MSG_DONTWAIT));

    /* SO_RCVTIMEO ends a blocking recv with EAGAIN */
    struct timeval tv = {0, 50000};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    result("recv with SO_RCVTIMEO", recv(s, buf, sizeof buf, 0));
    tv.tv_usec = 0;
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    /* a blocked reader is woken by a forked writer, many times */
    pid_t pid = fork();
    if (pid == 0) {
        fcntl(c, F_SETFL, 0);
        for (int i = 0; i < 50; ++i) {
            usleep(200);
            if (write(c, "z", 1) != 1) _exit(1);
        }
        _exit(0);
    }
    int got = 0;
    while (got < 50) {
        ssize_t k = read(s, buf, sizeof buf);
        if (k <= 0) break;
        got += (int)k;
    }
    int st;
    waitpid(pid, &st, 0);
    printf("reader got %d bytes, writer exit %d\n", got, WEXITSTATUS(st));

    /* a signal ends a blocking accept (no SA_RESTART): EINTR */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    fcntl(ls, F_SETFL, 0);
    struct itimerval it = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    result("accept interrupted", accept(ls, NULL, NULL));
    /* with SA_RESTART the accept goes on and takes the connection that comes */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    pid = fork();
    if (pid == 0) {
        usleep(200000);
        int k = socket(AF_INET, SOCK_STREAM, 0);
        _exit(connect(k, (struct sockaddr *)&a, sizeof a) ? 1 : 0);
    }
    setitimer(ITIMER_REAL, &it, NULL);
    int s2 = accept(ls, NULL, NULL);
    result("accept restarted", s2 >= 0);
    waitpid(pid, &st, 0);
    printf("connector exit %d\n", WEXITSTATUS(st));

    /* the peer's close: POLLIN and end of file, then POLLHUP after our shutdown */
    close(c);
    p = (struct pollfd){s, POLLIN | POLLOUT | POLLRDHUP, 0};
    result("poll after peer close", poll(&p, 1, 5000));
    printf("revents %#x\n", p.revents);
    result("read end", read(s, buf, sizeof buf));
    shutdown(s, SHUT_WR);
    p.revents = 0;
    poll(&p, 1, 5000);
    printf("revents after shutdown %#x\n", p.revents);
    return 0;
}
