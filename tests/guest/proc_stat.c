/* /proc/PID/stat, statm, task/, auxv, limits, cwd, root, wchan, /proc/stat and /proc/uptime:
 * the fields are parsed and checked against what the process knows of itself (getpid,
 * getppid, rlimits, getauxval, maps, getrusage), so the output does not depend on the
 * machine. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NFIELDS 52

static char text[65536];

/* The whole of a file, or NULL. */
static char *slurp(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    size_t n = 0;
    ssize_t r;
    while ((r = read(fd, text + n, sizeof text - 1 - n)) > 0) n += (size_t)r;
    close(fd);
    text[n] = 0;
    if (len) *len = n;
    return text;
}

/* A stat line split: comm (between the first '(' and the last ')') and the fields as
 * strings, field 1 being the pid; returns the number of fields. */
static char comm[64];
static char field[NFIELDS + 8][32];
static int parse_stat(const char *path) {
    if (!slurp(path, NULL)) return -errno;
    char *open_paren = strchr(text, '('), *close_paren = strrchr(text, ')');
    if (!open_paren || !close_paren) return -1;
    snprintf(comm, sizeof comm, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
    int n = 0;
    snprintf(field[n++], sizeof field[0], "%.*s", (int)(open_paren - text - 1), text);
    n++;  /* comm */
    for (char *tok = strtok(close_paren + 1, " \n"); tok && n < NFIELDS + 8; tok = strtok(NULL, " \n"))
        snprintf(field[n++], sizeof field[0], "%s", tok);
    return n;
}
static unsigned long long f(int i) { return strtoull(field[i - 1], NULL, 10); }
static long long fs(int i) { return strtoll(field[i - 1], NULL, 10); }

static void show_stat_identity(const char *what) {
    int n = parse_stat("/proc/self/stat");
    printf("%s: fields=%d comm=[%s] state=%s pid_ok=%d ppid_ok=%d pgrp_ok=%d sid_ok=%d\n", what, n, comm, field[2],
           fs(1) == getpid(), fs(4) == getppid(), fs(5) == getpgrp(), fs(6) == getsid(0));
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    struct rlimit rss;
    getrlimit(RLIMIT_RSS, &rss);
    printf("  prio-nice=%lld nice_ok=%d threads=%lld itreal=%lld rsslim_ok=%d esp=%lld eip=%lld wchan=%lld\n",
           fs(18) - fs(19), fs(19) == nice, fs(20), fs(21), f(25) == (rss.rlim_cur == RLIM_INFINITY ? ~0ULL : (unsigned long long)rss.rlim_cur), fs(29), fs(30),
           fs(35));
    printf("  exit_signal=%lld cpu>=0:%d rt_prio=%lld policy_ok=%d exit_code=%lld\n", fs(38), fs(39) >= 0, fs(40),
           fs(41) == syscall(SYS_sched_getscheduler, 0), fs(52));
    printf("  code_ok=%d stack_ok=%d brk_ok=%d\n", f(26) > 0 && f(26) < f(27), f(28) > f(27),
           f(47) > 0 && f(47) <= (unsigned long long)(unsigned long)sbrk(0));
}

/* The args and environment bounds against /proc/self/cmdline and environ. */
static void show_bounds(void) {
    parse_stat("/proc/self/stat");
    unsigned long long arg_len = f(49) - f(48), env_len = f(51) - f(50);
    size_t cmd_len = 0, environ_len = 0;
    slurp("/proc/self/cmdline", &cmd_len);
    slurp("/proc/self/environ", &environ_len);
    printf("arg bounds = cmdline: %d, env bounds = environ: %d\n", arg_len == cmd_len, env_len == environ_len);
}

/* The signal words: the first 31 signals of pending, blocked, ignored and caught. */
static void on_usr1(int sig) { (void)sig; }
static void show_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGRTMIN + 2);  /* above bit 31: not shown */
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGUSR1, on_usr1);
    raise(SIGUSR2);  /* thread-directed: the task's own pending set */
    parse_stat("/proc/self/stat");
    printf("signal=%#llx blocked=%#llx ignored_pipe=%d caught_usr1=%d\n", f(31), f(32), (int)((f(33) >> (SIGPIPE - 1)) & 1),
           (int)((f(34) >> (SIGUSR1 - 1)) & 1));
    signal(SIGUSR2, SIG_IGN);  /* discards the pending one */
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    signal(SIGUSR2, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
}

/* Faults: touching fresh pages counts minor faults; CPU time agrees with getrusage. */
static void show_faults_and_time(void) {
    parse_stat("/proc/self/stat");
    unsigned long long before = f(10);
    enum { PAGES = 64 };
    long ps = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, PAGES * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < PAGES; ++i) p[i * ps] = 1;
    parse_stat("/proc/self/stat");
    printf("minflt grew by >= %d: %d\n", PAGES, f(10) - before >= PAGES);
    munmap(p, PAGES * ps);
    struct rusage ru;
    volatile unsigned long spin = 0;
    do {
        for (int i = 0; i < 100000; ++i) spin += i;
        getrusage(RUSAGE_SELF, &ru);
    } while (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec == 0 && ru.ru_utime.tv_usec + ru.ru_stime.tv_usec < 150000);
    parse_stat("/proc/self/stat");
    getrusage(RUSAGE_SELF, &ru);
    long long ru_ticks = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 100 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 10000;
    long long st_ticks = fs(14) + fs(15);
    printf("cpu ticks >= 14: %d, stat ~ getrusage: %d\n", st_ticks >= 14, llabs(st_ticks - ru_ticks) <= 2);
}

/* statm against stat and maps. */
static void show_statm(void) {
    long ps = sysconf(_SC_PAGESIZE);
    unsigned long long s[7] = {0};
    int n = slurp("/proc/self/statm", NULL) ? sscanf(text, "%llu %llu %llu %llu %llu %llu %llu", &s[0], &s[1], &s[2], &s[3], &s[4], &s[5], &s[6]) : -1;
    parse_stat("/proc/self/stat");
    unsigned long long vsize = f(23), code = f(27) - f(26);
    unsigned long long maps_pages = 0;
    slurp("/proc/self/maps", NULL);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long long a, b;
        if (sscanf(line, "%llx-%llx", &a, &b) == 2 && !strstr(line, "[vsyscall]")) maps_pages += (b - a) / ps;
    }
    printf("statm: fields=%d size=vsize:%d size=maps:%d resident>0:%d shared<=resident:%d text~code:%d lib=%llu dt=%llu\n",
           n, s[0] * ps == vsize, s[0] == maps_pages, s[1] > 0, s[2] <= s[1],
           s[3] * ps >= code && s[3] * ps <= code + 2 * ps, s[4], s[6]);
}

/* Thread directories: the task list, each thread's stat and the group's thread count. */
static pthread_barrier_t barrier;
static void *thread_main(void *arg) {
    (void)arg;
    pthread_barrier_wait(&barrier);
    pthread_barrier_wait(&barrier);
    return NULL;
}
static int count_entries(const char *path, int *has_self) {
    DIR *d = opendir(path);
    if (!d) return -errno;
    int n = 0;
    struct dirent *e;
    char me[16];
    snprintf(me, sizeof me, "%d", getpid());
    if (has_self) *has_self = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            ++n;
            if (has_self && !strcmp(e->d_name, me)) *has_self = 1;
        }
    closedir(d);
    return n;
}
static void show_threads(void) {
    pthread_t th;
    pthread_barrier_init(&barrier, NULL, 2);
    pthread_create(&th, NULL, thread_main, NULL);
    pthread_barrier_wait(&barrier);
    int has_self;
    int tasks = count_entries("/proc/self/task", &has_self);
    parse_stat("/proc/self/stat");
    long long threads = fs(20);
    char path[64];
    int others_ok = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == getpid()) continue;
        snprintf(path, sizeof path, "/proc/self/task/%.20s/stat", e->d_name);
        int n = parse_stat(path);
        others_ok = n == NFIELDS && fs(1) == atoi(e->d_name) && fs(20) == 2 && fs(38) == -1 && fs(4) == getppid();
        snprintf(path, sizeof path, "/proc/self/task/%.20s/task", e->d_name);
        int fd = open(path, O_RDONLY);
        printf("thread dir has no task/: %s\n", fd < 0 ? strerror(errno) : "it has");
        snprintf(path, sizeof path, "/proc/self/task/%.20s/comm", e->d_name);
        printf("thread comm: %s", slurp(path, NULL) ? text : "?\n");
    }
    closedir(d);
    printf("threads: task entries=%d has leader=%d stat threads=%lld thread stat ok=%d\n", tasks, has_self, threads, others_ok);
    pthread_barrier_wait(&barrier);
    pthread_join(th, NULL);
    /* The futex wake that ends pthread_join comes from the exiting thread's mm_release,
     * before Linux unhashes it: natively its task/ entry can outlive the join briefly. */
    int entries = count_entries("/proc/self/task", NULL);
    for (int tries = 0; entries != 1 && tries < 2000; ++tries) {
        usleep(1000);
        entries = count_entries("/proc/self/task", NULL);
    }
    printf("after join: task entries=%d\n", entries);
}

/* A child through its life: sleeping, stopped, a zombie, gone; /proc lists it meanwhile. */
static void show_child(void) {
    int fds[2];
    pipe(fds);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        read(fds[0], &c, 1);
        _exit(3);
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    for (int tries = 0; tries < 2000; ++tries) {  /* until it sleeps in read */
        parse_stat(path);
        if (field[2][0] == 'S') break;
        usleep(1000);
    }
    parse_stat(path);
    printf("child: state=%s ppid_ok=%d pgrp_ok=%d wchan=%lld flags_forknoexec=%d threads=%lld\n", field[2],
           fs(4) == getpid(), fs(5) == getpgrp(), fs(35), (int)((f(9) >> 6) & 1), fs(20));
    int listed;
    char me[16];
    snprintf(me, sizeof me, "%d", pid);
    DIR *d = opendir("/proc");
    struct dirent *e;
    int self_listed = 0;
    listed = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, me)) listed = 1;
        if (atoi(e->d_name) == getpid()) self_listed = 1;
    }
    closedir(d);
    printf("/proc lists the child: %d, itself: %d\n", listed, self_listed);
    kill(pid, SIGSTOP);
    siginfo_t si;
    waitid(P_PID, pid, &si, WSTOPPED);
    parse_stat(path);
    printf("stopped: state=%s\n", field[2]);
    kill(pid, SIGCONT);
    write(fds[1], "x", 1);
    waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
    int n = parse_stat(path);
    printf("zombie: fields=%d state=%s vsize=%llu rss=%llu start_code=%llu exit_code=%#llx\n", n, field[2], f(23), f(24),
           f(26), f(52));
    slurp(path, NULL);
    snprintf(path, sizeof path, "/proc/%d/statm", pid);
    printf("zombie statm: %s", slurp(path, NULL) ? text : "?\n");
    waitpid(pid, NULL, 0);
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    printf("reaped: %s\n", open(path, O_RDONLY) < 0 ? strerror(errno) : "still there");
    close(fds[0]);
    close(fds[1]);
}

/* /proc/stat and /proc/uptime: their lines, and times consistent with each other. */
static void show_global(void) {
    slurp("/proc/stat", NULL);
    int cpu = 0, cpu0 = 0, intr = 0, ctxt = 0, btime_ok = 0, procs = 0, running = 0, blocked = 0, softirq = 0;
    unsigned long long btime = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        int words = 0;
        for (char *c = line; *c; ++c) words += (*c == ' ' && c[1] != ' ' && c[1]);
        if (!strncmp(line, "cpu ", 4)) cpu = words;
        else if (!strncmp(line, "cpu0 ", 5)) cpu0 = words;
        else if (!strncmp(line, "intr ", 5)) intr = words >= 1;
        else if (!strncmp(line, "ctxt ", 5)) ctxt = strtoull(line + 5, NULL, 10) > 0;
        else if (!strncmp(line, "btime ", 6)) btime = strtoull(line + 6, NULL, 10);
        else if (!strncmp(line, "processes ", 10)) procs = strtoull(line + 10, NULL, 10) > 0;
        else if (!strncmp(line, "procs_running ", 14)) running = atoi(line + 14) >= 1;
        else if (!strncmp(line, "procs_blocked ", 14)) blocked = atoi(line + 14) >= 0;
        else if (!strncmp(line, "softirq ", 8)) softirq = words;
    }
    double up = 0, idle = 0;
    slurp("/proc/uptime", NULL);
    int n = sscanf(text, "%lf %lf", &up, &idle);
    int two_decimals = strchr(text, '.') && strchr(text, '.')[3] == ' ';
    btime_ok = llabs((long long)btime + (long long)up - (long long)time(NULL)) <= 2;
    printf("/proc/stat: cpu words=%d cpu0 words=%d intr=%d ctxt=%d btime+uptime=now:%d processes=%d running=%d blocked=%d softirq words=%d\n",
           cpu, cpu0, intr, ctxt, btime_ok, procs, running, blocked, softirq);
    parse_stat("/proc/self/stat");
    printf("/proc/uptime: fields=%d two decimals=%d idle>=0:%d started before now:%d\n", n, two_decimals, idle >= 0,
           f(22) <= (unsigned long long)(up * 100) + 1);
}

/* auxv: the saved vector, its words as getauxval gives them, and what follows AT_NULL. */
static void show_auxv(void) {
    size_t len = 0;
    slurp("/proc/self/auxv", &len);
    unsigned long *w = (unsigned long *)text;
    size_t pairs = 0, matched = 0;
    unsigned long types[] = {AT_PAGESZ, AT_PHDR, AT_ENTRY, AT_UID, AT_EGID, AT_RANDOM};
    for (; (pairs + 1) * 2 * sizeof(long) <= len; ++pairs) {
        if (w[2 * pairs] == AT_NULL) break;
        for (size_t t = 0; t < sizeof types / sizeof *types; ++t)
            if (w[2 * pairs] == types[t] && w[2 * pairs + 1] == getauxval(types[t])) ++matched;
    }
    const size_t n = pairs + 1;  /* with AT_NULL */
    size_t extra = len - n * 2 * sizeof(long), expect = 0;
    if (sizeof(long) == 4) expect = (n - 1) % 2 == 0 ? 8 : 16;  /* a 64-bit kernel's long pairs */
    printf("auxv: whole pairs=%d matched getauxval=%zu tail after AT_NULL as Linux=%d\n",
           len % (2 * sizeof(long)) == 0, matched, extra == expect);
}

/* limits: the header and lines for limits this program sets. */
static void show_limits(void) {
    struct rlimit r = {0, 0};
    setrlimit(RLIMIT_CORE, &r);
    struct rlimit nofile = {100, 200};
    setrlimit(RLIMIT_NOFILE, &nofile);
    struct rlimit msg = {RLIM_INFINITY, RLIM_INFINITY};
    getrlimit(RLIMIT_MSGQUEUE, &msg);
    msg.rlim_cur = 4096;
    setrlimit(RLIMIT_MSGQUEUE, &msg);
    slurp("/proc/self/limits", NULL);
    int lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        ++lines;
        if (!strncmp(line, "Limit", 5) || !strncmp(line, "Max core", 8) || !strncmp(line, "Max open", 8) ||
            !strncmp(line, "Max nice", 8))
            printf("[%s]\n", line);
        if (!strncmp(line, "Max msgqueue", 12)) printf("[%.46s]\n", line);
    }
    printf("limits lines=%d\n", lines);
}

/* cwd and root links, wchan, and the errors of the files. */
static void show_links_and_errors(void) {
    char link[256], cwd[256];
    chdir("/proc");
    getcwd(cwd, sizeof cwd);
    ssize_t n = readlink("/proc/self/cwd", link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    printf("cwd link = getcwd: %d\n", !strcmp(link, cwd));
    n = readlink("/proc/self/root", link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    printf("root link: %s\n", link);
    chdir("/");
    printf("wchan: [%s]\n", slurp("/proc/self/wchan", NULL) ? text : "?");
    printf("readlink stat: %s\n", readlink("/proc/self/stat", link, sizeof link) < 0 ? strerror(errno) : "a link");
    printf("readlink cwd with a 1-byte buffer: %zd\n", readlink("/proc/self/cwd", link, 1));
    printf("stat of no such pid: %s\n", open("/proc/999999/stat", O_RDONLY) < 0 ? strerror(errno) : "opened");
    printf("task/1 of this process: %s\n", open("/proc/self/task/1/stat", O_RDONLY) < 0 ? strerror(errno) : "opened");
    printf("read stat at offset 5 = the rest: ");
    char full[1024], part[1024];
    int fd = open("/proc/self/statm", O_RDONLY);
    ssize_t a = read(fd, full, sizeof full);
    ssize_t b = pread(fd, part, sizeof part, 5);
    printf("%d\n", a > 5 && b == a - 5 && !memcmp(full + 5, part, b));
    close(fd);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    show_stat_identity("self");
    prctl(PR_SET_NAME, "a b) (c");
    int n = parse_stat("/proc/self/stat");
    printf("comm with ') (': [%s] fields=%d state=%s\n", comm, n, field[2]);
    show_bounds();
    show_signals();
    show_faults_and_time();
    show_statm();
    show_threads();
    show_child();
    show_global();
    show_auxv();
    show_limits();
    show_links_and_errors();
    return 0;
}
