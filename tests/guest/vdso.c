/* vdso: the vDSO as Linux maps it. The auxv announces it (AT_SYSINFO_EHDR, and AT_SYSINFO on
 * i386); /proc/self/maps shows [vvar] (4 pages), [vvar_vclock] (2) and [vdso] (2) in a row
 * with their permissions and smaps flags, and on x86-64 the [vsyscall] gate last. The image is
 * an ELF shared object exporting the clock functions under LINUX_2.6; each clock read through
 * it lies between two reads through the system call, and clock_getres agrees. The vvar pages
 * cannot be made writable or grown, [vvar_vclock] reads raise SIGBUS, the text can be made
 * writable (a private copy). x86-64's vsyscall entries run gettimeofday, time and getcpu, and
 * a read of that page or a call into its middle is SIGSEGV. i386: a handler installed
 * without SA_RESTORER returns through the vDSO. A forked child's vDSO works. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if UINTPTR_MAX > 0xffffffffu
typedef Elf64_Ehdr Ehdr;
typedef Elf64_Shdr Shdr;
typedef Elf64_Sym Sym;
typedef Elf64_Phdr Phdr;
#else
typedef Elf32_Ehdr Ehdr;
typedef Elf32_Shdr Shdr;
typedef Elf32_Sym Sym;
typedef Elf32_Phdr Phdr;
#endif

static uintptr_t vdso_base;

/* The address of a vDSO symbol by name (through the section headers' .dynsym). */
static void *vdso_sym(const char *name)
{
    const Ehdr *eh = (const Ehdr *)vdso_base;
    const Shdr *sh = (const Shdr *)(vdso_base + eh->e_shoff);
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_DYNSYM) continue;
        const Sym *syms = (const Sym *)(vdso_base + sh[i].sh_offset);
        const char *str = (const char *)(vdso_base + sh[sh[i].sh_link].sh_offset);
        for (size_t k = 0; k < sh[i].sh_size / sizeof(Sym); k++)
            if (!strcmp(str + syms[k].st_name, name) && syms[k].st_value) return (void *)(vdso_base + syms[k].st_value);
    }
    return NULL;
}

struct region {
    unsigned long start, end;
    char perms[5];
};

static int find_region(const char *name, struct region *r)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        char *n = strchr(line, '[');
        if (!n || strncmp(n, name, strlen(name)) || n[strlen(name)] != '\n') continue;
        sscanf(line, "%lx-%lx %4s", &r->start, &r->end, r->perms);
        found = 1;
    }
    fclose(f);
    return found;
}

static void show_smaps_flags(const char *name)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int in = 0;
    while (fgets(line, sizeof line, f)) {
        if (strchr(line, '-') && strchr(line, ':') && line[0] != ' ' && strchr(line, ' ') < strchr(line, ':'))
            in = strstr(line, name) != NULL;
        if (in && !strncmp(line, "VmFlags:", 8)) printf("%s %s", name, line);
    }
    fclose(f);
}

static sigjmp_buf jb;
static volatile int caught, caught_code;
static void on_fault(int sig, siginfo_t *si, void *uc __attribute__((unused)))
{
    caught = sig;
    caught_code = si->si_code;
    siglongjmp(jb, 1);
}

static const char *probe(void (*fn)(void *), void *arg)
{
    static char out[64];
    caught = 0;
    if (!sigsetjmp(jb, 1)) fn(arg);
    if (!caught) return "ok";
    snprintf(out, sizeof out, "%s code %d", caught == SIGSEGV ? "SIGSEGV" : caught == SIGBUS ? "SIGBUS" : "other", caught_code);
    return out;
}

static void read_byte(void *p) { (void)*(volatile char *)p; }

static long long ns_of(struct timespec t) { return (long long)t.tv_sec * 1000000000LL + t.tv_nsec; }

static void check_clocks(void)
{
#ifdef __x86_64__
    int (*gettime)(clockid_t, struct timespec *) = vdso_sym("__vdso_clock_gettime");
    int (*getres)(clockid_t, struct timespec *) = vdso_sym("__vdso_clock_getres");
#else
    int (*gettime)(clockid_t, struct timespec *) = vdso_sym("__vdso_clock_gettime");
    int (*getres)(clockid_t, struct timespec *) = vdso_sym("__vdso_clock_getres");
#endif
    int (*tod)(struct timeval *, struct timezone *) = vdso_sym("__vdso_gettimeofday");
    time_t (*vtime)(time_t *) = vdso_sym("__vdso_time");
    printf("symbols: clock_gettime %d clock_getres %d gettimeofday %d time %d getcpu %d\n", !!gettime, !!getres, !!tod,
           !!vtime, !!vdso_sym("__vdso_getcpu"));
#ifdef __i386__
    printf("i386 symbols: clock_gettime64 %d __kernel_vsyscall %d __kernel_sigreturn %d __kernel_rt_sigreturn %d\n",
           !!vdso_sym("__vdso_clock_gettime64"), !!vdso_sym("__kernel_vsyscall"), !!vdso_sym("__kernel_sigreturn"),
           !!vdso_sym("__kernel_rt_sigreturn"));
#endif
    if (!gettime) return;
    static const int clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
                                 CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_PROCESS_CPUTIME_ID};
    for (unsigned i = 0; i < sizeof clocks / sizeof *clocks; i++) {
        int in_order = 1, rc = 0;
        for (int k = 0; k < 2000; k++) {
            struct timespec a, b, c;
            syscall(SYS_clock_gettime, clocks[i], &a);
            rc |= gettime(clocks[i], &b);
            syscall(SYS_clock_gettime, clocks[i], &c);
            if (ns_of(a) > ns_of(b) || ns_of(b) > ns_of(c) || b.tv_nsec < 0 || b.tv_nsec >= 1000000000) in_order = 0;
        }
        struct timespec r1 = {-1, -1}, r2 = {-2, -2};
        getres(clocks[i], &r1);
        syscall(SYS_clock_getres, clocks[i], &r2);
        printf("clock %d: rc %d syscall <= vdso <= syscall: %d, getres same: %d (%ld ns)\n", clocks[i], rc, in_order,
               r1.tv_sec == r2.tv_sec && r1.tv_nsec == r2.tv_nsec, (long)r1.tv_nsec);
    }
    struct timespec bad;
    errno = 0;
    int r = gettime(12345, &bad);
    printf("bad clock id: %d\n", r < 0 ? (r == -EINVAL ? -EINVAL : r) : r);
    int tod_order = 1;
    for (int k = 0; k < 2000; k++) {
        struct timeval a, b, c;
        syscall(SYS_gettimeofday, &a, NULL);
        tod(&b, NULL);
        syscall(SYS_gettimeofday, &c, NULL);
        long long x = a.tv_sec * 1000000LL + a.tv_usec, y = b.tv_sec * 1000000LL + b.tv_usec,
                  z = c.tv_sec * 1000000LL + c.tv_usec;
        if (x > y || y > z) tod_order = 0;
    }
    struct timezone tz = {-1, -1};
    tod(NULL, &tz);
    time_t t1 = syscall(SYS_time, NULL), t2 = vtime(NULL), t3 = syscall(SYS_time, NULL);
    printf("gettimeofday in order: %d, tz %d %d, time in order: %d\n", tod_order, tz.tz_minuteswest, tz.tz_dsttime,
           t1 <= t2 && t2 <= t3);
}

#ifdef __x86_64__
static void call_vsyscall_middle(void *p)
{
    ((long (*)(void *))(0xffffffffff600100ul))(p);
}

static void check_vsyscall(void)
{
    struct region r;
    printf("[vsyscall]: %d\n", find_region("[vsyscall]", &r));
    printf("[vsyscall] %lx-%lx %s\n", r.start, r.end, r.perms);
    long (*vgtod)(struct timeval *, void *) = (void *)0xffffffffff600000ul;
    long (*vtime)(long *) = (void *)0xffffffffff600400ul;
    long (*vgetcpu)(unsigned *, unsigned *, void *) = (void *)0xffffffffff600800ul;
    struct timeval tv = {0, 0};
    long rc = vgtod(&tv, NULL);
    long t = 0, tr = vtime(&t);
    unsigned cpu = 99, node = 99;
    long gc = vgetcpu(&cpu, &node, NULL);
    time_t now = time(NULL);
    printf("vsyscall gettimeofday %ld near now %d, time %d same %d, getcpu %ld node %u\n", rc,
           tv.tv_sec >= now - 2 && tv.tv_sec <= now, tr >= now - 2 && tr <= now, tr == t, gc, node);
    printf("read of the vsyscall page: %s\n", probe(read_byte, (void *)0xffffffffff600000ul));
    printf("call into its middle: %s\n", probe(call_vsyscall_middle, NULL));
}
#endif

#ifdef __i386__
static volatile int handled;
static void on_usr1(int sig) { handled = sig; }
struct k_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long long mask;
};
static void check_no_restorer(void)
{
    struct k_sigaction ka = {on_usr1, 0, NULL, 0};
    long r = syscall(SYS_rt_sigaction, SIGUSR1, &ka, NULL, 8);
    raise(SIGUSR1);
    printf("handler without SA_RESTORER: rt_sigaction %ld, handled %d, back in main\n", r, handled);
    ka.flags = SA_SIGINFO; /* an rt frame: __kernel_rt_sigreturn */
    handled = 0;
    syscall(SYS_rt_sigaction, SIGUSR2, &ka, NULL, 8);
    raise(SIGUSR2);
    printf("SA_SIGINFO handler without SA_RESTORER: handled %d, back in main\n", handled);
}
#endif

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);

    vdso_base = getauxval(AT_SYSINFO_EHDR);
    printf("AT_SYSINFO_EHDR: %d\n", vdso_base != 0);
#ifdef __i386__
    unsigned long sysinfo = getauxval(AT_SYSINFO);
    printf("AT_SYSINFO inside the vDSO: %d, is __kernel_vsyscall: %d\n", sysinfo > vdso_base && sysinfo < vdso_base + 8192,
           vdso_base && (void *)sysinfo == vdso_sym("__kernel_vsyscall"));
#endif
    if (!vdso_base) return 1;
    const Ehdr *eh = (const Ehdr *)vdso_base;
    int loads = 0, dyn = 0;
    const Phdr *ph = (const Phdr *)(vdso_base + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum; i++) loads += ph[i].p_type == PT_LOAD, dyn += ph[i].p_type == PT_DYNAMIC;
    printf("ELF: magic %d, type ET_DYN %d, one PT_LOAD %d, PT_DYNAMIC %d\n", !memcmp(eh->e_ident, ELFMAG, SELFMAG),
           eh->e_type == ET_DYN, loads == 1, dyn == 1);

    struct region vvar, vclock, vdso;
    int f1 = find_region("[vvar]", &vvar), f2 = find_region("[vvar_vclock]", &vclock), f3 = find_region("[vdso]", &vdso);
    printf("regions: %d %d %d\n", f1, f2, f3);
    printf("[vvar] %lu pages %s, [vvar_vclock] %lu pages %s, [vdso] %lu pages %s\n", (vvar.end - vvar.start) / 4096,
           vvar.perms, (vclock.end - vclock.start) / 4096, vclock.perms, (vdso.end - vdso.start) / 4096, vdso.perms);
    printf("adjacent: %d %d, vdso at AT_SYSINFO_EHDR: %d\n", vvar.end == vclock.start, vclock.end == vdso.start,
           vdso.start == vdso_base);
    show_smaps_flags("[vvar]");
    show_smaps_flags("[vdso]");

    check_clocks();

    printf("read [vvar]: %s\n", probe(read_byte, (void *)vvar.start));
    printf("read [vvar_vclock]: %s\n", probe(read_byte, (void *)vclock.start));  /* SIGBUS without a pvclock */
    errno = 0;
    int mp = mprotect((void *)vvar.start, 4096, PROT_READ | PROT_WRITE);
    printf("mprotect [vvar] writable: %d errno %d\n", mp, errno);
    errno = 0;
    void *m = mremap((void *)vvar.start, vvar.end - vvar.start, vvar.end - vvar.start + 4096, 0);
    printf("mremap [vvar] bigger: %s errno %d\n", m == MAP_FAILED ? "failed" : "moved", errno);
    struct region after;

#ifdef __x86_64__
    check_vsyscall();
#endif
#ifdef __i386__
    check_no_restorer();
#endif

    fflush(stdout);
    pid_t pid = fork();
    if (!pid) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        clock_gettime(CLOCK_MONOTONIC, &b);
        _exit(ns_of(b) >= ns_of(a) && find_region("[vdso]", &after) ? 7 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child: exit %d\n", WEXITSTATUS(st));
    return 0;
}
