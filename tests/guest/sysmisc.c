/* The small syscalls real programs make: prctl (names, parent-death signal, dumpable,
 * no_new_privs, child subreaper, unknown options), getrusage and wait4's rusage (CPU time,
 * page faults), times, sysinfo, sched_setaffinity/getaffinity, getcpu, SA_RESETHAND and
 * SA_NODEFER, /proc/loadavg's format. Times and memory figures vary from run to run, so
 * only their relations are printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *volatile bad_ptr = (void *)8;

static void result(const char *what, long r)
{
    if (r < 0) printf("%s: %ld %s\n", what, r, strerror(errno));
    else printf("%s: %ld\n", what, r);
    errno = 0;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile uint64_t sink;
static void burn(double seconds)
{
    const double end = cpu_seconds() + seconds;
    while (cpu_seconds() < end)
        for (int i = 0; i < 100000; i++) sink += i * sink + 1;
}

static long ms(struct timeval tv) { return tv.tv_sec * 1000 + tv.tv_usec / 1000; }

static void names(void)
{
    char name[32] = {0};
    prctl(PR_SET_NAME, "averyveryverylongname");
    prctl(PR_GET_NAME, name);
    printf("PR_GET_NAME: '%s'\n", name);
    char comm[32] = {0};
    int fd = open("/proc/self/comm", O_RDONLY);
    read(fd, comm, sizeof comm - 1);
    close(fd);
    printf("/proc/self/comm: %s", comm);
    result("PR_SET_NAME bad pointer", prctl(PR_SET_NAME, bad_ptr));
    result("PR_GET_NAME bad pointer", prctl(PR_GET_NAME, bad_ptr));
    prctl(PR_SET_NAME, "sysmisc");
}

static void options(void)
{
    int sig = -1;
    prctl(PR_GET_PDEATHSIG, &sig);
    printf("PR_GET_PDEATHSIG: %d\n", sig);
    result("PR_SET_PDEATHSIG 99", prctl(PR_SET_PDEATHSIG, 99));
    prctl(PR_SET_PDEATHSIG, SIGUSR2);
    prctl(PR_GET_PDEATHSIG, &sig);
    printf("PR_GET_PDEATHSIG after set: %d\n", sig);
    prctl(PR_SET_PDEATHSIG, 0);
    result("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE));
    result("PR_SET_DUMPABLE 2", prctl(PR_SET_DUMPABLE, 2));
    prctl(PR_SET_DUMPABLE, 0);
    result("PR_GET_DUMPABLE after 0", prctl(PR_GET_DUMPABLE));
    prctl(PR_SET_DUMPABLE, 1);
    result("PR_GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    result("PR_GET_NO_NEW_PRIVS arg2 1", prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0));
    result("PR_SET_NO_NEW_PRIVS 1, 1", prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0));
    result("PR_SET_NO_NEW_PRIVS 2", prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0));
    result("PR_SET_NO_NEW_PRIVS", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    result("PR_GET_NO_NEW_PRIVS after", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    result("option 9999", prctl(9999, 0, 0, 0, 0));
}

static volatile int pdeath_sig;
static void on_pdeath(int sig) { pdeath_sig = sig; }

/* A subreaper adopts its orphaned grandchild, which also gets its parent-death signal. */
static void family(void)
{
    int p[2];
    pipe(p);
    int sub = -1;
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    prctl(PR_GET_CHILD_SUBREAPER, &sub);
    printf("PR_GET_CHILD_SUBREAPER: %d\n", sub);
    pid_t me = getpid();
    pid_t child = fork();
    if (child == 0) {
        pid_t grandchild = fork();
        if (grandchild == 0) {
            sigset_t set, old;
            sigemptyset(&set);
            sigaddset(&set, SIGUSR1);
            struct sigaction sa = {0};
            sa.sa_handler = on_pdeath;
            sigaction(SIGUSR1, &sa, NULL);
            sigprocmask(SIG_BLOCK, &set, &old);
            prctl(PR_SET_PDEATHSIG, SIGUSR1);
            write(p[1], "r", 1);  /* ready */
            while (!pdeath_sig) sigsuspend(&old);
            int got = pdeath_sig;
            char msg[64];
            int n = snprintf(msg, sizeof msg, "grandchild: signal %d, parent is the subreaper %d\n", got, getppid() == me);
            write(p[1], msg, n);
            _exit(7);
        }
        char c;
        read(p[0], &c, 1);
        _exit(3);
    }
    int st;
    waitpid(child, &st, 0);
    printf("child exited %d\n", WEXITSTATUS(st));
    char buf[128] = {0};
    int n = 0;
    while (n < (int)sizeof buf - 1) {
        int r = read(p[0], buf + n, sizeof buf - 1 - n);
        if (r <= 0) break;
        n += r;
        if (buf[n - 1] == '\n') break;
    }
    printf("%s", buf);
    pid_t w = wait(&st);
    printf("reaped the grandchild: %d status %d\n", w > 0 && w != child, WEXITSTATUS(st));
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    close(p[0]);
    close(p[1]);
}

static void usage(void)
{
    struct rusage ru0, ru1, ru;
    result("getrusage who 5", getrusage(5, &ru));
    result("getrusage bad pointer", syscall(SYS_getrusage, RUSAGE_SELF, bad_ptr));
    getrusage(RUSAGE_SELF, &ru0);
    burn(0.15);
    char *mem = mmap(NULL, 200 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < 200; i++) mem[i * 4096] = 1;
    getrusage(RUSAGE_SELF, &ru1);
    long cpu = ms(ru1.ru_utime) + ms(ru1.ru_stime) - ms(ru0.ru_utime) - ms(ru0.ru_stime);
    /* (How it splits into utime and stime depends on the machine's load under emu.) */
    printf("self: cpu grew by >= 100 ms %d, minflt grew by >= 200 %d, maxrss > 0 %d\n", cpu >= 100,
           ru1.ru_minflt - ru0.ru_minflt >= 200, ru1.ru_maxrss > 0);
    getrusage(RUSAGE_THREAD, &ru);
    printf("thread: cpu >= 100 ms %d\n", ms(ru.ru_utime) + ms(ru.ru_stime) >= 100);
    getrusage(RUSAGE_CHILDREN, &ru);
    long before = ms(ru.ru_utime) + ms(ru.ru_stime);
    struct tms t0;
    clock_t c0 = times(&t0);
    printf("times: %d utime+stime >= 10 ticks %d\n", c0 != (clock_t)-1, t0.tms_utime + t0.tms_stime >= 10);
    pid_t pid = fork();
    if (pid == 0) {
        burn(0.12);
        char *m = mmap(NULL, 100 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        for (int i = 0; i < 100; i++) m[i * 4096] = 1;
        _exit(0);
    }
    int st;
    struct rusage cru;
    wait4(pid, &st, 0, &cru);
    printf("wait4 rusage: cpu >= 100 ms %d minflt >= 100 %d\n", ms(cru.ru_utime) + ms(cru.ru_stime) >= 100, cru.ru_minflt >= 100);
    getrusage(RUSAGE_CHILDREN, &ru);
    printf("children: grew by >= 100 ms %d\n", ms(ru.ru_utime) + ms(ru.ru_stime) - before >= 100);
    struct tms t1;
    times(&t1);
    printf("times: cutime+cstime >= 10 ticks %d\n", t1.tms_cutime + t1.tms_cstime >= 10);
    result("times bad pointer", syscall(SYS_times, bad_ptr));
    munmap(mem, 200 * 4096);
}

static void system_info(void)
{
    struct sysinfo si;
    int r = sysinfo(&si);
    printf("sysinfo: %d totalram > 0 %d freeram <= totalram %d procs >= 1 %d mem_unit >= 1 %d uptime > 0 %d\n", r,
           si.totalram > 0, si.freeram <= si.totalram, si.procs >= 1, si.mem_unit >= 1, si.uptime > 0);
    result("sysinfo bad pointer", sysinfo(bad_ptr));
    FILE *f = fopen("/proc/loadavg", "r");
    double l1, l5, l15;
    int run, all, last;
    int fields = f ? fscanf(f, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &run, &all, &last) : -1;
    printf("/proc/loadavg fields %d running <= all %d\n", fields, run <= all);
    if (f) fclose(f);
}

static void affinity(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    result("sched_setaffinity cpu 0", sched_setaffinity(0, sizeof set, &set));
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof set, &set);
    printf("getaffinity: count %d cpu0 %d\n", (int)CPU_COUNT(&set), (int)CPU_ISSET(0, &set));
    unsigned cpu = 99, node = 99;
    int r = syscall(SYS_getcpu, &cpu, &node, NULL);
    printf("getcpu: %d cpu %u node %u\n", r, cpu, node);
    CPU_ZERO(&set);
    result("empty mask", sched_setaffinity(0, sizeof set, &set));
    CPU_SET(0, &set);
    result("no such pid", sched_setaffinity(999999, sizeof set, &set));
    result("bad mask pointer", syscall(SYS_sched_setaffinity, 0, sizeof set, bad_ptr));
}

static volatile int depth, max_depth, calls;
static void on_usr1(int sig, siginfo_t *info, void *ctx)
{
    (void)info;
    (void)ctx;
    struct sigaction now;
    sigaction(sig, NULL, &now);
    printf("in handler: handler is SIG_DFL %d, SA_SIGINFO kept %d\n", now.sa_handler == SIG_DFL, !!(now.sa_flags & SA_SIGINFO));
}
static void on_usr2(int sig)
{
    if (++depth > max_depth) max_depth = depth;
    if (++calls < 3) raise(sig);  /* nested at once with SA_NODEFER, after return without */
    depth--;
}

static void actions(void)
{
    struct sigaction sa = {0};
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    struct sigaction sb = {0};
    sb.sa_handler = on_usr2;
    sb.sa_flags = SA_NODEFER;
    sigaction(SIGUSR2, &sb, NULL);
    raise(SIGUSR2);
    printf("SA_NODEFER nesting: %d\n", max_depth);
    printf("calls %d\n", calls);
    max_depth = 0;
    calls = 0;
    sb.sa_flags = 0;
    sigaction(SIGUSR2, &sb, NULL);
    raise(SIGUSR2);
    printf("without SA_NODEFER: %d calls %d\n", max_depth, calls);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    names();
    options();
    family();
    usage();
    system_info();
    affinity();
    actions();
    return 0;
}
