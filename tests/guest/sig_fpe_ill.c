/* sig_fpe_ill: the synchronous signals of faulting instructions other than SIGSEGV.
 *   SIGFPE  integer divide by zero, and INT_MIN / -1 (both #DE: Linux reports FPE_INTDIV
 *           for both); the handler siglongjmps out;
 *   SIGILL  ud2 (ILL_ILLOPN, si_addr = the ud2); the handler siglongjmps out;
 *   SIGTRAP int3 (si_code SI_KERNEL = 128); the handler returns and execution resumes
 *           after the int3 (the saved instruction pointer already points past it).
 * Handlers record, main prints; addresses only as yes/no comparisons. */
#define _GNU_SOURCE
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#ifdef __x86_64__
#define UC_IP(uc) ((unsigned long)(uc)->uc_mcontext.gregs[REG_RIP])
#else
#define UC_IP(uc) ((unsigned long)(uc)->uc_mcontext.gregs[REG_EIP])
#endif

/* ud2 and int3 at known addresses (the same text assembles for i386 and x86-64). */
void do_ud2(void);
void do_int3(void);
extern char after_int3[];
__asm__(".text\n"
        ".globl do_ud2\n.type do_ud2,@function\n"
        "do_ud2:\n\tud2\n\tret\n"
        ".globl do_int3\n.type do_int3,@function\n"
        "do_int3:\n\tint3\n"
        ".globl after_int3\nafter_int3:\n\tret\n");

static volatile int seen_count, seen_signo, seen_code;
static void *volatile seen_addr;
static volatile unsigned long seen_ip;
static sigjmp_buf jump_env;

static void record(siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    seen_count++;
    seen_signo = si->si_signo;
    seen_code = si->si_code;
    seen_addr = si->si_addr;
    seen_ip = UC_IP(uc);
}

static void jump_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    record(si, uc);
    siglongjmp(jump_env, 1);
}

static void return_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    record(si, uc);
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) {
        perror("sigaction");
        _exit(11);
    }
}

static void reset(void)
{
    seen_count = seen_signo = seen_code = 0;
    seen_addr = (void *)1;
    seen_ip = 1;
}

static const char *code_name(int sig, int code)
{
    if (code == SI_KERNEL)
        return "SI_KERNEL";
    if (sig == SIGFPE && code == FPE_INTDIV)
        return "FPE_INTDIV";
    if (sig == SIGFPE && code == FPE_INTOVF)
        return "FPE_INTOVF";
    if (sig == SIGILL && code == ILL_ILLOPN)
        return "ILL_ILLOPN";
    if (sig == SIGILL && code == ILL_ILLOPC)
        return "ILL_ILLOPC";
    if (sig == SIGTRAP && code == TRAP_BRKPT)
        return "TRAP_BRKPT";
    return "other";
}

static void report(const char *what, int sig)
{
    printf("%s: handler ran %d time(s)\n", what, seen_count);
    printf("%s: si_signo %d (%s)\n", what, seen_signo, seen_signo == sig ? "expected" : "unexpected");
    printf("%s: si_code %d (%s)\n", what, seen_code, code_name(sig, seen_code));
}

static void report_blocked(const char *what, int sig)
{
    sigset_t cur;
    sigemptyset(&cur);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("%s: signal blocked afterwards: %s\n", what, sigismember(&cur, sig) ? "yes" : "no");
}

int main(void)
{
    volatile int a = 7, zero = 0, minus_one = -1, int_min = INT_MIN;
    volatile int result = 0;

    install(SIGFPE, jump_handler);
    reset();
    if (sigsetjmp(jump_env, 1) == 0) {
        result = a / zero;
        printf("divide by zero: no signal (result %d)\n", result);
    } else {
        printf("divide by zero: came back through siglongjmp\n");
    }
    report("divide by zero", SIGFPE);
    printf("divide by zero: si_addr non-zero: %s\n", seen_addr != NULL ? "yes" : "no");
    printf("divide by zero: si_addr == saved instruction pointer: %s\n",
           (unsigned long)seen_addr == seen_ip ? "yes" : "no");
    report_blocked("divide by zero", SIGFPE);

    reset();
    if (sigsetjmp(jump_env, 1) == 0) {
        result = int_min / minus_one;
        printf("INT_MIN / -1: no signal (result %d)\n", result);
    } else {
        printf("INT_MIN / -1: came back through siglongjmp\n");
    }
    report("INT_MIN / -1", SIGFPE);
    printf("INT_MIN / -1: si_addr == saved instruction pointer: %s\n",
           (unsigned long)seen_addr == seen_ip ? "yes" : "no");

    reset();
    if (sigsetjmp(jump_env, 1) == 0) {
        result = int_min % minus_one;
        printf("INT_MIN %% -1: no signal (result %d)\n", result);
    } else {
        printf("INT_MIN %% -1: came back through siglongjmp\n");
    }
    report("INT_MIN % -1", SIGFPE);

    install(SIGILL, jump_handler);
    reset();
    if (sigsetjmp(jump_env, 1) == 0) {
        do_ud2();
        printf("ud2: no signal\n");
    } else {
        printf("ud2: came back through siglongjmp\n");
    }
    report("ud2", SIGILL);
    printf("ud2: si_addr == address of the ud2: %s\n", seen_addr == (void *)do_ud2 ? "yes" : "no");
    printf("ud2: saved instruction pointer == address of the ud2: %s\n",
           seen_ip == (unsigned long)do_ud2 ? "yes" : "no");
    report_blocked("ud2", SIGILL);

    /* __builtin_trap is also ud2 on x86. */
    reset();
    if (sigsetjmp(jump_env, 1) == 0) {
        if (a == 7)
            __builtin_trap();
        printf("__builtin_trap: no signal\n");
    } else {
        printf("__builtin_trap: came back through siglongjmp\n");
    }
    report("__builtin_trap", SIGILL);

    install(SIGTRAP, return_handler);
    reset();
    do_int3();
    printf("int3: execution resumed after the handler returned\n");
    report("int3", SIGTRAP);
    printf("int3: saved instruction pointer == address after the int3: %s\n",
           seen_ip == (unsigned long)after_int3 ? "yes" : "no");
    printf("int3: si_addr == 0: %s\n", seen_addr == NULL ? "yes" : "no");
    report_blocked("int3", SIGTRAP);

    reset();
    for (int i = 0; i < 3; i++)
        do_int3();
    printf("int3 x3: handler ran %d time(s)\n", seen_count);
    return 0;
}
