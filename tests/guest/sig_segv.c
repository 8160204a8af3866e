/* sig_segv: SIGSEGV with SA_SIGINFO for the three common kinds of fault.
 *   1. a write to a PROT_READ page: the handler makes the page writable and returns, so
 *      the faulting write is restarted and completes (SEGV_ACCERR);
 *   2. a read of a munmap'd page: the handler siglongjmps out (SEGV_MAPERR);
 *   3. a read through a NULL pointer (SEGV_MAPERR, si_addr == 0).
 * The handlers only record what they saw; main prints one line per check. Addresses
 * are printed as yes/no comparisons only. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096UL

static volatile int seen_count, seen_signo, seen_code;
static void *volatile seen_addr;
static char *volatile fix_page; /* page the ACCERR handler makes writable */
static sigjmp_buf jump_env;

static const char *code_name(int code)
{
    switch (code) {
    case SEGV_MAPERR: return "SEGV_MAPERR";
    case SEGV_ACCERR: return "SEGV_ACCERR";
    default: return "other";
    }
}

static void record(int sig, siginfo_t *si)
{
    seen_count++;
    seen_signo = si->si_signo == sig ? si->si_signo : -si->si_signo;
    seen_code = si->si_code;
    seen_addr = si->si_addr;
}

static void fix_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    record(sig, si);
    /* Returning without the mprotect would fault again forever. */
    if (mprotect(fix_page, PAGE, PROT_READ | PROT_WRITE) != 0)
        _exit(10);
}

static void jump_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    record(sig, si);
    siglongjmp(jump_env, 1);
}

static void install(void (*fn)(int, siginfo_t *, void *))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) != 0) {
        perror("sigaction");
        _exit(11);
    }
}

static void report(const char *what, void *expect_addr)
{
    printf("%s: handler ran %d time(s)\n", what, seen_count);
    printf("%s: si_signo %d (%s)\n", what, seen_signo, seen_signo == SIGSEGV ? "SIGSEGV" : "?");
    printf("%s: si_code %d (%s)\n", what, seen_code, code_name(seen_code));
    printf("%s: si_addr == faulting address: %s\n", what, seen_addr == expect_addr ? "yes" : "no");
}

static void reset(void)
{
    seen_count = seen_signo = seen_code = 0;
    seen_addr = (void *)1;
}

/* A SIGSEGV must not stay blocked after siglongjmp (sigsetjmp saved the mask). */
static void report_mask(const char *what)
{
    sigset_t cur;
    sigemptyset(&cur);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("%s: SIGSEGV blocked afterwards: %s\n", what, sigismember(&cur, SIGSEGV) ? "yes" : "no");
}

int main(void)
{
    /* 1. write to a read-only page; the handler fixes the protection and returns. */
    char *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return 2;
    page[100] = 7;
    if (mprotect(page, PAGE, PROT_READ) != 0)
        return 3;
    fix_page = page;
    install(fix_handler);
    reset();
    volatile char *target = page + 123;
    *target = 42;
    report("readonly write", page + 123);
    printf("readonly write: write completed after return: %s (value %d, neighbour %d)\n",
           page[123] == 42 ? "yes" : "no", page[123], page[100]);
    report_mask("readonly write");

    /* 2. read of an unmapped page; the handler jumps out. */
    char *gone = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (gone == MAP_FAILED)
        return 2;
    if (munmap(gone + PAGE, PAGE) != 0)
        return 3;
    install(jump_handler);
    reset();
    volatile int value = -1;
    if (sigsetjmp(jump_env, 1) == 0) {
        value = *(volatile char *)(gone + PAGE + 77);
        printf("unmapped read: no fault (value %d)\n", value);
    } else {
        printf("unmapped read: came back through siglongjmp\n");
    }
    report("unmapped read", gone + PAGE + 77);
    report_mask("unmapped read");
    /* The neighbours are still mapped. */
    gone[0] = 1;
    gone[2 * PAGE] = 2;
    printf("unmapped read: neighbour pages still usable: %s\n",
           gone[0] + gone[2 * PAGE] == 3 ? "yes" : "no");

    /* 3. NULL read (through a volatile pointer so that the compiler emits the load). */
    reset();
    volatile int *volatile null_ptr = NULL;
    if (sigsetjmp(jump_env, 1) == 0) {
        value = *null_ptr;
        printf("null read: no fault (value %d)\n", value);
    } else {
        printf("null read: came back through siglongjmp\n");
    }
    report("null read", NULL);
    printf("null read: si_addr == 0: %s\n", seen_addr == NULL ? "yes" : "no");
    report_mask("null read");

    /* 4. the same handler again: a second fault after siglongjmp is delivered too. */
    reset();
    if (sigsetjmp(jump_env, 1) == 0) {
        value = *null_ptr;
        printf("second null read: no fault (value %d)\n", value);
    } else {
        printf("second null read: came back through siglongjmp\n");
    }
    report("second null read", NULL);
    return 0;
}
