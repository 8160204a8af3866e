/* sig_altstack: sigaltstack and SA_ONSTACK.
 *   - the query before any sigaltstack call says SS_DISABLE, after setting one 0;
 *   - a SA_ONSTACK handler runs on the alternate stack and sees SS_ONSTACK, may not
 *     change the alternate stack while on it (EPERM); a handler without SA_ONSTACK runs
 *     on the normal stack; a SA_ONSTACK handler nested in one continues below it on the
 *     alternate stack;
 *   - finally unbounded recursion overflows the main stack: the SIGSEGV handler
 *     (SA_ONSTACK) can only run on the alternate stack; it reports with write() and
 *     _exit(0)s.
 * The stack limit is lowered to 8 MiB first (in case it is unlimited); a failure of
 * setrlimit is ignored. Addresses are printed only as yes/no comparisons. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define ALT_SIZE (256 * 1024)
static char altstack[ALT_SIZE] __attribute__((aligned(64)));

static const char *yesno(int b) { return b ? "yes" : "no"; }

static int on_altstack(const void *p)
{
    return (const char *)p >= altstack && (const char *)p < altstack + ALT_SIZE;
}

/* sigaltstack(NULL, &s); if the call fails, ss_flags reads -1 ("other"). */
static stack_t query(void)
{
    stack_t s;
    memset(&s, 0, sizeof s);
    s.ss_flags = -1;
    sigaltstack(NULL, &s);
    return s;
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) {
        perror("sigaction");
        _exit(11);
    }
}

/* What the handlers saw. */
static volatile int h_on_alt, h_flags, h_change_rc, h_change_errno;
static volatile int nested_on_alt, nested_below;
static char *volatile outer_local;

static void nested_handler(int sig, siginfo_t *si, void *uc)
{
    volatile char local = 0;
    (void)sig, (void)si, (void)uc;
    nested_on_alt = on_altstack((const char *)&local);
    nested_below = (char *)&local < outer_local;
}

static void onstack_handler(int sig, siginfo_t *si, void *uc)
{
    volatile char local = 0;
    stack_t cur, other;
    (void)sig, (void)si, (void)uc;
    h_on_alt = on_altstack((const char *)&local);
    cur = query();
    h_flags = cur.ss_flags;
    /* Changing the alternate stack while running on it is refused. */
    other.ss_sp = altstack;
    other.ss_size = ALT_SIZE / 2;
    other.ss_flags = 0;
    errno = 0;
    h_change_rc = sigaltstack(&other, NULL);
    h_change_errno = errno;
    /* A nested SA_ONSTACK signal goes on below this frame. */
    outer_local = (char *)&local;
    raise(SIGHUP);
}

static void plain_handler(int sig, siginfo_t *si, void *uc)
{
    volatile char local = 0;
    stack_t cur;
    (void)sig, (void)si, (void)uc;
    h_on_alt = on_altstack((const char *)&local);
    cur = query();
    h_flags = cur.ss_flags;
}

static const char *flags_name(int flags)
{
    switch (flags) {
    case 0: return "0";
    case SS_ONSTACK: return "SS_ONSTACK";
    case SS_DISABLE: return "SS_DISABLE";
    default: return "other";
    }
}

/* ---- the overflow ---- */
static volatile uintptr_t deepest; /* address of the deepest frame's buffer */
static volatile int stop_recursion;

static int recurse(int n)
{
    volatile char buf[512];
    buf[0] = (char)n;
    deepest = (uintptr_t)buf;
    if (stop_recursion)
        return 0;
    return recurse(n + 1) + buf[0];
}

static void say(const char *s) { (void)!write(1, s, strlen(s)); }

static void overflow_handler(int sig, siginfo_t *si, void *uc)
{
    volatile char local = 0;
    stack_t cur;
    (void)uc;
    say("overflow: SIGSEGV handler entered\n");
    say(sig == SIGSEGV && si->si_signo == SIGSEGV ? "overflow: si_signo SIGSEGV\n"
                                                  : "overflow: si_signo other\n");
    say(si->si_code == SEGV_MAPERR   ? "overflow: si_code SEGV_MAPERR\n"
        : si->si_code == SEGV_ACCERR ? "overflow: si_code SEGV_ACCERR\n"
                                     : "overflow: si_code other\n");
    /* The faulting access belongs to the frame after the deepest one that fitted. */
    uintptr_t below = deepest - (uintptr_t)si->si_addr;
    say((uintptr_t)si->si_addr < deepest && below < 8192
            ? "overflow: si_addr just below the deepest frame: yes\n"
            : "overflow: si_addr just below the deepest frame: no\n");
    say(on_altstack((const char *)&local) ? "on altstack yes\n" : "on altstack no\n");
    cur = query();
    say(cur.ss_flags == SS_ONSTACK ? "overflow: sigaltstack query in handler: SS_ONSTACK\n"
                                   : "overflow: sigaltstack query in handler: not SS_ONSTACK\n");
    _exit(0);
}

int main(void)
{
    stack_t ss, old;

    if (sigaltstack(NULL, &old) != 0)
        return 2;
    printf("initial query: ss_flags %s, ss_size 0: %s\n", flags_name(old.ss_flags),
           yesno(old.ss_size == 0));

    /* Too small is refused. */
    ss.ss_sp = altstack;
    ss.ss_size = 512;
    ss.ss_flags = 0;
    errno = 0;
    int rc = sigaltstack(&ss, NULL);
    printf("512-byte alternate stack refused: %s, ENOMEM %s\n", yesno(rc == -1), yesno(errno == ENOMEM));

    ss.ss_sp = altstack;
    ss.ss_size = ALT_SIZE;
    ss.ss_flags = 0;
    if (sigaltstack(&ss, &old) != 0)
        return 3;
    printf("set: old ss_flags %s\n", flags_name(old.ss_flags));
    old = query();
    printf("query: ss_flags %s, ss_sp == altstack %s, ss_size == %d %s\n", flags_name(old.ss_flags),
           yesno(old.ss_sp == altstack), ALT_SIZE, yesno(old.ss_size == ALT_SIZE));

    install(SIGUSR1, onstack_handler, SA_ONSTACK);
    install(SIGHUP, nested_handler, SA_ONSTACK);
    raise(SIGUSR1);
    printf("SA_ONSTACK handler: on altstack %s, query ss_flags %s\n", yesno(h_on_alt), flags_name(h_flags));
    printf("SA_ONSTACK handler: changing the altstack on it fails %s, EPERM %s\n",
           yesno(h_change_rc == -1), yesno(h_change_errno == EPERM));
    printf("nested SA_ONSTACK handler: on altstack %s, below the outer frame %s\n",
           yesno(nested_on_alt), yesno(nested_below));
    old = query();
    printf("after return: ss_flags %s, ss_size unchanged %s\n", flags_name(old.ss_flags),
           yesno(old.ss_size == ALT_SIZE));

    install(SIGUSR2, plain_handler, 0);
    raise(SIGUSR2);
    printf("handler without SA_ONSTACK: on altstack %s, query ss_flags %s\n", yesno(h_on_alt),
           flags_name(h_flags));

    /* Disable and re-enable. */
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    old = query();
    printf("after SS_DISABLE: ss_flags %s\n", flags_name(old.ss_flags));
    h_on_alt = -1;
    raise(SIGUSR1); /* SA_ONSTACK with no alternate stack: runs on the normal stack */
    printf("SA_ONSTACK handler with the altstack disabled: on altstack %s, query ss_flags %s\n",
           yesno(h_on_alt == 1), flags_name(h_flags));
    ss.ss_flags = 0;
    ss.ss_size = ALT_SIZE;
    if (sigaltstack(&ss, NULL) != 0)
        return 4;

    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (8u << 20))) {
        rl.rlim_cur = 8u << 20;
        setrlimit(RLIMIT_STACK, &rl);
    }
    install(SIGSEGV, overflow_handler, SA_ONSTACK);
    printf("overflowing the main stack\n");
    fflush(stdout);
    int r = recurse(0);
    printf("recursion returned %d\n", r);
    return 1;
}
