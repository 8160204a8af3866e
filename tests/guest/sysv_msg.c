/* System V message queues: msgget's rules, msgsnd's and msgrcv's checks, the msgtyp rules
 * (any, equal, MSG_EXCEPT, lowest up to -msgtyp), E2BIG and MSG_NOERROR, IPC_NOWAIT on an
 * empty and a full queue, MSG_COPY, IPC_STAT's counts, IPC_SET of the queue's bytes, waits
 * ended by another process's send, receive and IPC_RMID (EIDRM), and EINTR. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

struct msgbuf_ {
    long mtype;
    char mtext[256];
};

static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }

static void send(int q, long type, const char *text)
{
    struct msgbuf_ m;
    m.mtype = type;
    strcpy(m.mtext, text);
    if (msgsnd(q, &m, strlen(text) + 1, 0) < 0) printf("msgsnd %ld: %s\n", type, strerror(errno));
}

static void recv(int q, long type, int flags, size_t size)
{
    struct msgbuf_ m;
    memset(&m, 0, sizeof m);
    errno = 0;
    long r = msgrcv(q, &m, size, type, flags);
    if (r < 0) printf("msgrcv %ld: %s\n", type, strerror(errno));
    else printf("msgrcv %ld: %ld bytes type %ld '%.*s'\n", type, r, m.mtype, (int)r, m.mtext);
}

static void later(void)
{
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
}

static void on_usr1(int sig) { (void)sig; }

int main(void)
{
    key_t key = 0x6d000000 | (getpid() & 0xffffff);
    struct msqid_ds ds;
    struct msgbuf_ m;

    errno = 0;
    printf("absent key: %s\n", err(msgget(key, 0600)));
    int kq = msgget(key, IPC_CREAT | 0600);
    printf("create: %s, again same %d\n", err(kq), msgget(key, 0) == kq);
    errno = 0;
    printf("IPC_EXCL: %s\n", err(msgget(key, IPC_CREAT | IPC_EXCL | 0600)));
    msgctl(kq, IPC_RMID, NULL);

    int q = msgget(IPC_PRIVATE, 0600);
    msgctl(q, IPC_STAT, &ds);
    printf("new: qnum %lu cbytes %lu qbytes > 0 %d lspid %d lrpid %d stime %ld mode %o\n", (unsigned long)ds.msg_qnum,
           (unsigned long)ds.__msg_cbytes, ds.msg_qbytes > 0, ds.msg_lspid, ds.msg_lrpid, (long)ds.msg_stime,
           ds.msg_perm.mode);

    m.mtype = 0;
    errno = 0;
    printf("mtype 0: %s\n", err(msgsnd(q, &m, 4, 0)));
    m.mtype = 1;
    errno = 0;
    printf("size 8193: %s\n", err(msgsnd(q, &m, 8193, 0)));
    errno = 0;
    printf("negative size: %s\n", err(msgsnd(q, &m, (size_t)-1, 0)));
    errno = 0;
    printf("bad queue: %s\n", err(msgsnd(q + 1000000, &m, 4, 0)));
    errno = 0;
    printf("bad buffer: %s\n", err(msgsnd(q, (void *)8, 4, 0)));
    errno = 0;
    printf("zero-length message: %s\n", err(msgsnd(q, &m, 0, 0)));
    recv(q, 0, 0, 16);

    send(q, 3, "three");
    send(q, 1, "one");
    send(q, 2, "two");
    send(q, 5, "five");
    send(q, 1, "one again");
    msgctl(q, IPC_STAT, &ds);
    printf("queued: qnum %lu cbytes %lu lspid ok %d stime set %d\n", (unsigned long)ds.msg_qnum,
           (unsigned long)ds.__msg_cbytes, ds.msg_lspid == getpid(), ds.msg_stime > 0);

    recv(q, 0, 0, 256);              /* the first: three */
    recv(q, 2, 0, 256);              /* type 2 */
    recv(q, 5, MSG_EXCEPT, 256);     /* the first not of type 5: one */
    recv(q, -4, IPC_NOWAIT, 256);    /* the lowest type up to 4: one again */
    recv(q, 5, 0, 2);                /* too small: E2BIG, it stays */
    recv(q, 5, MSG_NOERROR, 2);      /* truncated to 2 bytes */
    recv(q, 0, IPC_NOWAIT, 256);     /* empty: ENOMSG */
    recv(q, 7, IPC_NOWAIT, 256);
    msgctl(q, IPC_STAT, &ds);
    printf("drained: qnum %lu cbytes %lu lrpid ok %d rtime set %d\n", (unsigned long)ds.msg_qnum,
           (unsigned long)ds.__msg_cbytes, ds.msg_lrpid == getpid(), ds.msg_rtime > 0);

    /* MSG_COPY: a copy of the n-th message, which stays queued. */
    send(q, 8, "eight");
    send(q, 9, "nine");
    recv(q, 1, MSG_COPY | IPC_NOWAIT, 256);
    recv(q, 5, MSG_COPY | IPC_NOWAIT, 256);
    recv(q, 0, MSG_COPY, 256);
    recv(q, 0, MSG_COPY | MSG_EXCEPT | IPC_NOWAIT, 256);
    msgctl(q, IPC_STAT, &ds);
    printf("after copies: qnum %lu\n", (unsigned long)ds.msg_qnum);
    recv(q, 0, 0, 256);
    recv(q, 0, 0, 256);
    errno = 0;
    printf("negative buffer size: %s\n", err(msgrcv(q, &m, (size_t)-1, 0, IPC_NOWAIT)));
    errno = 0;
    printf("bad queue: %s\n", err(msgrcv(-1, &m, 16, 0, IPC_NOWAIT)));

    /* A small queue: the second message does not fit. */
    msgctl(q, IPC_STAT, &ds);
    ds.msg_qbytes = 100;
    printf("IPC_SET qbytes 100: %s\n", err(msgctl(q, IPC_SET, &ds)));
    memset(m.mtext, 'x', 60);
    m.mtype = 4;
    printf("60 bytes: %s\n", err(msgsnd(q, &m, 60, IPC_NOWAIT)));
    errno = 0;
    printf("60 more: %s\n", err(msgsnd(q, &m, 60, IPC_NOWAIT)));

    /* A send that waits for another process's receive. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        later();
        struct msgbuf_ c;
        msgrcv(q, &c, 256, 4, 0);
        _exit(0);
    }
    printf("blocking send: %s\n", err(msgsnd(q, &m, 60, 0)));
    waitpid(pid, NULL, 0);
    recv(q, 4, IPC_NOWAIT, 2);
    recv(q, 4, IPC_NOWAIT | MSG_NOERROR, 3);

    /* A receive that waits for another process's send. */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        later();
        send(q, 42, "from the child");
        _exit(0);
    }
    recv(q, 42, 0, 256);
    waitpid(pid, NULL, 0);

    /* EINTR from a handler without SA_RESTART. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        later();
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    recv(q, 43, 0, 256);
    waitpid(pid, NULL, 0);

    /* IPC_RMID wakes a waiting receiver with EIDRM. */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        later();
        msgctl(q, IPC_RMID, NULL);
        _exit(0);
    }
    recv(q, 44, 0, 256);
    waitpid(pid, NULL, 0);
    errno = 0;
    printf("IPC_STAT after IPC_RMID: %s\n", err(msgctl(q, IPC_STAT, &ds)));
    errno = 0;
    printf("msgsnd after IPC_RMID: %s\n", err(msgsnd(q, &m, 1, 0)));
    errno = 0;
    printf("bad cmd: %s\n", err(msgctl(0, 99, &ds)));
    struct msginfo info;
    printf("IPC_INFO: %d\n", msgctl(0, IPC_INFO, (struct msqid_ds *)&info) >= 0);
    return 0;
}
