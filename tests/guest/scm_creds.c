/* SCM_CREDENTIALS on AF_UNIX (net/core/scm.c, net/unix/af_unix.c): a receiver with
 * SO_PASSCRED gets the sender's pid, uid and gid, or what a sender claimed and may claim
 * (EINVAL, EPERM, ESRCH otherwise); the credentials come before SCM_RIGHTS; a short control
 * buffer is MSG_CTRUNC; a stream read never glues the bytes of two writers while
 * SO_PASSCRED is on; an unbound sender with SO_PASSCRED is autobound. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e)
{
    switch (e) {
    case 0: return "0";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case ESRCH: return "ESRCH";
    default: return "other";
    }
}

static pid_t helper;
static int claim_socket;

static const char *who(pid_t pid)
{
    static char buf[32];
    if (pid == getpid()) return "self";
    if (pid == helper) return "child";
    snprintf(buf, sizeof buf, "%d", (int)pid);
    return buf;
}

/* Sends one byte with an optional SCM_CREDENTIALS claim (len: its cmsg_len) and SCM_RIGHTS fd. */
static int send_with(int s, const struct ucred *claim, size_t len, int fd)
{
    char c = 'x';
    struct iovec iov = {&c, 1};
    union {
        char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = u.buf;
    size_t used = 0;
    struct cmsghdr *cm = (struct cmsghdr *)u.buf;
    if (claim) {
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_CREDENTIALS;
        cm->cmsg_len = len;
        memcpy(CMSG_DATA(cm), claim, sizeof *claim);
        used += CMSG_SPACE(sizeof *claim);
        cm = (struct cmsghdr *)(u.buf + used);
    }
    if (fd >= 0) {
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof fd);
        used += CMSG_SPACE(sizeof(int));
    }
    m.msg_controllen = used;
    if (!used) m.msg_control = NULL;
    errno = 0;
    return (int)sendmsg(s, &m, 0);
}

/* Sends with a claim and prints the result with its errno. */
static void claim(const char *label, const struct ucred *c, size_t len)
{
    int r = send_with(claim_socket, c, len, -1);
    printf("%s: %d %s\n", label, r, ename(r < 0 ? errno : 0));
}

/* Receives up to n bytes and prints what the control messages say. */
static void recv_show(int s, size_t n, size_t controllen, const char *label)
{
    char data[64] = {0};
    struct iovec iov = {data, n};
    union {
        char buf[256];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = controllen ? u.buf : NULL;
    m.msg_controllen = controllen;
    ssize_t r = recvmsg(s, &m, 0);
    printf("%s: %zd '%s' controllen %zu%s", label, r, r > 0 ? data : "", (size_t)m.msg_controllen,
           (m.msg_flags & MSG_CTRUNC) ? " CTRUNC" : "");
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
        if (cm->cmsg_type == SCM_CREDENTIALS && cm->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
            struct ucred cr;
            memcpy(&cr, CMSG_DATA(cm), sizeof cr);
            printf(" [creds pid %s uid %u gid %u]", who(cr.pid), (unsigned)cr.uid, (unsigned)cr.gid);
        } else if (cm->cmsg_type == SCM_CREDENTIALS) {
            printf(" [creds cut to %zu]", (size_t)cm->cmsg_len);
        } else if (cm->cmsg_type == SCM_RIGHTS) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm), sizeof fd);
            printf(" [rights, a new fd %d]", fd > 2);
            close(fd);
        }
    }
    printf("\n");
}

static void datagrams(void)
{
    int s[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, s);
    send_with(s[0], NULL, 0, -1);
    recv_show(s[1], 8, 256, "no SO_PASSCRED");
    int one = 1, v = 0;
    socklen_t vl = sizeof v;
    setsockopt(s[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    getsockopt(s[1], SOL_SOCKET, SO_PASSCRED, &v, &vl);
    printf("SO_PASSCRED reads %d\n", v);
    send_with(s[0], NULL, 0, -1);
    recv_show(s[1], 8, 256, "implicit");
    struct ucred me = {getpid(), getuid(), getgid()};
    claim_socket = s[0];
    claim("claim self", &me, CMSG_LEN(sizeof me));
    recv_show(s[1], 8, 256, "claimed self");
    helper = fork();
    if (helper == 0) {
        pause();
        _exit(0);
    }
    struct ucred other = {helper, 12, 34};
    claim("claim another process, 12, 34 (root)", &other, CMSG_LEN(sizeof other));
    recv_show(s[1], 8, 256, "claimed");
    kill(helper, SIGKILL);
    waitpid(helper, NULL, 0);
    struct ucred nobody = {999999, 0, 0};
    claim("claim no such pid", &nobody, CMSG_LEN(sizeof nobody));
    struct ucred bad = {getpid(), (uid_t)-1, 0};
    claim("claim uid -1", &bad, CMSG_LEN(sizeof bad));
    claim("claim with a short cmsg_len", &me, CMSG_LEN(sizeof me) - 1);
    send_with(s[0], &me, CMSG_LEN(sizeof me), 0);
    recv_show(s[1], 8, 256, "creds and rights");
    send_with(s[0], NULL, 0, -1);
    recv_show(s[1], 8, sizeof(struct cmsghdr), "header-sized control");
    send_with(s[0], NULL, 0, -1);
    recv_show(s[1], 8, 0, "no control");
    send_with(s[0], NULL, 0, 0);
    recv_show(s[1], 8, CMSG_SPACE(sizeof(struct ucred)), "room for creds only");

    pid_t pid = fork();
    if (pid == 0) {
        setgid(65534);
        setuid(65534);
        struct ucred root = {getpid(), 0, 0};
        int a = send_with(s[0], &root, CMSG_LEN(sizeof root), -1) < 0 ? errno : 0;
        struct ucred parent = {getppid(), 65534, 65534};
        int b = send_with(s[0], &parent, CMSG_LEN(sizeof parent), -1) < 0 ? errno : 0;
        struct ucred own = {getpid(), 65534, 65534};
        int c = send_with(s[0], &own, CMSG_LEN(sizeof own), -1) < 0 ? errno : 0;
        printf("unprivileged: uid 0 %s, parent's pid %s, own %s\n", ename(a), ename(b), ename(c));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    helper = pid;
    recv_show(s[1], 8, 256, "from the unprivileged child");
    close(s[0]);
    close(s[1]);
}

static void streams(int passcred)
{
    int s[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, s);
    setsockopt(s[1], SOL_SOCKET, SO_PASSCRED, &passcred, sizeof passcred);
    write(s[0], "ab", 2);
    write(s[0], "cd", 2);
    pid_t pid = fork();
    if (pid == 0) {
        write(s[0], "ef", 2);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    helper = pid;
    close(s[0]);
    recv_show(s[1], 10, 256, passcred ? "stream read 1" : "stream read, no SO_PASSCRED");
    if (passcred) recv_show(s[1], 10, 256, "stream read 2");
    close(s[1]);
}

static void autobind(void)
{
    struct sockaddr_un a = {AF_UNIX, {0}};
    int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "emu-scm-%d", getpid());
    socklen_t alen = (socklen_t)(sizeof(sa_family_t) + 1 + n);
    int r = socket(AF_UNIX, SOCK_DGRAM, 0);
    bind(r, (struct sockaddr *)&a, alen);
    for (int passcred = 0; passcred < 2; passcred++) {
        int s = socket(AF_UNIX, SOCK_DGRAM, 0);
        setsockopt(s, SOL_SOCKET, SO_PASSCRED, &passcred, sizeof passcred);
        sendto(s, "x", 1, 0, (struct sockaddr *)&a, alen);
        struct sockaddr_un from;
        socklen_t flen = sizeof from;
        char c;
        recvfrom(r, &c, 1, 0, (struct sockaddr *)&from, &flen);
        printf("sender with SO_PASSCRED %d: name length %u abstract %d\n", passcred, (unsigned)flen,
               flen > sizeof(sa_family_t) && from.sun_path[0] == 0);
        close(s);
    }
    close(r);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    datagrams();
    streams(1);
    streams(0);
    autobind();
    return 0;
}
