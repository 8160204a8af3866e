/* A seeded syscall fuzzer run as a guest of emu (tests/fuzz): random syscall numbers over
 * the whole table of the build's ABI, with hostile arguments (valid, read-only, unmapped,
 * page-crossing and kernel pointers, huge lengths, -1, INT_MAX, small integers, real fds).
 * It must never bring emu down: the harness (scripts/fuzz-syscalls) fails on a crash, a
 * sanitizer report or a hang of emu, and tells them from the guest's own death.
 *
 * The guest keeps itself alive, as a fuzzer of a real kernel does in a child: it never
 * exits, forks, execs, kills, moves its TLS or changes its identity or limits; memory
 * syscalls get addresses in an arena of their own; pointer arguments point into a scratch
 * area (never its stack or data); signals are reset after every call that could change
 * them, and an interval timer interrupts any call that would block.
 *
 * usage: syscall_fuzz SEED COUNT --under-emu
 *   issues COUNT random syscalls (the forbidden ones drawn are skipped, not counted) and
 *   prints "fuzz: seed S: N calls, M returned an error". NEVER run it natively (see main). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#define ARENA ((uintptr_t)0x30000000)   /* memory syscalls play here */
#define ARENA_SIZE ((uintptr_t)0x01000000)
#define SCRATCH ((uintptr_t)0x38000000) /* pointer arguments point here */
#define SCRATCH_SIZE ((uintptr_t)0x00040000)
#define RDONLY ((uintptr_t)0x38100000)  /* a read-only page */
#define HOLE ((uintptr_t)0x38200000)    /* never mapped */
#define OUT_FD 1000                      /* where the verdict goes */

static uint64_t rng;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static uint64_t pick(uint64_t n) { return next() % n; }

static void put(const char* s) {
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(OUT_FD, s, n);
        if (w <= 0) return;
        s += w, n -= (size_t)w;
    }
}
static void put_num(unsigned long v) {
    char buf[24];
    int i = sizeof buf;
    buf[--i] = 0;
    do buf[--i] = (char)('0' + v % 10); while (v /= 10);
    put(buf + i);
}

static void on_alarm(int sig) { (void)sig; }

/* The signal state every call starts from: SIGALRM interrupts (no SA_RESTART), the rest
 * ignored where ignoring is allowed, so no stray signal ends the run, and nothing blocked. */
static void reset_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    for (int s = 1; s < 65; ++s) {
        if (s == SIGKILL || s == SIGSTOP || s == SIGALRM) continue;
        /* A fault's signal back to its default: never a garbage handler a call installed. */
        const int fault = s == SIGSEGV || s == SIGBUS || s == SIGILL || s == SIGFPE ||
                          s == SIGTRAP || s == SIGSYS || s == SIGABRT;
        sa.sa_handler = fault ? SIG_DFL : SIG_IGN;
        sigaction(s, &sa, 0);
    }
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);
}

static void arm_timer(void) {
    struct itimerval it = {{0, 2000}, {0, 2000}};
    setitimer(ITIMER_REAL, &it, 0);
}

static unsigned long pointer_arg(void) {
    switch (pick(10)) {
    case 0: return 0;
    case 1: return SCRATCH + pick(SCRATCH_SIZE);
    case 2: return SCRATCH + (pick(SCRATCH_SIZE / 4096) * 4096);
    case 3: return SCRATCH + SCRATCH_SIZE - pick(64);  /* crosses into the hole after it */
    case 4: return RDONLY + pick(4096);
    case 5: return HOLE + pick(4096);
    case 6: return sizeof(void*) == 8 ? 0xffff880000000000ul : 0xc0001000ul;  /* kernel */
    case 7: return (unsigned long)-1 - pick(16);
    case 8: return ARENA + pick(ARENA_SIZE);
    default: return SCRATCH + 64 * pick(32);  /* where the prepared paths and structs lie */
    }
}

static unsigned long value_arg(void) {
    static const unsigned long special[] = {
        0, 1, 2, 3, 4, 7, 8, 16, 64, 255, 256, 4095, 4096, 4097, 65536, 0x7fffffff, 0x80000000u,
        0xffffffffu, (unsigned long)-1, (unsigned long)-2, (unsigned long)-4096, 0x7ffff000,
        (unsigned long)1 << 31, (unsigned long)~0ul >> 1, 100, 1000, 0x1000000};
    switch (pick(4)) {
    case 0: return special[pick(sizeof special / sizeof *special)];
    case 1: return pick(64);                          /* small: fds, indices, commands */
    case 2: return (unsigned long)next();             /* anything */
    default: return (unsigned long)1 << pick(sizeof(long) * 8);  /* one bit: flags */
    }
}

static unsigned long arg(void) { return pick(2) ? pointer_arg() : value_arg(); }

/* Calls that would end, stop or replace the process, or take away what the run needs. */
static int forbidden(long nr) {
    static const long never[] = {
        SYS_exit, SYS_exit_group, SYS_execve, SYS_fork, SYS_vfork, SYS_clone,
        SYS_kill, SYS_tkill, SYS_tgkill, SYS_rt_sigreturn, SYS_rt_tgsigqueueinfo, SYS_rt_sigqueueinfo,
        SYS_setuid, SYS_setgid, SYS_setreuid, SYS_setregid, SYS_setresuid, SYS_setresgid,
        SYS_setfsuid, SYS_setfsgid, SYS_setgroups, SYS_capset, SYS_setrlimit, SYS_prlimit64,
        SYS_seccomp, SYS_prctl, SYS_ptrace, SYS_reboot, SYS_kexec_load, SYS_init_module,
        SYS_delete_module, SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot, SYS_swapon,
        SYS_swapoff, SYS_sethostname, SYS_setdomainname, SYS_settimeofday, SYS_clock_settime,
        SYS_clock_adjtime, SYS_adjtimex, SYS_acct, SYS_quotactl, SYS_personality, SYS_unshare,
        SYS_setns, SYS_vhangup, SYS_syslog, SYS_set_tid_address, SYS_set_robust_list,
        SYS_rseq, SYS_close_range, SYS_setpgid, SYS_setsid, SYS_sched_setscheduler,
        SYS_sched_setparam, SYS_sched_setattr, SYS_setpriority, SYS_ioprio_set, SYS_pause,
        SYS_rt_sigsuspend, SYS_sigaltstack, SYS_brk, SYS_io_uring_setup, SYS_bpf,
        SYS_perf_event_open, SYS_userfaultfd, SYS_process_vm_writev, SYS_pidfd_send_signal,
#ifdef SYS_execveat
        SYS_execveat,
#endif
#ifdef SYS_clone3
        SYS_clone3,
#endif
#ifdef SYS_arch_prctl
        SYS_arch_prctl,
#endif
#ifdef SYS_set_thread_area
        SYS_set_thread_area, SYS_modify_ldt,
#endif
#ifdef SYS_vm86old /* i386 only */
        SYS_vm86, SYS_vm86old, SYS_sigreturn,
        SYS_sigsuspend, SYS_setuid32, SYS_setgid32, SYS_setreuid32, SYS_setregid32,
        SYS_setresuid32, SYS_setresgid32, SYS_setfsuid32, SYS_setfsgid32, SYS_setgroups32,
        SYS_signal, SYS_sigaction, SYS_sigprocmask, SYS_ipc,
#endif
#ifdef SYS_iopl
        SYS_iopl, SYS_ioperm,
#endif
#ifdef SYS_waitpid
        SYS_waitpid,
#endif
#ifdef __x86_64__
        335, 336, /* uretprobe, uprobe (6.11+): SIGILL unless called from their trampolines */
        SYS_socket, SYS_connect, SYS_sendto, SYS_sendmsg, SYS_sendmmsg, SYS_bind, SYS_listen,
        SYS_accept, SYS_accept4,
#endif
#ifdef SYS_socketcall /* i386: the network, and setting the clock */
        SYS_socketcall, SYS_socket, SYS_connect, SYS_sendto, SYS_sendmsg, SYS_sendmmsg, SYS_bind,
        SYS_listen, SYS_accept4, SYS_stime, SYS_clock_settime64, SYS_clock_adjtime64,
#endif
    };
    for (size_t i = 0; i < sizeof never / sizeof *never; ++i)
        if (never[i] == nr) return 1;
    return 0;
}

/* Memory syscalls whose first argument is an address: keep it in the arena. */
static int takes_arena(long nr) {
    return nr == SYS_munmap || nr == SYS_mprotect || nr == SYS_mremap || nr == SYS_madvise ||
           nr == SYS_mlock || nr == SYS_munlock || nr == SYS_msync || nr == SYS_mincore ||
           nr == SYS_remap_file_pages || nr == SYS_pkey_mprotect || nr == SYS_mlock2 ||
#ifdef SYS_mmap2
           nr == SYS_mmap2 ||
#endif
           nr == SYS_mmap;
}

/* Calls with a descriptor to install or close: never the verdict's. */
static int touches_out_fd(long nr, const unsigned long* a) {
    if (nr == SYS_close || nr == SYS_dup2 || nr == SYS_dup3 || nr == SYS_fcntl)
        return a[0] == OUT_FD || a[1] == OUT_FD || a[2] == OUT_FD;
    return a[0] == OUT_FD;
}

static void setup(void) {
    dup2(1, OUT_FD);
    /* Garbage the calls write to 0, 1 or 2 goes nowhere: not into the harness's view of
     * emu's own stderr (where guest bytes could pass for a report), nor into a file. */
    int null = open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; ++fd) dup2(null, fd);
    mmap((void*)ARENA, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    char* s = mmap((void*)SCRATCH, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    /* Paths and names some calls will find at the prepared slots (SCRATCH + 64 * i). */
    /* Only emu's own filesystems: its tmpfs and procfs (never "/", "..", /dev or a host path:
     * the calls chmod, rename and unlink whatever they are given). */
    static const char* const paths[] = {"/tmp/fz", "/tmp/fz/b", "/proc/self/maps", "fz4", "fz5",
                                        ".", "fz/c", "/proc/meminfo", "/tmp/fz/a", "fz2", "fz6",
                                        "/proc/self/status", "", "/tmp/fz3", "/proc/self/fd/0"};
    for (unsigned i = 0; i < sizeof paths / sizeof *paths; ++i) strcpy(s + 64 * i, paths[i]);
    for (uintptr_t i = 64 * 16; i < SCRATCH_SIZE; ++i) s[i] = (char)next();
    char* ro = mmap((void*)RDONLY, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    memcpy(ro, s, 4096);
    mprotect(ro, 4096, PROT_READ);
    mkdir("/tmp/fz", 0700);
    if (chdir("/tmp/fz") != 0) put("fuzz: no /tmp/fz\n");
    reset_signals();
    arm_timer();
}

int main(int argc, char** argv) {
    /* NEVER natively: as root it would chmod, rename and unlink on the host, set its clock
     * through calls a build may lack names for, and so on. scripts/fuzz-syscalls runs it
     * under emu, whose filesystems are its own, with the flag below. */
    if (argc < 4 || strcmp(argv[3], "--under-emu") != 0) {
        static const char usage[] = "usage: syscall_fuzz SEED COUNT --under-emu (only ever under emu)\n";
        (void)!write(2, usage, sizeof usage - 1);
        return 2;
    }
    unsigned long seed = strtoul(argv[1], 0, 0);
    unsigned long count = strtoul(argv[2], 0, 0);
    rng = seed * 0x9e3779b97f4a7c15ull + 1;
    setup();
    unsigned long errors = 0;
    for (unsigned long issued = 0; issued < count;) {
        long nr = (long)pick(460);
        if (forbidden(nr)) continue;
        unsigned long a[6];
        for (int k = 0; k < 6; ++k) a[k] = arg();
        if (takes_arena(nr)) {
            a[0] = ARENA + pick(ARENA_SIZE / 4096) * 4096 + (pick(8) ? 0 : pick(4096));
            a[1] = pick(4) ? pick(64) * 4096 : value_arg();
            /* A length past the arena stays hostile only where it wraps (Linux refuses it):
             * one that fits the address space would unmap or replace the program itself.
             * (An i386 length never wraps: the 64-bit kernel adds it in 64 bits.) */
            if (a[0] + a[1] > ARENA + ARENA_SIZE && a[0] + a[1] >= a[0])
                a[1] = pick(2) || sizeof(long) == 4 ? ARENA + ARENA_SIZE - a[0] : (unsigned long)-4096;
            if (nr == SYS_mremap) {
                a[4] = ARENA + pick(ARENA_SIZE / 4096) * 4096;  /* MREMAP_FIXED target */
                if (a[2] > ARENA + ARENA_SIZE - a[4])
                    a[2] = pick(2) || sizeof(long) == 4 ? ARENA + ARENA_SIZE - a[4] : (unsigned long)-4096;
            }
            if ((nr == SYS_mmap
#ifdef SYS_mmap2
                 || nr == SYS_mmap2
#endif
                 ) && pick(2))
                a[3] &= ~(unsigned long)(MAP_FIXED | 0x100000 /* MAP_FIXED_NOREPLACE */);
        }
#ifdef SYS_shmat
        /* shmat with SHM_REMAP replaces what lies there: only in the arena (or anywhere free). */
        if (nr == SYS_shmat) a[1] = pick(4) ? ARENA + pick(ARENA_SIZE / 4096) * 4096 : 0;
#endif
        if (touches_out_fd(nr, a)) continue;
        /* The timer's handler must stay: a garbage one would run between this call and the
         * reset after it. */
        if (nr == SYS_rt_sigaction && a[0] == SIGALRM) continue;
        long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        ++issued;
        if (r < 0) ++errors;
        if (nr == SYS_rt_sigaction || nr == SYS_rt_sigprocmask || nr == SYS_signalfd ||
            nr == SYS_signalfd4 || nr == SYS_rt_sigtimedwait || nr == SYS_sigaltstack)
            reset_signals();
        if (nr == SYS_setitimer || nr == SYS_alarm || nr == SYS_timer_settime || nr == SYS_timer_create ||
            nr == SYS_timer_delete || nr == SYS_getitimer)
            arm_timer();
        if (nr == SYS_chdir || nr == SYS_fchdir) (void)!chdir("/tmp/fz");
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, 0);
    put("fuzz: seed ");
    put_num(seed);
    put(": ");
    put_num(count);
    put(" calls, ");
    put_num(errors);
    put(" returned an error\n");
    return 0;
}
