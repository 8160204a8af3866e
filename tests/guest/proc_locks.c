/* /proc/locks (fs/locks.c locks_show + lock_get_status): POSIX, OFD, flock locks and
 * leases, the newest first, with the pid, device:inode and range of each; a request that
 * waits (F_SETLKW, a blocking flock) shows under the lock it waits for with "-> "; a split
 * lock's right part is a new lock (listed first), an unlock removes the lines.
 * Only the lines of this test's files are printed, with names for pids and inodes (the host
 * has locks of its own). Run as root (as the oracle runs natively), in a mkdtemp directory. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/plocksXXXXXX";
static char path[3][64];
static unsigned long inos[3];
static pid_t pids[3];
static const char *pid_names[3] = {"parent", "child1", "child2"};

static void show(const char *what)
{
    printf("-- %s\n", what);
    FILE *f = fopen("/proc/locks", "r");
    if (!f) {
        printf("no /proc/locks\n");
        return;
    }
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char kind[16], mode[16], type[16], devino[64], start[32], end[32], arrow[4] = "";
        int id, pid, n;
        const char *rest = line;
        if (sscanf(rest, "%d: %n", &id, &n) != 1) continue;
        rest += n;
        if (!strncmp(rest, "-> ", 3)) {
            strcpy(arrow, "-> ");
            rest += 3;
        }
        if (sscanf(rest, "%15s %15s %15s %d %63s %31s %31s", kind, mode, type, &pid, devino, start, end) != 7) {
            printf("unparsed: %s", line);
            continue;
        }
        char *colon = strrchr(devino, ':');
        unsigned long ino = colon ? strtoul(colon + 1, NULL, 10) : 0;
        int which = -1;
        for (int i = 0; i < 3; ++i)
            if (inos[i] == ino) which = i;
        if (which < 0) continue; /* another program's lock */
        const char *pname = "?";
        for (int i = 0; i < 3; ++i)
            if (pids[i] == pid) pname = pid_names[i];
        if (pid == -1) pname = "-1";
        printf("%s%s %s %s %s %c %s %s\n", arrow, kind, mode, type, pname, 'a' + which, start, end);
    }
    fclose(f);
}

/* Waits until pid sleeps (its state in /proc/PID/stat is S). */
static void wait_sleeping(pid_t pid)
{
    char p[64], buf[256];
    snprintf(p, sizeof p, "/proc/%d/stat", pid);
    for (int i = 0; i < 500; ++i) {
        FILE *f = fopen(p, "r");
        if (f) {
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            buf[n] = 0;
            fclose(f);
            char *close = strrchr(buf, ')');
            if (close && close[2] == 'S') return;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    printf("pid never slept\n");
}

static void setlk(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    if (fcntl(fd, cmd, &fl)) printf("fcntl %d type %d %ld+%ld: failed\n", cmd, type, (long)start, (long)len);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    /* Linux keeps one lock list per CPU and shows them CPU by CPU: on one CPU (as emu is)
     * the order is the newest first for every lock the test's processes take. */
    cpu_set_t cpus;
    if (sched_getaffinity(0, sizeof cpus, &cpus) == 0)
        for (int i = 0; i < CPU_SETSIZE; ++i)
            if (CPU_ISSET(i, &cpus)) {
                CPU_ZERO(&cpus);
                CPU_SET(i, &cpus);
                sched_setaffinity(0, sizeof cpus, &cpus);
                break;
            }
    if (!mkdtemp(dir)) return 1;
    int fds[3];
    for (int i = 0; i < 3; ++i) {
        snprintf(path[i], sizeof path[i], "%s/%c", dir, 'a' + i);
        fds[i] = open(path[i], O_RDWR | O_CREAT, 0644);
        struct stat st;
        fstat(fds[i], &st);
        inos[i] = st.st_ino;
    }
    pids[0] = getpid();
    show("none yet");

    setlk(fds[0], F_SETLK, F_WRLCK, 0, 100);
    setlk(fds[1], F_SETLK, F_RDLCK, 10, 5);
    flock(fds[1], LOCK_SH);
    setlk(fds[0], F_OFD_SETLK, F_RDLCK, 100, 0);
    close(fds[2]);
    int lf = open(path[2], O_RDONLY);
    if (fcntl(lf, F_SETLEASE, F_RDLCK)) printf("setlease failed\n");
    show("posix, flock, ofd, lease");

    pids[1] = fork();
    if (pids[1] == 0) {
        setlk(fds[0], F_SETLKW, F_WRLCK, 0, 1);
        _exit(0);
    }
    wait_sleeping(pids[1]);
    pids[2] = fork();
    if (pids[2] == 0) {
        int fd = open(path[1], O_RDWR);
        flock(fd, LOCK_EX);
        _exit(0);
    }
    wait_sleeping(pids[2]);
    show("with waiters");
    kill(pids[1], SIGKILL);
    kill(pids[2], SIGKILL);
    waitpid(pids[1], NULL, 0);
    waitpid(pids[2], NULL, 0);
    show("waiters killed");

    setlk(fds[0], F_SETLK, F_UNLCK, 10, 10);
    show("a split by an unlock");
    setlk(fds[0], F_SETLK, F_WRLCK, 5, 10);
    show("merged again");
    setlk(fds[1], F_SETLK, F_WRLCK, 12, 1);
    show("b: a write lock inside a read lock");
    fcntl(lf, F_SETLEASE, F_UNLCK);
    flock(fds[1], LOCK_UN);
    show("lease and flock gone");
    close(fds[0]);
    show("closed a");
    close(fds[1]);
    close(lf);
    show("all closed");
    for (int i = 0; i < 3; ++i) unlink(path[i]);
    rmdir(dir);
    return 0;
}
