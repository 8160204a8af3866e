/* sig_default MODE: dies by the default action of a signal; the oracle compares the exit
 * status (128 + N for death by signal N). MODE is the signal's name, optionally with a
 * variant:
 *   SIGSEGV  write through NULL          SIGFPE   integer divide by zero
 *   SIGILL   ud2                         SIGTRAP  int3
 *   SIGABRT  abort()                     SIGTERM, SIGKILL, SIGUSR1, SIGINT, SIGHUP: raise
 *   SIGSEGV_blocked    a handler is installed but SIGSEGV is blocked: the kernel forces
 *                      the default action for a fault that cannot be delivered
 *   SIGSEGV_ignored    SIG_IGN does not apply to a fault either
 *   SIGSEGV_in_handler the SIGSEGV handler itself faults (SIGSEGV is blocked in it)
 *   SIGUSR1_resethand  SA_RESETHAND: the first raise runs the handler, the second kills
 *   SIGTERM_unblock    raised while blocked (the process lives on), killed on unblock
 *   SIGKILL_blocked    blocking everything does not block SIGKILL
 * A line is printed (and flushed) before the signal so that the output shows how far the
 * program got. Exit 1: the process survived; exit 2: bad usage. Core dumps are disabled
 * (RLIMIT_CORE 0; a failure of setrlimit is ignored). Inherited signal actions and mask
 * are reset to the defaults first. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void say(const char *s)
{
    printf("%s\n", s);
    fflush(stdout);
}

static volatile int handled;
/* NULL, read through a volatile pointer so that the compiler cannot see it is NULL; the
 * store through it is volatile too so that it cannot be dropped. */
static volatile int *volatile null_ptr;

static void handler(int sig)
{
    (void)sig;
    handled++;
}

static void faulting_handler(int sig)
{
    (void)sig;
    (void)!write(1, "in SIGSEGV handler, faulting again\n", 35);
    *null_ptr = 1;
}

static void set_handler(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void block_only(int sig)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: sig_default MODE\n");
        return 2;
    }
    const char *mode = argv[1];
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    /* Start from the defaults whatever was inherited (a shell's background job, for
     * instance, inherits SIGINT ignored): every action SIG_DFL, nothing blocked. */
    for (int sig = 1; sig < 32; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    volatile int zero = 0, seven = 7;

    printf("mode %s\n", mode);
    if (strcmp(mode, "SIGSEGV") == 0) {
        say("writing through NULL");
        *null_ptr = 1;
    } else if (strcmp(mode, "SIGFPE") == 0) {
        say("dividing by zero");
        seven = seven / zero;
    } else if (strcmp(mode, "SIGILL") == 0) {
        say("executing ud2");
        __asm__ volatile("ud2");
    } else if (strcmp(mode, "SIGTRAP") == 0) {
        say("executing int3");
        __asm__ volatile("int3");
    } else if (strcmp(mode, "SIGABRT") == 0) {
        say("calling abort");
        abort();
    } else if (strcmp(mode, "SIGTERM") == 0) {
        say("raising SIGTERM");
        raise(SIGTERM);
    } else if (strcmp(mode, "SIGKILL") == 0) {
        say("raising SIGKILL");
        raise(SIGKILL);
    } else if (strcmp(mode, "SIGUSR1") == 0) {
        say("raising SIGUSR1");
        raise(SIGUSR1);
    } else if (strcmp(mode, "SIGINT") == 0) {
        say("raising SIGINT");
        raise(SIGINT);
    } else if (strcmp(mode, "SIGHUP") == 0) {
        say("raising SIGHUP");
        raise(SIGHUP);
    } else if (strcmp(mode, "SIGSEGV_blocked") == 0) {
        set_handler(SIGSEGV, handler, 0);
        block_only(SIGSEGV);
        say("writing through NULL with SIGSEGV handled but blocked");
        *null_ptr = 1;
        printf("handler ran %d time(s)\n", handled);
    } else if (strcmp(mode, "SIGSEGV_ignored") == 0) {
        set_handler(SIGSEGV, SIG_IGN, 0);
        say("writing through NULL with SIGSEGV ignored");
        *null_ptr = 1;
    } else if (strcmp(mode, "SIGSEGV_in_handler") == 0) {
        set_handler(SIGSEGV, faulting_handler, 0);
        say("writing through NULL, the handler faults too");
        *null_ptr = 1;
    } else if (strcmp(mode, "SIGUSR1_resethand") == 0) {
        set_handler(SIGUSR1, handler, SA_RESETHAND);
        raise(SIGUSR1);
        printf("first raise: handler ran %d time(s)\n", handled);
        say("raising SIGUSR1 again");
        raise(SIGUSR1);
    } else if (strcmp(mode, "SIGTERM_unblock") == 0) {
        block_only(SIGTERM);
        raise(SIGTERM);
        say("SIGTERM raised while blocked, still alive; unblocking");
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
    } else if (strcmp(mode, "SIGKILL_blocked") == 0) {
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        say("everything blocked, raising SIGKILL");
        raise(SIGKILL);
    } else {
        fprintf(stderr, "sig_default: unknown mode %s\n", mode);
        return 2;
    }
    say("survived");
    return 1;
}
