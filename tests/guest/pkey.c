/* Memory protection keys on a processor without PKU (neither the host nor emu's CPUID has
 * it): the first pkey_alloc takes key 0 and fails to set its rights (EINVAL), later ones find
 * no key left (ENOSPC); pkey_free never finds a key to free; pkey_mprotect with key -1 is
 * mprotect, any other key is EINVAL after mprotect's own argument checks. fork copies the
 * key map, exec starts a fresh one. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __NR_pkey_alloc
#if defined(__x86_64__)
#define __NR_pkey_mprotect 329
#define __NR_pkey_alloc 330
#define __NR_pkey_free 331
#else
#define __NR_pkey_mprotect 380
#define __NR_pkey_alloc 381
#define __NR_pkey_free 382
#endif
#endif

static const char *ename(int e)
{
    switch (e) {
    case 0: return "0";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    default: return strerror(e);
    }
}

static void show(const char *what, long r)
{
    if (r < 0) printf("%s = -1 %s\n", what, ename(errno));
    else printf("%s = %ld\n", what, r);
}

static long p_alloc(unsigned long flags, unsigned long init) { return syscall(__NR_pkey_alloc, flags, init); }
static long p_free(long k) { return syscall(__NR_pkey_free, k); }
static long p_mprotect(void *a, size_t len, unsigned long prot, long k)
{
    return syscall(__NR_pkey_mprotect, a, len, prot, k);
}

/* The permissions /proc/self/maps shows for the mapping at a. */
static void perms(const char *what, void *a)
{
    char line[512], want[32];
    snprintf(want, sizeof want, "%lx-", (unsigned long)a);
    FILE *f = fopen("/proc/self/maps", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, want, strlen(want))) {
            char *sp = strchr(line, ' ');
            printf("%s: %.4s\n", what, sp + 1);
        }
    if (f) fclose(f);
}

static void child_alloc(const char *what)
{
    pid_t pid = fork();
    if (pid == 0) {
        show(what, p_alloc(0, 0));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "exec")) {
        show("after exec: pkey_alloc(0, 0)", p_alloc(0, 0));
        show("after exec: pkey_alloc(0, 0) again", p_alloc(0, 0));
        return 0;
    }
    setvbuf(stdout, NULL, _IONBF, 0);

    /* /proc/cpuinfo advertises no pku/ospke. */
    char line[4096];
    int pku = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "flags", 5) && (strstr(line, " pku") || strstr(line, " ospke"))) pku = 1;
    if (f) fclose(f);
    printf("cpuinfo pku/ospke: %d\n", pku);

    /* Argument checks come before the allocation and consume nothing. */
    show("pkey_alloc(1, 0)", p_alloc(1, 0));
    show("pkey_alloc(0, 4)", p_alloc(0, 4));
    show("pkey_alloc(~0, 0)", p_alloc(~0ul, 0));
    child_alloc("fork before any alloc: child pkey_alloc(0, 0)");
    show("pkey_alloc(0, 0)", p_alloc(0, 0));
    show("pkey_alloc(0, 0) again", p_alloc(0, 0));
    show("pkey_alloc(0, PKEY_DISABLE_WRITE)", p_alloc(0, 2));
    show("pkey_alloc(0, PKEY_DISABLE_ACCESS)", p_alloc(0, 1));
    show("pkey_alloc(0, 4) after", p_alloc(0, 4));
    child_alloc("fork after alloc: child pkey_alloc(0, 0)");
    for (long k = -2; k <= 16; k += (k < 2 ? 1 : 14)) {
        char what[64];
        snprintf(what, sizeof what, "pkey_free(%ld)", k);
        show(what, p_free(k));
    }

    char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    show("pkey_mprotect(p, 4096, PROT_READ, -1)", p_mprotect(p, 4096, PROT_READ, -1));
    perms("first page", p);
    show("pkey_mprotect(p, 4096, PROT_READ, 0)", p_mprotect(p, 4096, PROT_READ, 0));
    show("pkey_mprotect(p, 4096, PROT_READ, 1)", p_mprotect(p, 4096, PROT_READ, 1));
    show("pkey_mprotect(p, 4096, PROT_READ, 15)", p_mprotect(p, 4096, PROT_READ, 15));
    show("pkey_mprotect(p, 4096, PROT_READ, -2)", p_mprotect(p, 4096, PROT_READ, -2));
    show("pkey_mprotect(p, 0, PROT_READ, 5)", p_mprotect(p, 0, PROT_READ, 5));
    show("pkey_mprotect(p+1, 4096, PROT_READ, 5)", p_mprotect(p + 1, 4096, PROT_READ, 5));
    show("pkey_mprotect(p, 4096, 0x100, 5)", p_mprotect(p, 4096, 0x100, 5));
    show("pkey_mprotect(p, 4096, 0x100, -1)", p_mprotect(p, 4096, 0x100, -1));
    show("pkey_mprotect(p, 4096, GROWSDOWN|GROWSUP, -1)",
         p_mprotect(p, 4096, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP, -1));
    show("pkey_mprotect(-4096, 8192, PROT_READ, 5)", p_mprotect((void *)-4096l, 8192, PROT_READ, 5));
    munmap(p + 2 * 4096, 4096);
    show("pkey_mprotect(unmapped, 4096, PROT_READ, 5)", p_mprotect(p + 2 * 4096, 4096, PROT_READ, 5));
    show("pkey_mprotect(unmapped, 4096, PROT_READ, -1)", p_mprotect(p + 2 * 4096, 4096, PROT_READ, -1));
    show("pkey_mprotect(p, 8192, PROT_READ|PROT_WRITE, -1)", p_mprotect(p, 8192, PROT_READ | PROT_WRITE, -1));
    perms("first page after", p);
    show("pkey_mprotect(p, 8192, PROT_NONE, -1)", p_mprotect(p, 8192, PROT_NONE, -1));
    perms("after PROT_NONE", p);
    pid_t pid = fork();
    if (pid == 0) {
        p[0] = 1; /* SIGSEGV */
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("write to PROT_NONE: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit",
           WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));

    /* exec starts the key map afresh. */
    pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
        perror("execl");
        _exit(127);
    }
    waitpid(pid, &st, 0);
    printf("exec child: %d\n", WEXITSTATUS(st));
    return 0;
}
