/* itimer: the interval timers of setitimer, getitimer and alarm.
 *   an unset timer reads as zero; a set one reads back its interval exactly and at most its
 *   value; setitimer gives the old setting; EINVAL for a bad `which` or tv_usec, EFAULT for
 *   bad pointers;
 *   ITIMER_REAL, ITIMER_VIRTUAL and ITIMER_PROF fire SIGALRM, SIGVTALRM and SIGPROF while the
 *   program computes without making a single system call, periodic ones again and again;
 *   ITIMER_VIRTUAL does not run while the process sleeps;
 *   alarm returns the seconds left, rounded, and alarm(0) cancels.
 * With the argument "alarm_default" an alarm whose SIGALRM is at its default action kills
 * the process (status 142). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *yesno(int b) { return b ? "yes" : "no"; }

static const char *err_name(int e)
{
    return e == 0 ? "0" : e == EINVAL ? "EINVAL" : e == EFAULT ? "EFAULT" : "other";
}

/* Prints a call's result and errno. */
#define SHOW(what, call)                                                   \
    do {                                                                   \
        errno = 0;                                                         \
        long r_ = (long)(call);                                            \
        printf("%s: %ld %s\n", what, r_, err_name(errno));                 \
    } while (0)

static long long usec(struct timeval tv) { return (long long)tv.tv_sec * 1000000 + tv.tv_usec; }

static struct itimerval itv(long value_us, long interval_us)
{
    struct itimerval it;
    it.it_value.tv_sec = value_us / 1000000;
    it.it_value.tv_usec = value_us % 1000000;
    it.it_interval.tv_sec = interval_us / 1000000;
    it.it_interval.tv_usec = interval_us % 1000000;
    return it;
}

static volatile sig_atomic_t fired[65];

static void on_signal(int sig) { fired[sig]++; }

static void handle(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

/* Computes, with no system call, until `sig` has arrived `times` times (or far too long). */
static int spin_until(int sig, int times)
{
    volatile uint64_t x = 1;
    for (uint64_t i = 0; i < 2000000000ull && fired[sig] < times; ++i)
        x = x * 6364136223846793005ull + 1442695040888963407ull;
    return fired[sig] >= times;
}

static void settings(void)
{
    struct itimerval it, old;
    for (int which = ITIMER_REAL; which <= ITIMER_PROF; ++which) {
        getitimer(which, &it);
        printf("timer %d unset: value %lld, interval %lld\n", which, usec(it.it_value), usec(it.it_interval));
    }

    it = itv(2000000, 500000);
    setitimer(ITIMER_REAL, &it, NULL);
    getitimer(ITIMER_REAL, &it);
    printf("ITIMER_REAL set to 2 s every 0.5 s: value in (1.9 s, 2 s] %s, interval %lld\n",
           yesno(usec(it.it_value) > 1900000 && usec(it.it_value) <= 2000000), usec(it.it_interval));
    it = itv(0, 0);
    setitimer(ITIMER_REAL, &it, &old);
    printf("disarming gives the old value in (1.9 s, 2 s] %s, interval %lld\n",
           yesno(usec(old.it_value) > 1900000 && usec(old.it_value) <= 2000000), usec(old.it_interval));
    getitimer(ITIMER_REAL, &it);
    printf("ITIMER_REAL disarmed: value %lld, interval %lld\n", usec(it.it_value), usec(it.it_interval));

    /* A CPU-time timer starts a tick late and keeps its interval when disarmed. */
    it = itv(1000000, 250000);
    setitimer(ITIMER_VIRTUAL, &it, NULL);
    getitimer(ITIMER_VIRTUAL, &it);
    printf("ITIMER_VIRTUAL set to 1 s: value in (0.9 s, 1.01 s] %s, interval %lld\n",
           yesno(usec(it.it_value) > 900000 && usec(it.it_value) <= 1010000), usec(it.it_interval));
    struct timespec nap = {0, 50000000};
    nanosleep(&nap, NULL);
    getitimer(ITIMER_VIRTUAL, &it);
    printf("ITIMER_VIRTUAL ran less than 30 ms during a 50 ms sleep: %s\n", yesno(usec(it.it_value) > 970000));
    it = itv(0, 250000);
    setitimer(ITIMER_VIRTUAL, &it, NULL);
    getitimer(ITIMER_VIRTUAL, &it);
    printf("ITIMER_VIRTUAL disarmed: value %lld, interval %lld\n", usec(it.it_value), usec(it.it_interval));
    it = itv(0, 0);
    setitimer(ITIMER_VIRTUAL, &it, NULL);

    SHOW("setitimer(3)", setitimer(3, &it, NULL));
    SHOW("getitimer(-1)", getitimer(-1, &it));
    it = itv(0, 0);
    it.it_value.tv_usec = 1000000;
    SHOW("tv_usec 1000000", setitimer(ITIMER_REAL, &it, NULL));
    it = itv(0, 0);
    it.it_interval.tv_sec = -1;
    SHOW("tv_sec -1", setitimer(ITIMER_REAL, &it, NULL));
    /* Raw calls: i386 glibc copies through a 32-bit itimerval of its own, and would fault. */
    volatile uintptr_t bad = 16;
    SHOW("getitimer(bad pointer)", syscall(SYS_getitimer, ITIMER_REAL, bad));
    SHOW("setitimer(bad new pointer)", syscall(SYS_setitimer, ITIMER_REAL, bad, 0));
    SHOW("setitimer(9, bad new pointer)", syscall(SYS_setitimer, 9, bad, 0));
}

static void alarms(void)
{
    printf("alarm(5) with none pending: %u\n", alarm(5));
    printf("alarm(7) with 5 s pending: %u\n", alarm(7));
    struct itimerval it;
    getitimer(ITIMER_REAL, &it);
    printf("alarm(7) is ITIMER_REAL in (6.9 s, 7 s], one-shot: %s\n",
           yesno(usec(it.it_value) > 6900000 && usec(it.it_value) <= 7000000 && usec(it.it_interval) == 0));
    printf("alarm(0) cancels, returning: %u\n", alarm(0));
    printf("alarm(0) again: %u\n", alarm(0));
}

static void firing(void)
{
    handle(SIGALRM);
    handle(SIGVTALRM);
    handle(SIGPROF);
    struct itimerval it = itv(30000, 0);
    setitimer(ITIMER_REAL, &it, NULL);
    printf("SIGALRM while computing: %s\n", yesno(spin_until(SIGALRM, 1)));
    getitimer(ITIMER_REAL, &it);
    printf("a one-shot ITIMER_REAL after firing: value %lld\n", usec(it.it_value));

    it = itv(20000, 20000);
    setitimer(ITIMER_REAL, &it, NULL);
    fired[SIGALRM] = 0;
    printf("a 20 ms ITIMER_REAL fires 3 times while computing: %s\n", yesno(spin_until(SIGALRM, 3)));
    it = itv(0, 0);
    setitimer(ITIMER_REAL, &it, NULL);

    it = itv(20000, 0);
    setitimer(ITIMER_VIRTUAL, &it, NULL);
    printf("SIGVTALRM while computing: %s\n", yesno(spin_until(SIGVTALRM, 1)));

    it = itv(10000, 10000);
    setitimer(ITIMER_PROF, &it, NULL);
    printf("a 10 ms ITIMER_PROF fires 3 times while computing: %s\n", yesno(spin_until(SIGPROF, 3)));
    it = itv(0, 0);
    setitimer(ITIMER_PROF, &it, NULL);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "alarm_default") == 0) {
        printf("alarm(1) with SIGALRM at its default\n");
        fflush(stdout);
        alarm(1);
        spin_until(SIGALRM, 1);
        printf("still alive\n");
        return 0;
    }
    settings();
    alarms();
    firing();
    return 0;
}
