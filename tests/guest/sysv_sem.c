/* System V semaphores: semget's rules, semop's checks and atomicity (all or nothing, in
 * order), IPC_NOWAIT, ERANGE, SETVAL/GETVAL/SETALL/GETALL/GETPID, GETNCNT and GETZCNT of
 * waiters in another process, waits for zero and for an increase ended by another process,
 * a semtimedop timeout, EINTR, IPC_RMID waking a sleeper with EIDRM, and SEM_UNDO applied
 * when a process exits. Ids and keys differ between runs; only relations are printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }

static int op(int id, unsigned short num, short delta, short flg)
{
    struct sembuf b = {num, delta, flg};
    errno = 0;
    return semop(id, &b, 1);
}

static void later(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void show(int id, const char *what)
{
    unsigned short v[3];
    union semun u = {.array = v};
    semctl(id, 0, GETALL, u);
    printf("%s: %u %u %u\n", what, v[0], v[1], v[2]);
}

static void on_usr1(int sig) { (void)sig; }

int main(void)
{
    key_t key = 0x73000000 | (getpid() & 0xffffff);
    union semun u;
    struct semid_ds ds;

    errno = 0;
    printf("nsems 0 new: %s\n", err(semget(IPC_PRIVATE, 0, 0600)));
    errno = 0;
    printf("nsems -1: %s\n", err(semget(IPC_PRIVATE, -1, 0600)));
    errno = 0;
    printf("nsems 32001: %s\n", err(semget(IPC_PRIVATE, 32001, 0600)));
    errno = 0;
    printf("absent key: %s\n", err(semget(key, 1, 0600)));
    int kid = semget(key, 2, IPC_CREAT | 0600);
    printf("create: %s same again %d\n", err(kid), semget(key, 0, 0) == kid);
    errno = 0;
    printf("more than it has: %s\n", err(semget(key, 3, 0)));
    errno = 0;
    printf("IPC_EXCL: %s\n", err(semget(key, 2, IPC_CREAT | IPC_EXCL | 0600)));
    semctl(kid, 0, IPC_RMID);

    int id = semget(IPC_PRIVATE, 3, 0600);
    u.buf = &ds;
    semctl(id, 0, IPC_STAT, u);
    printf("new: nsems %lu otime %ld ctime set %d mode %o\n", (unsigned long)ds.sem_nsems, (long)ds.sem_otime,
           ds.sem_ctime > 0, ds.sem_perm.mode);
    show(id, "initial");

    /* SETVAL, GETVAL, GETPID and their checks. */
    u.val = 5;
    printf("SETVAL 5: %s\n", err(semctl(id, 1, SETVAL, u)));
    printf("GETVAL: %d GETPID ok %d\n", semctl(id, 1, GETVAL), semctl(id, 1, GETPID) == getpid());
    u.val = 32768;
    errno = 0;
    printf("SETVAL 32768: %s\n", err(semctl(id, 1, SETVAL, u)));
    u.val = -1;
    errno = 0;
    printf("SETVAL -1: %s\n", err(semctl(id, 1, SETVAL, u)));
    u.val = 1;
    errno = 0;
    printf("SETVAL semnum 3: %s\n", err(semctl(id, 3, SETVAL, u)));
    errno = 0;
    printf("GETVAL semnum -1: %s\n", err(semctl(id, -1, GETVAL)));
    errno = 0;
    printf("bad cmd: %s\n", err(semctl(id, 0, 99)));
    errno = 0;
    printf("bad id: %s\n", err(semctl(id + 1000000, 0, GETVAL)));

    /* semop's checks. */
    struct sembuf two[2] = {{0, 1, 0}, {2, -1, IPC_NOWAIT}};
    errno = 0;
    printf("nsops 0: %s\n", err(semop(id, two, 0)));
    errno = 0;
    printf("semnum 3: %s\n", err(op(id, 3, 1, 0) < 0 ? -1 : 0));
    errno = 0;
    printf("bad sops: %s\n", err(semop(id, (void *)8, 1)));
    errno = 0;
    printf("bad id: %s\n", err(semop(-1, two, 1)));
    struct sembuf many[501];
    memset(many, 0, sizeof many);
    errno = 0;
    printf("nsops 501: %s\n", err(semop(id, many, 501)));

    /* All or nothing: the second operation would block, so the first is not applied. */
    errno = 0;
    printf("atomic with IPC_NOWAIT: %s\n", err(semop(id, two, 2)));
    show(id, "unchanged");
    two[1].sem_op = 0;
    printf("wait-for-zero of a zero: %s\n", err(semop(id, two, 2)));
    show(id, "applied");
    printf("ERANGE: %s\n", err(op(id, 1, 32767, 0)));
    printf("decrement below zero, nowait: %s\n", err(op(id, 2, -1, IPC_NOWAIT)));
    printf("wait for zero of 1, nowait: %s\n", err(op(id, 0, 0, IPC_NOWAIT)));
    struct sembuf dup[2] = {{2, 2, 0}, {2, -1, 0}};
    printf("two ops on one semaphore: %s\n", err(semop(id, dup, 2)));
    show(id, "after dup");
    semctl(id, 0, IPC_STAT, (union semun){.buf = &ds});
    printf("otime set %d\n", ds.sem_otime > 0);

    /* SETALL and its range check. */
    unsigned short all[3] = {0, 0, 0};
    u.array = all;
    printf("SETALL: %s\n", err(semctl(id, 0, SETALL, u)));
    show(id, "zeroed");
    all[1] = 40000;
    errno = 0;
    printf("SETALL 40000: %s\n", err(semctl(id, 0, SETALL, u)));

    /* A waiter for an increase in another process: GETNCNT sees it, a post wakes it. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int r = op(id, 0, -1, 0);
        printf("child woken: %s\n", err(r));
        fflush(stdout);
        _exit(0);
    }
    while (semctl(id, 0, GETNCNT) != 1) later(1);
    printf("GETNCNT 1, GETZCNT %d\n", semctl(id, 0, GETZCNT));
    op(id, 0, 1, 0);
    waitpid(pid, NULL, 0);
    printf("after the child: GETNCNT %d value %d pid is the child %d\n", semctl(id, 0, GETNCNT),
           semctl(id, 0, GETVAL), semctl(id, 0, GETPID) == pid);

    /* A waiter for zero. */
    u.val = 1;
    semctl(id, 1, SETVAL, u);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        int r = op(id, 1, 0, 0);
        printf("zero waiter woken: %s\n", err(r));
        fflush(stdout);
        _exit(0);
    }
    while (semctl(id, 1, GETZCNT) != 1) later(1);
    printf("GETZCNT 1\n");
    op(id, 1, -1, 0);
    waitpid(pid, NULL, 0);

    /* semtimedop: a timeout, and a bad timespec. */
    struct sembuf dec = {2, -1, 0};
    struct timespec ts = {0, 10000000};
    errno = 0;
    printf("semtimedop timeout: %s\n", err(semtimedop(id, &dec, 1, &ts)));
    ts.tv_nsec = 1000000000;
    errno = 0;
    printf("semtimedop bad timespec: %s\n", err(semtimedop(id, &dec, 1, &ts)));

    /* EINTR from a handler. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        later(20);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    printf("interrupted: %s\n", err(op(id, 2, -1, 0)));
    waitpid(pid, NULL, 0);

    /* SEM_UNDO: a child's changes are undone when it exits. */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        op(id, 2, 3, SEM_UNDO);
        op(id, 2, -1, SEM_UNDO);
        op(id, 1, 4, 0);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    show(id, "after SEM_UNDO child");
    /* The undo of a value reset by SETVAL is dropped. */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        op(id, 0, 2, SEM_UNDO);
        u.val = 7;
        semctl(id, 0, SETVAL, u);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    show(id, "after SETVAL in the child");

    /* IPC_SET and IPC_RMID with a sleeper. */
    semctl(id, 0, IPC_STAT, (union semun){.buf = &ds});
    ds.sem_perm.mode = 0640;
    printf("IPC_SET: %s\n", err(semctl(id, 0, IPC_SET, (union semun){.buf = &ds})));
    semctl(id, 0, IPC_STAT, (union semun){.buf = &ds});
    printf("mode now %o\n", ds.sem_perm.mode);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        later(20);
        semctl(id, 0, IPC_RMID);
        _exit(0);
    }
    printf("removed while waiting: %s\n", err(op(id, 2, -5, 0)));
    waitpid(pid, NULL, 0);
    errno = 0;
    printf("GETVAL after IPC_RMID: %s\n", err(semctl(id, 0, GETVAL)));
    struct seminfo info;
    printf("IPC_INFO: %d\n", semctl(0, 0, IPC_INFO, (union semun){.buf = (struct semid_ds *)&info}) >= 0);
    return 0;
}
