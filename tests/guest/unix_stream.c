/* Named AF_UNIX stream and seqpacket sockets: bind to a path (the socket file, its mode
 * under the umask, EADDRINUSE, EINVAL for bad lengths and rebinding), abstract names and
 * autobind, listen and its backlog, connect (ENOENT, ECONNREFUSED, EPROTOTYPE, EISCONN,
 * EAGAIN on a full backlog, a blocking connect woken by accept), accept/accept4 (flags,
 * EAGAIN, EINVAL, EINTR), getsockname/getpeername and recvfrom's addresses, SO_PEERCRED
 * (pids printed relative to the test's own), poll on a listener, a listener's close with
 * unaccepted connections, SCM_RIGHTS and seqpacket boundaries over an accepted socket.
 * Server and clients are forked processes; names live in a directory of /tmp (or of
 * argv[1]), so that the socket files are made on tmpfs, the ext2 disk or hostfs. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "unix_common.h"

/* A name's length less the run's directory (or, for an abstract name, the directory's
 * last component), which holds the pid: the same natively and under emu. */
static int rel(const struct sockaddr_un *a, socklen_t len)
{
    return (int)len - (int)strlen(a->sun_path[0] ? dir : strrchr(dir, '/') + 1);
}

static void show_name(const char *what, const struct sockaddr_un *a, socklen_t len, const struct sockaddr_un *expect,
                      socklen_t expect_len)
{
    printf("%s: len %d family %d same %d\n", what, rel(a, len), a->sun_family,
           expect ? len == expect_len && !memcmp(a, expect, len) : -1);
}

static void names(void)
{
    struct sockaddr_un a, b, got;
    socklen_t len, alen = path_addr(&a, "s1");
    int s = socket(AF_UNIX, SOCK_STREAM, 0), t = socket(AF_UNIX, SOCK_STREAM, 0);
    len = sizeof got;
    getsockname(s, (struct sockaddr *)&got, &len);
    printf("unnamed getsockname len %u family %d\n", (unsigned)len, got.sun_family);
    len = sizeof got;
    result("unconnected getpeername", getpeername(s, (struct sockaddr *)&got, &len));
    result("bind len 0", bind(s, (struct sockaddr *)&a, 0));
    result("bind len 1", bind(s, (struct sockaddr *)&a, 1));
    result("bind len 111", bind(s, (struct sockaddr *)&a, 111));
    result("bind len 129", bind(s, (struct sockaddr *)&a, 129));
    result("bind len -1", bind(s, (struct sockaddr *)&a, -1));
    result("bind bad pointer", bind(s, (struct sockaddr *)8, alen));
    a.sun_family = AF_INET;
    result("bind AF_INET family", bind(s, (struct sockaddr *)&a, alen));
    a.sun_family = AF_UNIX;
    path_addr(&b, "nodir/s");
    result("bind in a missing directory", bind(s, (struct sockaddr *)&b, sizeof b));
    result("bind stdout", bind(1, (struct sockaddr *)&a, alen));
    umask(027);
    result("bind path", bind(s, (struct sockaddr *)&a, alen));
    umask(022);
    struct stat st;
    stat(a.sun_path, &st);
    printf("socket file: S_ISSOCK %d mode %o size %ld\n", S_ISSOCK(st.st_mode), st.st_mode & 07777, (long)st.st_size);
    len = sizeof got;
    getsockname(s, (struct sockaddr *)&got, &len);
    show_name("bound getsockname", &got, len, &a, alen);
    len = 5;
    memset(&got, 0x55, sizeof got);
    getsockname(s, (struct sockaddr *)&got, &len);
    printf("short buffer: len %d byte 5 %#x\n", rel(&a, len), ((unsigned char *)&got)[5]);
    result("bind the same path again", bind(t, (struct sockaddr *)&a, alen));
    path_addr(&b, "s2");
    result("rebind a bound socket", bind(s, (struct sockaddr *)&b, sizeof b));
    printf("the new path exists: %d\n", access(b.sun_path, F_OK) == 0);
    result("autobind a bound socket", bind(s, (struct sockaddr *)&b, offsetof(struct sockaddr_un, sun_path)));
    /* A path cut by the length, and one with a NUL before the length. */
    socklen_t blen = path_addr(&b, "s3xyz");
    result("bind a path cut by the length", bind(t, (struct sockaddr *)&b, blen - 4));
    len = sizeof got;
    getsockname(t, (struct sockaddr *)&got, &len);
    printf("cut name: len %d ends %s\n", rel(&got, len), strrchr(got.sun_path, '/') + 1);
    close(t);
    t = socket(AF_UNIX, SOCK_STREAM, 0);
    path_addr(&b, "s4");
    result("bind with the NUL inside the length", bind(t, (struct sockaddr *)&b, sizeof b));
    len = sizeof got;
    getsockname(t, (struct sockaddr *)&got, &len);
    printf("sized name: len %d\n", rel(&got, len));
    close(t);

    /* Abstract names and autobind. */
    int u = socket(AF_UNIX, SOCK_STREAM, 0), v = socket(AF_UNIX, SOCK_STREAM, 0), w = socket(AF_UNIX, SOCK_DGRAM, 0);
    alen = abstract_addr(&b, "abs");
    result("bind abstract", bind(u, (struct sockaddr *)&b, alen));
    result("bind abstract again", bind(v, (struct sockaddr *)&b, alen));
    result("bind abstract with another type", bind(w, (struct sockaddr *)&b, alen));
    len = sizeof got;
    getsockname(u, (struct sockaddr *)&got, &len);
    show_name("abstract getsockname", &got, len, &b, alen);
    result("autobind", bind(v, (struct sockaddr *)&b, offsetof(struct sockaddr_un, sun_path)));
    len = sizeof got;
    getsockname(v, (struct sockaddr *)&got, &len);
    int hex = 1;
    for (int i = 1; i <= 5; i++) hex &= !!strchr("0123456789abcdef", got.sun_path[i]);
    printf("autobound: len %u first byte %d five hex digits %d\n", (unsigned)len, got.sun_path[0], hex);
    close(u);
    u = socket(AF_UNIX, SOCK_STREAM, 0);
    result("bind a released abstract name", bind(u, (struct sockaddr *)&b, alen));
    close(u), close(v), close(w), close(s);
    result("bind a path left by a closed socket", bind(t = socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&a,
                                                       path_addr(&a, "s1")));
    close(t);
}

static int listener(const char *name, int type, int backlog, struct sockaddr_un *a, socklen_t *alen)
{
    int s = socket(AF_UNIX, type, 0);
    *alen = path_addr(a, name);
    if (bind(s, (struct sockaddr *)a, *alen) || listen(s, backlog)) perror("listener");
    return s;
}

static unsigned revents(int fd)
{
    struct pollfd p = {fd, POLLIN | POLLOUT, 0};
    poll(&p, 1, 0);
    return (unsigned short)p.revents;
}

static void connect_errors(void)
{
    struct sockaddr_un a, b;
    socklen_t alen;
    int s = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0);
    result("listen unbound", listen(s, 5));
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    alen = path_addr(&a, "dg");
    bind(d, (struct sockaddr *)&a, alen);
    result("listen on a datagram socket", listen(d, 5));
    result("accept on a datagram socket", accept(d, NULL, NULL));
    result("connect stream to a datagram socket", connect(c, (struct sockaddr *)&a, alen));
    close(d);
    result("connect to a closed socket's file", connect(c, (struct sockaddr *)&a, alen));
    alen = path_addr(&a, "none");
    result("connect to a missing path", connect(c, (struct sockaddr *)&a, alen));
    alen = path_addr(&a, "file");
    close(open(a.sun_path, O_CREAT | O_WRONLY, 0644));
    result("connect to a regular file", connect(c, (struct sockaddr *)&a, alen));
    alen = path_addr(&a, "bound");
    bind(s, (struct sockaddr *)&a, alen);
    result("connect to a bound socket not listening", connect(c, (struct sockaddr *)&a, alen));
    result("accept before listen", accept(s, NULL, NULL));
    result("connect with the family alone", connect(c, (struct sockaddr *)&a, 2));
    result("connect with AF_UNSPEC", connect(c, (struct sockaddr *)&(struct sockaddr){AF_UNSPEC}, sizeof(struct sockaddr)));
    abstract_addr(&b, "nobody");
    result("connect to an unbound abstract name", connect(c, (struct sockaddr *)&b, abstract_addr(&b, "nobody")));
    int st = socket(AF_UNIX, SOCK_STREAM, 0);
    socklen_t blen = abstract_addr(&b, "dgabs");
    int dg = socket(AF_UNIX, SOCK_DGRAM, 0);
    bind(dg, (struct sockaddr *)&b, blen);
    result("connect stream to an abstract datagram name", connect(st, (struct sockaddr *)&b, blen));
    close(st), close(dg);
    printf("poll unconnected stream: %#x\n", revents(c));
    result("listen", listen(s, 1));
    result("listen again with another backlog", listen(s, 0));
    int on = -1;
    socklen_t ol = sizeof on;
    getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol);
    printf("SO_ACCEPTCONN %d\n", on);
    on = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    on = -1;
    getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, &ol);
    printf("SO_REUSEADDR %d\n", on);
    printf("poll idle listener: %#x\n", revents(s));
    fcntl(s, F_SETFL, O_NONBLOCK);
    result("nonblocking accept with none waiting", accept(s, NULL, NULL));
    result("accept4 bad flags", accept4(s, NULL, NULL, 0x100));
    result("connect", connect(c, (struct sockaddr *)&a, alen));
    printf("poll listener with a connection: %#x\n", revents(s));
    printf("poll connected client: %#x\n", revents(c));
    int c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0), c3 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    result("nonblocking connect, backlog 0 and one waiting", connect(c2, (struct sockaddr *)&a, alen));
    int n = accept4(s, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    printf("accept4: ok %d nonblock %d cloexec %d\n", n >= 0, !!(fcntl(n, F_GETFL) & O_NONBLOCK), fcntl(n, F_GETFD));
    result("connect a connected socket", connect(c, (struct sockaddr *)&a, alen));
    result("nonblocking connect after an accept", connect(c2, (struct sockaddr *)&a, alen));
    result("a third waits", connect(c3, (struct sockaddr *)&a, alen));
    /* The listener goes with a connection not accepted: its client sees a reset. */
    close(s);
    char ch;
    result("read after the listener closed", read(c2, &ch, 1));
    result("write after the listener closed", send(c2, "x", 1, MSG_NOSIGNAL));
    result("connect after the listener closed", connect(c3, (struct sockaddr *)&a, alen));
    /* The accepted one is a normal connection. */
    result("write to the accepted", write(c, "hi", 2));
    char buf[8] = {0};
    result("read on the accepted", read(n, buf, sizeof buf));
    printf("data %s\n", buf);
    unlink(a.sun_path);
    result("connect to an unlinked name", connect(c3, (struct sockaddr *)&a, alen));
    close(c), close(c2), close(c3), close(n);
}

static void on_alarm(int sig) { (void)sig; }

static void server_client(void)
{
    struct sockaddr_un a, got;
    socklen_t alen, len;
    int s = listener("srv", SOCK_STREAM, 5, &a, &alen);
    int ready[2];
    pipe(ready);
    pid_t child = fork();
    if (child == 0) {
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, alen)) _exit(1);
        len = sizeof got;
        getpeername(c, (struct sockaddr *)&got, &len);
        int peer_same = len == alen && !memcmp(&got, &a, len);
        struct ucred cr;
        socklen_t cl = sizeof cr;
        getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
        char msg[128];
        int n = snprintf(msg, sizeof msg, "client: peer name same %d, peer pid is parent %d uid %d gid %d", peer_same,
                         cr.pid == getppid(), cr.uid == geteuid(), cr.gid == getegid());
        write(c, msg, n);
        char buf[64] = {0};
        len = sizeof got;
        memset(&got, 0, sizeof got);
        recvfrom(c, buf, sizeof buf - 1, 0, (struct sockaddr *)&got, &len);
        write(ready[1], buf, strlen(buf));
        char note[64];
        n = snprintf(note, sizeof note, " | recvfrom name same %d", len == alen && !memcmp(&got, &a, len));
        write(ready[1], note, n);
        _exit(0);
    }
    close(ready[1]);
    len = sizeof got;
    memset(&got, 0x55, sizeof got);
    int n = accept(s, (struct sockaddr *)&got, &len);
    printf("accept: ok %d peer len %u family %d\n", n >= 0, (unsigned)len, got.sun_family);
    len = sizeof got;
    getsockname(n, (struct sockaddr *)&got, &len);
    show_name("accepted getsockname", &got, len, &a, alen);
    len = sizeof got;
    getpeername(n, (struct sockaddr *)&got, &len);
    printf("accepted getpeername len %u\n", (unsigned)len);
    struct ucred cr;
    socklen_t cl = sizeof cr;
    getsockopt(n, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
    printf("server: peer pid is child %d uid %d gid %d\n", cr.pid == child, cr.uid == geteuid(), cr.gid == getegid());
    getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
    printf("listener's own cred: pid is self %d\n", cr.pid == getpid());
    int lone = socket(AF_UNIX, SOCK_STREAM, 0);
    getsockopt(lone, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
    printf("unconnected cred: pid %d uid %d gid %d\n", cr.pid, (int)cr.uid, (int)cr.gid);
    close(lone);
    char buf[160] = {0};
    len = sizeof got;
    got.sun_family = 99;
    recvfrom(n, buf, sizeof buf - 1, 0, (struct sockaddr *)&got, &len);
    printf("%s\nrecvfrom an unnamed client: len %u\n", buf, (unsigned)len);
    write(n, "pong", 4);
    int status;
    waitpid(child, &status, 0);
    memset(buf, 0, sizeof buf);
    read(ready[0], buf, sizeof buf - 1);
    printf("client got: %s, exit %d\n", buf, WEXITSTATUS(status));
    close(ready[0]), close(n);

    /* A blocking accept woken by a connect, then one interrupted by a signal. */
    child = fork();
    if (child == 0) {
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        _exit(connect(c, (struct sockaddr *)&a, alen) ? 1 : 0);
    }
    n = accept(s, NULL, NULL);
    waitpid(child, &status, 0);
    printf("blocking accept: ok %d, client exit %d\n", n >= 0, WEXITSTATUS(status));
    close(n);
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
    result("accept interrupted", accept(s, NULL, NULL));
    close(s);

    /* A blocking connect waits for room in the backlog until accept makes it. */
    s = listener("bl", SOCK_STREAM, 0, &a, &alen);
    child = fork();
    if (child == 0) {
        int c1 = socket(AF_UNIX, SOCK_STREAM, 0), c2 = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(c1, (struct sockaddr *)&a, alen)) _exit(1);
        if (connect(c2, (struct sockaddr *)&a, alen)) _exit(2);
        write(c2, "2", 1);
        write(c1, "1", 1);
        _exit(0);
    }
    int n1 = accept(s, NULL, NULL), n2 = accept(s, NULL, NULL);
    char x = 0, y = 0;
    read(n1, &x, 1), read(n2, &y, 1);
    waitpid(child, &status, 0);
    printf("backlog 0, two connects: first %c second %c exit %d\n", x, y, WEXITSTATUS(status));
    close(n1), close(n2), close(s);
}

static void rights_and_seqpacket(void)
{
    struct sockaddr_un a;
    socklen_t alen;
    int s = listener("sp", SOCK_SEQPACKET, 5, &a, &alen);
    int c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    result("seqpacket connect", connect(c, (struct sockaddr *)&a, alen));
    int n = accept(s, NULL, NULL);
    send(c, "one", 3, 0);
    send(c, "three", 5, 0);
    char buf[16] = {0};
    long r = recv(n, buf, 2, 0);
    printf("seqpacket: %ld %.2s", r, buf);
    r = recv(n, buf, sizeof buf, 0);
    printf(" then %ld %.5s\n", r, buf);
    int ds = socket(AF_UNIX, SOCK_DGRAM, 0);
    result("datagram connect to a seqpacket listener", connect(ds, (struct sockaddr *)&a, alen));
    int sc = socket(AF_UNIX, SOCK_STREAM, 0);
    result("stream connect to a seqpacket listener", connect(sc, (struct sockaddr *)&a, alen));
    close(ds), close(sc), close(c), close(n), close(s);

    /* A pipe's read end through an accepted stream. */
    s = listener("rights", SOCK_STREAM, 5, &a, &alen);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&a, alen);
    n = accept(s, NULL, NULL);
    int p[2];
    pipe(p);
    char cbuf[CMSG_SPACE(sizeof(int))] = {0};
    struct iovec iov = {"f", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET, cm->cmsg_type = SCM_RIGHTS, cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &p[0], sizeof(int));
    result("sendmsg SCM_RIGHTS", sendmsg(n, &m, 0));
    close(p[0]);
    memset(cbuf, 0, sizeof cbuf);
    char f;
    iov.iov_base = &f;
    r = recvmsg(c, &m, 0);
    int got = -1;
    if (CMSG_FIRSTHDR(&m)) memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof got);
    write(p[1], "via", 3);
    memset(buf, 0, sizeof buf);
    read(got, buf, 3);
    printf("recvmsg %ld, through the passed pipe: %s\n", r, buf);
    close(got), close(p[1]), close(c), close(n), close(s);
}

/* The names live in DIR/<basename(argv[0])>.<pid>, DIR being argv[1] or /tmp. */
int main(int argc, char **argv)
{
    if (argc > 1) mkdir(argv[1], 0755);  /* ext2-write-check's tree: left empty */
    if (make_run_dir(argc > 1 ? argv[1] : "/tmp", argv[0])) {
        perror("mkdir");
        return 1;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    names();
    connect_errors();
    server_client();
    rights_and_seqpacket();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "%s", dir);
    const char *files[] = {"s1", "s2", "s3", "s4", "dg", "file", "bound", "srv", "bl", "sp", "rights", NULL};
    for (int i = 0; files[i]; i++) {
        char p[300];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    result("rmdir", rmdir(cmd));
    return 0;
}
