/* vm_stack: the main thread's stack grows on demand. A recursion touches about 512 KiB of
 * stack page by page; the [stack] line of /proc/self/maps must have grown to cover the
 * deepest byte touched and keep its size after the recursion returned. Then, with a 1 MiB
 * RLIMIT_STACK, a deeper recursion ends in SIGSEGV (SEGV_MAPERR), handled on an alternate
 * signal stack, and the [stack] mapping stays within the limit. Only relations between
 * addresses and sizes are printed. */
#include "vm_common.h"

#include <sys/resource.h>

struct stack_line {
    int found;
    unsigned long long start, end;
    char perms[8];
    int name_column; /* where "[stack]" starts in the line */
};

static struct stack_line find_stack(void)
{
    struct stack_line st;
    memset(&st, 0, sizeof st);
    read_maps();
    for (char *line = maps_text; *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        char *name = strstr(line, "[stack]");
        if (name && sscanf(line, "%llx-%llx %7s", &st.start, &st.end, st.perms) == 3) {
            st.found = 1;
            st.name_column = (int)(name - line);
        }
        if (!nl) break;
        *nl = '\n';
        line = nl + 1;
    }
    return st;
}

static volatile uintptr_t deepest;

/* Recursion with a 4 KiB frame that is written at both ends (so every page is touched in
 * order) and still used after the call returns (so it is no tail call). */
static int __attribute__((noinline)) dive(int depth)
{
    volatile char frame[4000];
    frame[0] = (char)depth;
    frame[sizeof frame - 1] = (char)depth;
    if ((uintptr_t)frame < deepest) deepest = (uintptr_t)frame;
    if (depth == 0) return frame[0];
    return dive(depth - 1) + frame[sizeof frame - 1];
}

static sigjmp_buf overflow_env;
static volatile int overflow_sig, overflow_code;

static void overflow_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    overflow_sig = sig;
    overflow_code = si->si_code;
    siglongjmp(overflow_env, 1);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    volatile char here = 0;
    struct stack_line before = find_stack();
    printf("[stack] found: %s, perms %s, name column %d\n", before.found ? "yes" : "no", before.perms,
           before.name_column);
    if (!before.found) return 1;
    printf("a local variable inside [stack]: %s\n",
           (uintptr_t)&here >= before.start && (uintptr_t)&here < before.end ? "yes" : "no");

    deepest = (uintptr_t)&here;
    int r = dive(128); /* 128 frames of 4 KB: about 512 KiB */
    struct stack_line after = find_stack();
    printf("recursion result %d\n", r);
    printf("touched at least 500 KiB below the first local: %s\n",
           (uintptr_t)&here - deepest >= 500 * 1024 ? "yes" : "no");
    printf("grew %s\n", after.end - after.start > before.end - before.start ? "yes" : "no");
    printf("same top: %s\n", after.end == before.end ? "yes" : "no");
    printf("covers the deepest byte touched: %s\n", deepest >= after.start && deepest < after.end ? "yes" : "no");
    printf("grown by at most 16 pages beyond it: %s\n", deepest - after.start < 16 * PAGE ? "yes" : "no");
    printf("perms %s\n", after.perms);
    struct stack_line again = find_stack();
    printf("still the same size after returning: %s\n",
           again.start == after.start && again.end == after.end ? "yes" : "no");

    /* Stack overflow under a 1 MiB limit. */
    struct rlimit rl;
    getrlimit(RLIMIT_STACK, &rl);
    rl.rlim_cur = 1 << 20;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < rl.rlim_cur) rl.rlim_cur = rl.rlim_max;
    printf("setrlimit RLIMIT_STACK 1 MiB: %d\n", setrlimit(RLIMIT_STACK, &rl));
    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    printf("sigaltstack: %d\n", sigaltstack(&ss, NULL));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = overflow_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    deepest = (uintptr_t)&here;
    if (sigsetjmp(overflow_env, 1) == 0) {
        r = dive(512); /* about 2 MiB */
        printf("2 MiB recursion returned %d (no overflow)\n", r);
    } else {
        printf("overflow: signal %s, %s\n", overflow_sig == SIGSEGV ? "SIGSEGV" : "other",
               overflow_code == SEGV_MAPERR ? "SEGV_MAPERR" : overflow_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other");
    }
    struct stack_line limited = find_stack();
    printf("[stack] within 1 MiB: %s\n", limited.end - limited.start <= (1 << 20) ? "yes" : "no");
    printf("[stack] at least 900 KiB: %s\n", limited.end - limited.start >= 900 * 1024 ? "yes" : "no");
    printf("deepest touched byte within 1 MiB of the top: %s\n", limited.end - deepest <= (1 << 20) ? "yes" : "no");
    return 0;
}
