/* rt_sigqueueinfo and rt_tgsigqueueinfo as Linux checks them (kernel/signal.c), and
 * rt_sigtimedwait waiting for an ignored signal:
 * - rt_sigqueueinfo to a thread's id signals its process, and that thread takes it;
 * - a siginfo claiming to come from the kernel or from kill/tgkill (si_code >= 0, SI_TKILL)
 *   is EPERM unless sent to the caller's own thread; signal 0 only checks; EINVAL for a bad
 *   signal, ESRCH for no such pid;
 * - rt_tgsigqueueinfo: EINVAL for a tgid or pid <= 0, ESRCH for a thread of another process;
 * - an ignored signal that a blocked waiter in rt_sigtimedwait waits for is queued, not
 *   dropped (the mask it really blocks counts, Linux's real_blocked). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t handler_tid;
static volatile int handler_value;
static volatile int handler_code;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    handler_tid = (pid_t)syscall(SYS_gettid);
    handler_value = si->si_value.sival_int;
    handler_code = si->si_code;
}

/* The siginfo the caller queues: its own pid and uid, the code and the value. */
static siginfo_t info(int sig, int code, int value)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = sig;
    si.si_code = code;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_int = value;
    return si;
}

static long queue(pid_t pid, int sig, int code, int value)
{
    siginfo_t si = info(sig, code, value);
    return syscall(SYS_rt_sigqueueinfo, pid, sig, &si);
}

static long tgqueue(pid_t tgid, pid_t tid, int sig, int code, int value)
{
    siginfo_t si = info(sig, code, value);
    return syscall(SYS_rt_tgsigqueueinfo, tgid, tid, sig, &si);
}

static void show(const char *what, long r)
{
    printf("%s: %s\n", what, r == 0 ? "0" : strerror(errno));
}

static volatile pid_t thread_tid;
static volatile int thread_done;

/* The only thread that does not block SIGRTMIN: it waits until the handler ran. */
static void *thread_main(void *arg)
{
    (void)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    thread_tid = (pid_t)syscall(SYS_gettid);
    while (!handler_tid) usleep(1000);
    thread_done = 1;
    return NULL;
}

static void to_a_thread(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &set, NULL);
    pthread_t th;
    pthread_create(&th, NULL, thread_main, NULL);
    while (!thread_tid) usleep(1000);
    show("rt_sigqueueinfo to the thread's id", queue(thread_tid, SIGRTMIN, SI_QUEUE, 42));
    pthread_join(th, NULL);
    printf("taken by the thread: %s, value %d, code SI_QUEUE: %s\n", handler_tid == thread_tid ? "yes" : "no",
           handler_value, handler_code == SI_QUEUE ? "yes" : "no");
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void *idle_thread(void *arg)
{
    thread_tid = (pid_t)syscall(SYS_gettid);
    while (!*(volatile int *)arg) usleep(1000);
    return NULL;
}

static void errors(void)
{
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    show("rt_sigqueueinfo SI_USER to another process", queue(child, SIGUSR1, SI_USER, 0));
    show("rt_sigqueueinfo SI_KERNEL to another process", queue(child, SIGUSR1, SI_KERNEL, 0));
    show("rt_sigqueueinfo SI_TKILL to another process", queue(child, SIGUSR1, SI_TKILL, 0));
    show("rt_sigqueueinfo signal 0 to another process", queue(child, 0, SI_QUEUE, 0));
    show("rt_sigqueueinfo signal 99 to another process", queue(child, 99, SI_QUEUE, 0));
    show("rt_sigqueueinfo to pid 0", queue(0, SIGUSR1, SI_QUEUE, 0));
    show("rt_sigqueueinfo to pid -1", queue(-1, SIGUSR1, SI_QUEUE, 0));
    show("rt_sigqueueinfo signal 99 to pid -1", queue(-1, 99, SI_QUEUE, 0));
    show("rt_tgsigqueueinfo tgid 0", tgqueue(0, child, SIGUSR1, SI_QUEUE, 0));
    show("rt_tgsigqueueinfo pid 0", tgqueue(child, 0, SIGUSR1, SI_QUEUE, 0));
    show("rt_tgsigqueueinfo SI_USER to another process", tgqueue(child, child, SIGUSR1, SI_USER, 0));
    show("rt_tgsigqueueinfo the child under our tgid", tgqueue(getpid(), child, SIGUSR1, SI_QUEUE, 0));
    show("rt_tgsigqueueinfo signal 0 to the child", tgqueue(child, child, 0, SI_QUEUE, 0));
    show("rt_tgsigqueueinfo signal 99 to the child", tgqueue(child, child, 99, SI_QUEUE, 0));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    handler_tid = 0;
    show("rt_sigqueueinfo SI_USER to itself", queue(getpid(), SIGUSR1, SI_USER, 7));
    printf("handler ran: %s, value %d\n", handler_tid ? "yes" : "no", handler_value);
    show("rt_sigqueueinfo signal 0 to itself", queue(getpid(), 0, SI_USER, 0));

    int stop = 0;
    thread_tid = 0;
    pthread_t th;
    pthread_create(&th, NULL, idle_thread, &stop);
    while (!thread_tid) usleep(1000);
    show("rt_sigqueueinfo SI_USER to another thread", queue(thread_tid, SIGUSR1, SI_USER, 0));
    show("rt_tgsigqueueinfo SI_USER to another thread", tgqueue(getpid(), thread_tid, SIGUSR1, SI_USER, 0));
    stop = 1;
    pthread_join(th, NULL);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    show("rt_tgsigqueueinfo SI_TKILL to itself", tgqueue(getpid(), (pid_t)syscall(SYS_gettid), SIGUSR2, SI_TKILL, 5));
    struct timespec zero = {0, 0};
    siginfo_t si;
    int sig = sigtimedwait(&set, &si, &zero);
    printf("pending: %s, SI_TKILL: %s, value %d\n", sig == SIGUSR2 ? "SIGUSR2" : strerror(errno),
           si.si_code == SI_TKILL ? "yes" : "no", si.si_value.sival_int);
}

/* SIGUSR2 is ignored and blocked; a child sends it while we wait for it. */
static void wait_for_ignored(void)
{
    signal(SIGUSR2, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    pid_t parent = getpid();
    pid_t child = fork();
    if (child == 0) {
        usleep(200000);
        kill(parent, SIGUSR2);
        _exit(0);
    }
    struct timespec ts = {5, 0};
    siginfo_t si;
    int sig = sigtimedwait(&set, &si, &ts);
    printf("sigtimedwait for the ignored SIGUSR2: %s, from the child: %s, SI_USER: %s\n",
           sig == SIGUSR2 ? "SIGUSR2" : strerror(errno), si.si_pid == child ? "yes" : "no",
           si.si_code == SI_USER ? "yes" : "no");
    waitpid(child, NULL, 0);

    /* Not waiting, not blocked: an ignored signal is dropped at once. */
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    kill(getpid(), SIGUSR2);
    sigset_t pending;
    sigpending(&pending);
    printf("an unblocked ignored SIGUSR2 is pending: %s\n", sigismember(&pending, SIGUSR2) ? "yes" : "no");
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN, &sa, NULL);
    to_a_thread();
    errors();
    wait_for_ignored();
    return 0;
}
