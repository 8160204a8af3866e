/* cpu_timers: timers on CPU time run on the process's (or thread's) own CPU time.
 *   ITIMER_VIRTUAL and ITIMER_PROF fire while the process computes, and getitimer shows them
 *   going down; they do not run while the process waits for a busy child, nor does a POSIX
 *   timer on its process clock; a forked child starts with them disarmed;
 *   timer_create on CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID and
 *   clock_getcpuclockid clocks: SI_TIMER signals with the sigevent's value, periodic ones
 *   again and again, timer_gettime going down and 0 after a one-shot fired, the old value of
 *   timer_settime, an absolute expiry already passed fires at once, a timer on another
 *   thread's clock waits while only this thread computes, a timer on a child's process
 *   clock fires when the child has computed long enough (the parent only waits);
 *   RLIMIT_CPU: SIGXCPU at the soft limit (the soft limit then a second higher), SIGKILL at
 *   the hard one. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *yesno(int b) { return b ? "yes" : "no"; }

static volatile sig_atomic_t fired[65];
static volatile int last_code[65], last_value[65];

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    fired[sig]++;
    last_code[sig] = si->si_code;
    last_value[sig] = si->si_value.sival_int;
}

static void handle(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static long long ns_of(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Computes, with no system call, until `sig` has arrived `times` times (or far too long). */
static int spin_until(int sig, int times)
{
    volatile uint64_t x = 1;
    for (uint64_t i = 0; i < 4000000000ull && fired[sig] < times; ++i)
        x = x * 6364136223846793005ull + 1442695040888963407ull;
    return fired[sig] >= times;
}

/* Computes for `ms` of this thread's CPU time. */
static void spin_ms(long ms)
{
    const long long end = ns_of(CLOCK_THREAD_CPUTIME_ID) + ms * 1000000LL;
    volatile uint64_t x = 1;
    while (ns_of(CLOCK_THREAD_CPUTIME_ID) < end)
        for (int i = 0; i < 10000; ++i) x = x * 6364136223846793005ull + 1;
}

static long long usec(struct timeval tv) { return (long long)tv.tv_sec * 1000000 + tv.tv_usec; }
static long long nsec(struct timespec ts) { return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec; }

static struct itimerval itv(long value_us, long interval_us)
{
    struct itimerval it;
    it.it_value.tv_sec = value_us / 1000000;
    it.it_value.tv_usec = value_us % 1000000;
    it.it_interval.tv_sec = interval_us / 1000000;
    it.it_interval.tv_usec = interval_us % 1000000;
    return it;
}

static struct itimerspec its(long long value_ns, long long interval_ns)
{
    struct itimerspec it;
    it.it_value.tv_sec = value_ns / 1000000000;
    it.it_value.tv_nsec = value_ns % 1000000000;
    it.it_interval.tv_sec = interval_ns / 1000000000;
    it.it_interval.tv_nsec = interval_ns % 1000000000;
    return it;
}

static timer_t make_timer(clockid_t clk, int sig, int value)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = sig;
    ev.sigev_value.sival_int = value;
    timer_t id;
    if (timer_create(clk, &ev, &id) != 0) {
        printf("timer_create(%d): %s\n", (int)clk, strerror(errno));
        exit(1);
    }
    return id;
}

/* A child that computes for 300 ms of CPU time and exits; the parent waits for it. */
static void busy_child(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        spin_ms(300);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

static void itimers(void)
{
    handle(SIGVTALRM);
    handle(SIGPROF);
    /* (Linux charges user time a tick at a time: a margin for its sampling.) */
    struct itimerval it = itv(500000, 0), got;
    setitimer(ITIMER_VIRTUAL, &it, NULL);
    spin_ms(200);
    getitimer(ITIMER_VIRTUAL, &got);
    printf("ITIMER_VIRTUAL after 200 ms of computing: below 450 ms %s, above 0 %s\n",
           yesno(usec(got.it_value) < 450000), yesno(usec(got.it_value) > 0));
    int ok = spin_until(SIGVTALRM, 1);
    printf("SIGVTALRM while computing: %s, si_code SI_KERNEL %s\n", yesno(ok), yesno(last_code[SIGVTALRM] == SI_KERNEL));
    getitimer(ITIMER_VIRTUAL, &got);
    printf("a fired one-shot ITIMER_VIRTUAL: value %lld\n", usec(got.it_value));

    it = itv(20000, 20000);
    setitimer(ITIMER_PROF, &it, NULL);
    printf("a 20 ms ITIMER_PROF fires 3 times while computing: %s\n", yesno(spin_until(SIGPROF, 3)));
    getitimer(ITIMER_PROF, &got);
    printf("ITIMER_PROF: interval %lld, value at most 20 ms %s\n", usec(got.it_interval),
           yesno(usec(got.it_value) <= 20000));
    it = itv(0, 0);
    setitimer(ITIMER_PROF, &it, NULL);

    /* Waiting for a child that computes is no CPU time of ours. */
    it = itv(1000000, 0);
    setitimer(ITIMER_VIRTUAL, &it, NULL);
    setitimer(ITIMER_PROF, &it, NULL);
    const int vt_before = fired[SIGVTALRM], prof_before = fired[SIGPROF];
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct itimerval c;
        getitimer(ITIMER_VIRTUAL, &c);
        printf("child: ITIMER_VIRTUAL %lld, ", usec(c.it_value));
        getitimer(ITIMER_PROF, &c);
        printf("ITIMER_PROF %lld\n", usec(c.it_value));
        spin_ms(300);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    getitimer(ITIMER_VIRTUAL, &got);
    printf("ITIMER_VIRTUAL ran less than 50 ms while a child computed 300 ms: %s\n",
           yesno(usec(got.it_value) > 950000));
    getitimer(ITIMER_PROF, &got);
    printf("ITIMER_PROF ran less than 50 ms while a child computed 300 ms: %s\n",
           yesno(usec(got.it_value) > 950000));
    printf("signals meanwhile: SIGVTALRM %d, SIGPROF %d\n", fired[SIGVTALRM] - vt_before, fired[SIGPROF] - prof_before);
    it = itv(0, 0);
    setitimer(ITIMER_VIRTUAL, &it, NULL);
    setitimer(ITIMER_PROF, &it, NULL);
}

static int stop_pipe[2];

/* Sleeps in a read until the main thread writes: it uses no CPU meanwhile. */
static void *sleeper(void *arg)
{
    (void)arg;
    char c;
    if (read(stop_pipe[0], &c, 1) < 0) return NULL;
    return NULL;
}

static void posix_timers(void)
{
    handle(SIGUSR1);
    handle(SIGUSR2);
    struct itimerspec got, old;

    timer_t t = make_timer(CLOCK_PROCESS_CPUTIME_ID, SIGUSR1, 42);
    struct itimerspec it = its(50000000, 0);
    timer_settime(t, 0, &it, NULL);
    spin_ms(20);
    timer_gettime(t, &got);
    printf("process clock timer after 20 ms of computing: below 40 ms %s, above 0 %s\n",
           yesno(nsec(got.it_value) < 40000000), yesno(nsec(got.it_value) > 0));
    int ok = spin_until(SIGUSR1, 1);
    printf("process clock timer fires while computing: %s, SI_TIMER %s, value %d\n", yesno(ok),
           yesno(last_code[SIGUSR1] == SI_TIMER), last_value[SIGUSR1]);
    timer_gettime(t, &got);
    printf("after firing: value %lld, interval %lld\n", nsec(got.it_value), nsec(got.it_interval));

    it = its(1000000000, 0);
    timer_settime(t, 0, &it, NULL);
    busy_child();
    timer_gettime(t, &got);
    printf("process clock timer ran less than 50 ms while a child computed: %s\n",
           yesno(nsec(got.it_value) > 950000000));
    it = its(0, 0);
    timer_settime(t, 0, &it, &old);
    printf("disarming gives the old value in (0.9 s, 1 s]: %s\n",
           yesno(nsec(old.it_value) > 900000000 && nsec(old.it_value) <= 1000000000));

    /* An absolute expiry that has passed fires at once. */
    sigset_t block, pending;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, NULL);
    it = its(1, 0);
    timer_settime(t, TIMER_ABSTIME, &it, NULL);
    sigpending(&pending);
    printf("absolute expiry in the past: pending at once %s\n", yesno(sigismember(&pending, SIGUSR1)));
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    timer_delete(t);

    /* A periodic timer on the clock clock_getcpuclockid gives. */
    clockid_t pclk;
    printf("clock_getcpuclockid(getpid()): %d\n", clock_getcpuclockid(getpid(), &pclk));
    t = make_timer(pclk, SIGUSR2, 7);
    it = its(10000000, 10000000);
    timer_settime(t, 0, &it, NULL);
    ok = spin_until(SIGUSR2, 3);
    printf("a 10 ms timer on it fires 3 times while computing: %s, value %d\n", yesno(ok), last_value[SIGUSR2]);
    timer_gettime(t, &got);
    printf("its interval %lld, value at most 10 ms %s\n", nsec(got.it_interval),
           yesno(nsec(got.it_value) <= 10000000));
    timer_delete(t);

    /* Thread clocks: another thread's clock runs only while that thread runs. */
    pthread_t th;
    if (pipe(stop_pipe) != 0) return;
    pthread_create(&th, NULL, sleeper, NULL);
    clockid_t tclk;
    pthread_getcpuclockid(th, &tclk);
    fired[SIGUSR1] = fired[SIGUSR2] = 0;
    timer_t other = make_timer(tclk, SIGUSR1, 1);
    timer_t self = make_timer(CLOCK_THREAD_CPUTIME_ID, SIGUSR2, 2);
    it = its(100000000, 0);
    timer_settime(other, 0, &it, NULL);
    it = its(30000000, 0);
    timer_settime(self, 0, &it, NULL);
    printf("own thread clock timer fires while computing: %s\n", yesno(spin_until(SIGUSR2, 1)));
    spin_ms(100);
    timer_gettime(other, &got);
    printf("the sleeping thread's clock timer: not fired %s, ran less than 50 ms %s\n", yesno(fired[SIGUSR1] == 0),
           yesno(nsec(got.it_value) > 50000000));
    if (write(stop_pipe[1], "x", 1) != 1) return;
    pthread_join(th, NULL);
    timer_delete(other);
    timer_delete(self);

    /* A timer on a child's process clock fires as the child computes, the parent asleep. */
    fired[SIGUSR1] = 0;
    fflush(stdout);
    int go[2];
    if (pipe(go) != 0) return;
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) != 1) _exit(1);
        spin_ms(200);
        _exit(0);
    }
    close(go[0]);
    clockid_t cclk;
    clock_getcpuclockid(pid, &cclk);
    t = make_timer(cclk, SIGUSR1, 3);
    it = its(50000000, 0);
    timer_settime(t, 0, &it, NULL);
    if (write(go[1], "x", 1) != 1) return;
    close(go[1]);
    waitpid(pid, NULL, 0);
    printf("timer on the child's clock fired while the parent waited: %s, value %d\n", yesno(fired[SIGUSR1] == 1),
           last_value[SIGUSR1]);
    timer_delete(t);
}

static volatile sig_atomic_t xcpu;
static void on_xcpu(int sig)
{
    (void)sig;
    xcpu++;
}

static void rlimit_cpu(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXCPU, on_xcpu);
        struct rlimit rl = {1, 2};
        setrlimit(RLIMIT_CPU, &rl);
        volatile uint64_t x = 1;
        int seen = 0;
        for (;;) {
            for (int i = 0; i < 100000; ++i) x = x * 6364136223846793005ull + 1;
            if (xcpu > seen) {
                seen = xcpu;
                getrlimit(RLIMIT_CPU, &rl);
                /* (Linux counts the limit on tick-sampled time: no CPU-clock reading here.) */
                printf("child: SIGXCPU %d, soft limit now %ld, hard %ld\n", seen, (long)rl.rlim_cur,
                       (long)rl.rlim_max);
                fflush(stdout);
            }
        }
    }
    int status;
    waitpid(pid, &status, 0);
    printf("RLIMIT_CPU 1/2: the child %s by signal %d\n", WIFSIGNALED(status) ? "was killed" : "exited",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

int main(void)
{
    itimers();
    posix_timers();
    rlimit_cpu();
    return 0;
}
