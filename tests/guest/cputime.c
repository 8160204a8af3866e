/* CPU time: utime in /proc/self/stat grows while a process only opens and reads that file
 * (LTP clock_gettime01's set-up loop), and after CPU-bound work the process CPU clock,
 * getrusage, times and /proc/self/stat agree (ticks of USER_HZ 100). A forked child's clocks
 * start near zero, a thread's clock is within the process's, another process's clock is read
 * by its clock id, and a clock id naming no process is EINVAL. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long ns_of(clockid_t clk)
{
    struct timespec ts;
    if (clock_gettime(clk, &ts) != 0) return -errno;
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* utime and stime (fields 14 and 15) of /proc/self/stat, in ticks. */
static void stat_times(unsigned long *ut, unsigned long *st)
{
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    char *p = strrchr(buf, ')');
    *ut = *st = 0;
    if (p) sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", ut, st);
}

static volatile unsigned long sink;

/* Runs user code until clk has advanced by ms. */
static void burn_on(clockid_t clk, long ms)
{
    long long end = ns_of(clk) + ms * 1000000LL;
    while (ns_of(clk) < end)
        for (int i = 0; i < 100000; i++) sink += i * 7;
}
static void burn(long ms) { burn_on(CLOCK_PROCESS_CPUTIME_ID, ms); }

/* A thread's clock is precise, the process's may lag by what the running thread has not
 * yet been charged (a tick). */
#define LAG 10000000LL

static const char *yes(int b) { return b ? "yes" : "no"; }

static void *thread_main(void *arg)
{
    (void)arg;
    burn_on(CLOCK_THREAD_CPUTIME_ID, 50);
    long long t = ns_of(CLOCK_THREAD_CPUTIME_ID), p = ns_of(CLOCK_PROCESS_CPUTIME_ID);
    printf("thread: its clock at least 50 ms: %s, within the process's: %s\n", yes(t >= 50000000), yes(t <= p + LAG));
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);

    /* LTP clock_gettime01's set-up: read /proc/self/stat until utime is not 0. */
    time_t start = time(NULL);
    unsigned long ut = 0, st = 0;
    long reads = 0;
    do {
        FILE *f = fopen("/proc/self/stat", "r");
        if (!f) return 1;
        if (fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu", &ut) != 1) ut = 0;
        fclose(f);
        reads++;
    } while (ut == 0 && time(NULL) - start < 30);
    printf("utime grew while reading /proc/self/stat: %s\n", yes(ut != 0));

    /* After CPU-bound work the four views agree. */
    burn(300);
    long long before = ns_of(CLOCK_PROCESS_CPUTIME_ID);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    struct tms tm;
    times(&tm);
    stat_times(&ut, &st);
    long long after = ns_of(CLOCK_PROCESS_CPUTIME_ID);
    long long ru_ns = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
                      (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
    long long tms_ns = (long long)(tm.tms_utime + tm.tms_stime) * 10000000LL;
    long long stat_ns = (long long)(ut + st) * 10000000LL;
    printf("process clock at least 300 ms: %s\n", yes(before >= 300000000));
    printf("getrusage within the clock: %s\n", yes(ru_ns >= 300000000 && ru_ns <= after));
    printf("times within the clock: %s\n", yes(tms_ns >= 290000000 && tms_ns <= after));
    printf("stat within the clock: %s\n", yes(stat_ns >= 290000000 && stat_ns <= after));
    printf("times and stat agree to a tick: %s\n", yes(llabs(tms_ns - stat_ns) <= 20000000));
    printf("mostly user time: %s\n", yes(ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec >
                                         ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec));
    long long thr = ns_of(CLOCK_THREAD_CPUTIME_ID);
    printf("thread clock within the process clock: %s\n", yes(thr > 0 && thr <= ns_of(CLOCK_PROCESS_CPUTIME_ID) + LAG));

    /* A child's clocks start from nothing; its CPU time reaches the parent when reaped. */
    int go[2];
    pipe(go);
    pid_t pid = fork();
    if (pid == 0) {
        long long c0 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
        struct tms ctm;
        times(&ctm);
        printf("child: clock starts below 100 ms: %s\n", yes(c0 >= 0 && c0 < 100000000));
        printf("child: times starts below 10 ticks: %s\n", yes(ctm.tms_utime + ctm.tms_stime < 10));
        burn(200);
        char c;
        read(go[0], &c, 1);
        _exit(0);
    }
    /* Its clock by id (MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)), while it runs. */
    clockid_t child_clock = (~(clockid_t)pid << 3) | 2;
    usleep(50000);
    long long cc = ns_of(child_clock);
    printf("child's clock by its id: %s\n", cc >= 0 ? "readable" : strerror((int)-cc));
    write(go[1], "g", 1);
    waitpid(pid, NULL, 0);
    times(&tm);
    printf("children's times at least 19 ticks: %s\n", yes(tm.tms_cutime + tm.tms_cstime >= 19));
    getrusage(RUSAGE_CHILDREN, &ru);
    printf("children's rusage at least 200 ms: %s\n",
           yes((ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec >=
               200000));
    long long gone = ns_of(child_clock);
    printf("reaped child's clock: %s\n", gone >= 0 ? "readable" : strerror((int)-gone));

    pthread_t th;
    pthread_create(&th, NULL, thread_main, NULL);
    pthread_join(th, NULL);
    return 0;
}
