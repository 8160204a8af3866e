/* sig_kill: signals a process sends itself, and what sigaction/sigprocmask do to them.
 * raise/kill/sigqueue and their si_code, blocking and pending (standard signals do not
 * queue, real-time ones do, in order), the delivery order of several signals unblocked at
 * once, sa_mask, SA_NODEFER, SA_RESETHAND, sigsuspend, querying the old action, SIG_IGN.
 * Handlers only append to an event log; main prints it. The default actions (which end
 * the process) are in sig_default.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- an async-signal-safe event log ---- */
static char log_buf[1024];
static volatile size_t log_len;

static void log_str(const char *s)
{
    size_t n = strlen(s);
    if (log_len + n + 1 < sizeof log_buf) {
        memcpy(log_buf + log_len, s, n);
        log_len += n;
        log_buf[log_len++] = ' ';
        log_buf[log_len] = 0;
    }
}

static void log_reset(void)
{
    log_len = 0;
    log_buf[0] = 0;
}

static void log_print(const char *what)
{
    if (log_len)
        log_buf[log_len - 1] = 0; /* drop the trailing space */
    printf("%s: %s\n", what, log_len ? log_buf : "(nothing)");
    log_reset();
}

static const char *sig_name(int sig)
{
    switch (sig) {
    case SIGUSR1: return "USR1";
    case SIGUSR2: return "USR2";
    case SIGTERM: return "TERM";
    case SIGHUP: return "HUP";
    case SIGINT: return "INT";
    default: return sig == SIGRTMIN ? "RTMIN" : "?";
    }
}

static const char *yesno(int b) { return b ? "yes" : "no"; }

static int is_blocked(int sig)
{
    sigset_t cur;
    sigemptyset(&cur); /* a failing call must not leave garbage to print */
    sigprocmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, sig);
}

static int is_pending(int sig)
{
    sigset_t set;
    sigemptyset(&set);
    sigpending(&set);
    return sigismember(&set, sig);
}

static void set_action(int sig, void (*fn)(int), int flags, const int *mask_sigs)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    for (; mask_sigs && *mask_sigs; mask_sigs++)
        sigaddset(&sa.sa_mask, *mask_sigs);
    if (sigaction(sig, &sa, NULL) != 0) {
        perror("sigaction");
        _exit(11);
    }
}

static void block(int how, int sig)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(how, &set, NULL);
}

/* ---- handlers ---- */
static volatile int count;
static volatile int last_sig;

static void counting_handler(int sig)
{
    count++;
    last_sig = sig;
}

static void logging_handler(int sig)
{
    log_str(sig_name(sig));
}

static volatile int calls;

/* Logs "<prefix><digit>" (digit 0..9). */
static void log_num(const char *prefix, int n)
{
    char ev[16];
    size_t len = strlen(prefix);
    memcpy(ev, prefix, len);
    ev[len] = (char)('0' + n % 10);
    ev[len + 1] = 0;
    log_str(ev);
}

/* Call n logs enterN/exitN; the first call raises its own signal once more, which nests
 * with SA_NODEFER and otherwise stays pending until the handler returns. */
static void reentrant_handler(int sig)
{
    int n = ++calls;
    log_num("enter", n);
    if (n == 1)
        raise(sig);
    log_num("exit", n);
}

/* USR1 handler with USR2 in sa_mask: raising USR2 inside is deferred. */
static void masked_handler(int sig)
{
    (void)sig;
    log_str("enter-USR1");
    log_str(is_blocked(SIGUSR1) ? "USR1-blocked" : "USR1-unblocked");
    log_str(is_blocked(SIGUSR2) ? "USR2-blocked" : "USR2-unblocked");
    raise(SIGUSR2);
    log_str(is_pending(SIGUSR2) ? "USR2-pending" : "USR2-not-pending");
    log_str("exit-USR1");
}

static void resethand_handler(int sig)
{
    struct sigaction now;
    sigaction(sig, NULL, &now);
    log_str("handler");
    log_str(now.sa_handler == SIG_DFL ? "action-now-SIG_DFL" : "action-still-handler");
    log_str(is_blocked(sig) ? "self-blocked" : "self-unblocked");
}

static volatile int info_code, info_pid_ok, info_uid_ok, info_value, info_signo;

static void info_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    info_signo = si->si_signo == sig ? sig : -1;
    info_code = si->si_code;
    info_pid_ok = si->si_pid == getpid();
    info_uid_ok = si->si_uid == getuid();
    info_value = si->si_value.sival_int;
}

static void rt_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    log_num("v", si->si_value.sival_int);
}

static const char *code_name(int code)
{
    switch (code) {
    case SI_USER: return "SI_USER";
    case SI_TKILL: return "SI_TKILL";
    case SI_QUEUE: return "SI_QUEUE";
    default: return "other";
    }
}

int main(void)
{
    struct sigaction old;

    /* Initial dispositions: everything SIG_DFL, nothing blocked or pending. */
    sigaction(SIGUSR2, NULL, &old);
    printf("initial SIGUSR2 action SIG_DFL: %s\n", yesno(old.sa_handler == SIG_DFL));
    printf("initial SIGUSR1 blocked: %s, pending: %s\n", yesno(is_blocked(SIGUSR1)), yesno(is_pending(SIGUSR1)));

    /* raise: the handler has run by the time raise returns. */
    set_action(SIGUSR1, counting_handler, 0, NULL);
    count = 0;
    raise(SIGUSR1);
    printf("raise(SIGUSR1): handler ran %d time(s) before raise returned, sig %s\n", count,
           sig_name(last_sig));

    /* kill to self: delivered before kill returns. */
    set_action(SIGUSR2, counting_handler, 0, NULL);
    count = 0;
    kill(getpid(), SIGUSR2);
    printf("kill(getpid(), SIGUSR2): handler ran %d time(s), sig %s\n", count, sig_name(last_sig));

    /* siginfo of kill, raise and sigqueue. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = info_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);
    kill(getpid(), SIGUSR2);
    printf("kill: si_signo ok %s, si_code %d (%s), si_pid == getpid %s, si_uid == getuid %s\n",
           yesno(info_signo == SIGUSR2), info_code, code_name(info_code), yesno(info_pid_ok), yesno(info_uid_ok));
    info_code = 99;
    raise(SIGUSR2);
    printf("raise: si_code %d (%s), si_pid == getpid %s\n", info_code, code_name(info_code),
           yesno(info_pid_ok));
    union sigval val;
    val.sival_int = 1234;
    info_code = 99;
    sigqueue(getpid(), SIGUSR2, val);
    printf("sigqueue: si_code %d (%s), si_value %d, si_pid == getpid %s\n", info_code,
           code_name(info_code), info_value, yesno(info_pid_ok));

    /* Blocked: stays pending, a standard signal is not queued twice, delivered on unblock. */
    set_action(SIGUSR1, counting_handler, 0, NULL);
    count = 0;
    block(SIG_BLOCK, SIGUSR1);
    raise(SIGUSR1);
    raise(SIGUSR1);
    printf("blocked SIGUSR1 raised twice: handler ran %d time(s), pending %s\n", count,
           yesno(is_pending(SIGUSR1)));
    block(SIG_UNBLOCK, SIGUSR1);
    printf("after unblock: handler ran %d time(s), pending %s\n", count, yesno(is_pending(SIGUSR1)));

    /* Real-time signals queue, with their values, and arrive in order. */
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = rt_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGRTMIN, &sa, NULL);
    block(SIG_BLOCK, SIGRTMIN);
    for (int i = 1; i <= 3; i++) {
        val.sival_int = i;
        sigqueue(getpid(), SIGRTMIN, val);
    }
    log_reset();
    printf("blocked SIGRTMIN queued 3 times: pending %s, handler log before unblock: %s\n",
           yesno(is_pending(SIGRTMIN)), log_len ? "not empty" : "empty");
    block(SIG_UNBLOCK, SIGRTMIN);
    log_print("SIGRTMIN after unblock");

    /* Several blocked signals unblocked at once. Linux takes the lowest number first
     * but sets up every frame before returning to user mode, so the handler of the
     * highest-numbered one runs first (no handler here blocks the others). */
    set_action(SIGUSR1, logging_handler, 0, NULL);
    set_action(SIGUSR2, logging_handler, 0, NULL);
    set_action(SIGTERM, logging_handler, 0, NULL);
    sigset_t three, saved;
    sigemptyset(&saved);
    sigemptyset(&three);
    sigaddset(&three, SIGUSR1);
    sigaddset(&three, SIGUSR2);
    sigaddset(&three, SIGTERM);
    sigprocmask(SIG_BLOCK, &three, &saved);
    raise(SIGUSR2);
    raise(SIGTERM);
    raise(SIGUSR1);
    log_reset();
    sigprocmask(SIG_SETMASK, &saved, NULL);
    log_print("USR2, TERM, USR1 raised while blocked, handlers in order");
    /* The same when each handler blocks the others (sa_mask): one at a time, lowest first. */
    const int others_of_usr1[] = {SIGUSR2, SIGTERM, 0};
    const int others_of_usr2[] = {SIGUSR1, SIGTERM, 0};
    const int others_of_term[] = {SIGUSR1, SIGUSR2, 0};
    set_action(SIGUSR1, logging_handler, 0, others_of_usr1);
    set_action(SIGUSR2, logging_handler, 0, others_of_usr2);
    set_action(SIGTERM, logging_handler, 0, others_of_term);
    sigprocmask(SIG_BLOCK, &three, &saved);
    raise(SIGUSR2);
    raise(SIGTERM);
    raise(SIGUSR1);
    log_reset();
    sigprocmask(SIG_SETMASK, &saved, NULL);
    log_print("same with sa_mask blocking the others, handlers in order");
    set_action(SIGTERM, SIG_DFL, 0, NULL);

    /* sa_mask: USR2 blocked while the USR1 handler runs, delivered when it returns. */
    const int usr2_only[] = {SIGUSR2, 0};
    set_action(SIGUSR1, masked_handler, 0, usr2_only);
    set_action(SIGUSR2, logging_handler, 0, NULL);
    log_reset();
    raise(SIGUSR1);
    log_print("sa_mask {USR2}");
    printf("after the handler: USR1 blocked %s, USR2 blocked %s\n", yesno(is_blocked(SIGUSR1)),
           yesno(is_blocked(SIGUSR2)));

    /* Re-raising the signal from its own handler: deferred without SA_NODEFER ... */
    set_action(SIGUSR1, reentrant_handler, 0, NULL);
    calls = 0;
    log_reset();
    raise(SIGUSR1);
    log_print("re-raise without SA_NODEFER");
    /* ... nested with it. */
    set_action(SIGUSR1, reentrant_handler, SA_NODEFER, NULL);
    calls = 0;
    log_reset();
    raise(SIGUSR1);
    log_print("re-raise with SA_NODEFER");

    /* SA_RESETHAND: the action is SIG_DFL again from the moment the handler is entered. */
    set_action(SIGUSR1, resethand_handler, SA_RESETHAND, NULL);
    log_reset();
    raise(SIGUSR1);
    log_print("SA_RESETHAND");
    sigaction(SIGUSR1, NULL, &old);
    printf("SA_RESETHAND: action afterwards SIG_DFL: %s\n", yesno(old.sa_handler == SIG_DFL));

    /* sigsuspend: a pending blocked signal is delivered inside it; it returns EINTR. */
    set_action(SIGUSR1, counting_handler, 0, NULL);
    count = 0;
    block(SIG_BLOCK, SIGUSR1);
    raise(SIGUSR1);
    sigset_t none;
    sigemptyset(&none);
    errno = 0;
    int r = sigsuspend(&none);
    int e = errno;
    printf("sigsuspend: returned %d %s, handler ran %d time(s), USR1 blocked again %s\n", r,
           e == EINTR ? "EINTR" : "other errno", count, yesno(is_blocked(SIGUSR1)));
    block(SIG_UNBLOCK, SIGUSR1);

    /* Querying and replacing actions: the old action comes back intact. */
    const int hup_only[] = {SIGHUP, 0};
    set_action(SIGUSR1, logging_handler, SA_RESTART | SA_NODEFER, hup_only);
    struct sigaction repl;
    memset(&repl, 0, sizeof repl);
    repl.sa_handler = counting_handler;
    sigemptyset(&repl.sa_mask);
    sigaction(SIGUSR1, &repl, &old);
    printf("old action: handler %s, SA_RESTART %s, SA_NODEFER %s, SA_SIGINFO %s, "
           "mask has HUP %s, mask has INT %s\n",
           yesno(old.sa_handler == logging_handler), yesno(old.sa_flags & SA_RESTART),
           yesno(old.sa_flags & SA_NODEFER), yesno(old.sa_flags & SA_SIGINFO),
           yesno(sigismember(&old.sa_mask, SIGHUP)), yesno(sigismember(&old.sa_mask, SIGINT)));
    sigaction(SIGUSR1, NULL, &old);
    printf("query: handler is the replacement %s, SA_RESTART %s\n",
           yesno(old.sa_handler == counting_handler), yesno(old.sa_flags & SA_RESTART));
    void (*prev)(int) = signal(SIGUSR1, SIG_DFL);
    printf("signal() returned the previous handler: %s\n", yesno(prev == counting_handler));
    errno = 0;
    r = sigaction(SIGKILL, &repl, NULL);
    printf("sigaction(SIGKILL) fails: %s, errno EINVAL %s\n", yesno(r == -1), yesno(errno == EINVAL));
    printf("sigaction(SIGSTOP) fails: %s\n", yesno(sigaction(SIGSTOP, &repl, NULL) == -1));
    printf("sigaction(0) fails: %s\n", yesno(sigaction(0, &repl, NULL) == -1));
    sigset_t all, got;
    sigemptyset(&got);
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &saved);
    sigprocmask(SIG_SETMASK, &saved, &got);
    printf("blocking everything: SIGKILL blocked %s, SIGSTOP blocked %s, SIGUSR1 blocked %s\n",
           yesno(sigismember(&got, SIGKILL)), yesno(sigismember(&got, SIGSTOP)),
           yesno(sigismember(&got, SIGUSR1)));

    /* SIG_IGN: an ignored signal is discarded. */
    signal(SIGINT, SIG_IGN);
    raise(SIGINT);
    printf("raise(SIGINT) with SIG_IGN: survived\n");
    /* Blocked and ignored: Linux keeps it pending (the action could change before the
     * unblock); setting SIG_IGN again discards it. */
    block(SIG_BLOCK, SIGINT);
    raise(SIGINT);
    printf("blocked and ignored SIGINT pending: %s\n", yesno(is_pending(SIGINT)));
    signal(SIGINT, SIG_IGN);
    printf("after setting SIG_IGN again, pending: %s\n", yesno(is_pending(SIGINT)));
    block(SIG_UNBLOCK, SIGINT);
    printf("unblocked: survived\n");
    /* A signal whose default action is to ignore (SIGCHLD, SIGURG, SIGWINCH). */
    raise(SIGCHLD);
    raise(SIGURG);
    raise(SIGWINCH);
    printf("raise(SIGCHLD/SIGURG/SIGWINCH) with SIG_DFL: survived\n");
    return 0;
}
