/* /proc/PID and /proc/self of a process are its thread group leader's, whichever thread
 * reads them (proc_pid_lookup finds the task whose pid is the tgid); /proc/thread-self is
 * the reader's (LTP futex_wait03: TST_PROCESS_STATE_WAIT reads the leader's state). A second
 * thread reads them while the leader sleeps in read(). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int wake[2];

/* The pid field and state of a stat file, checked against pid. */
static void stat_of(const char *what, const char *path, long pid)
{
    char buf[512] = "";
    FILE *f = fopen(path, "r");
    if (!f || !fgets(buf, sizeof buf, f)) {
        printf("%s: unreadable\n", what);
        if (f) fclose(f);
        return;
    }
    fclose(f);
    long got = 0;
    char state = '?';
    const char *close_paren = strrchr(buf, ')');
    sscanf(buf, "%ld", &got);
    if (close_paren) sscanf(close_paren + 1, " %c", &state);
    printf("%s: pid field %s, state %c\n", what, got == pid ? "as expected" : "wrong", state);
}

static void status_pid(const char *what, const char *path, long pid)
{
    char line[256];
    long got = -1;
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Pid: %ld", &got) == 1) break;
    if (f) fclose(f);
    printf("%s: Pid %s\n", what, got == pid ? "as expected" : "wrong");
}

static void *reader(void *arg)
{
    (void)arg;
    long pid = getpid(), tid = syscall(SYS_gettid);
    char path[64];
    usleep(200000); /* the leader is asleep in read() by now */
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    stat_of("/proc/PID/stat", path, pid);
    stat_of("/proc/self/stat", "/proc/self/stat", pid);
    stat_of("/proc/thread-self/stat", "/proc/thread-self/stat", tid);
    snprintf(path, sizeof path, "/proc/%ld/task/%ld/stat", pid, pid);
    stat_of("/proc/PID/task/PID/stat", path, pid);
    status_pid("/proc/self/status", "/proc/self/status", pid);
    status_pid("/proc/thread-self/status", "/proc/thread-self/status", tid);
    if (write(wake[1], "x", 1) != 1) return NULL;
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (pipe(wake)) return 1;
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    char c;
    if (read(wake[0], &c, 1) != 1) return 1;
    pthread_join(t, NULL);
    return 0;
}
