/* Lesson: a SIGSEGV handler that mprotects. The pages start PROT_NONE; the handler makes the
 * faulting page read-write and returns, so the access is restarted and succeeds. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

#define PAGES 8
static char *region;
static volatile int handled;

static void on_segv(int sig, siginfo_t *si, void *ctx) {
    (void)sig, (void)ctx;
    char *page = (char *)((uintptr_t)si->si_addr & ~(uintptr_t)4095);
    if (page < region || page >= region + PAGES * 4096) _exit(3);
    mprotect(page, 4096, PROT_READ | PROT_WRITE);
    ++handled;
}

int main(void) {
    region = mmap(0, PAGES * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) return 1;
    struct sigaction sa = {0};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);
    for (int i = 0; i < PAGES; i += 2) region[i * 4096] = (char)i;
    printf("%d faults handled\n", handled);
    return 0;
}
