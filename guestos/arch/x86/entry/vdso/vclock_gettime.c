/* The vDSO's functions (arch/x86/entry/vdso/vclock_gettime.c, vgetcpu.c): built at build time
 * for both ABIs into a small shared object that emu maps into every process as [vdso].
 * The clocks come from the [vvar] page that emu keeps current and the TSC; what the page
 * cannot answer (CPU-time clocks, bad ids, a stale page) goes to the system call. */
#include <asm/unistd.h>

#include "vdso_time.h"

/* The [vvar] page: 6 pages below the text, where the linker script puts it. */
extern const volatile struct vdso_data vvar_data __attribute__((visibility("hidden")));

struct vdso_timespec { /* the ABI's struct timespec (old_timespec32 on i386) */
    long tv_sec;
    long tv_nsec;
};
struct vdso_timespec64 { /* __kernel_timespec */
    long long tv_sec;
    long long tv_nsec;
};
struct vdso_timeval {
    long tv_sec;
    long tv_usec;
};
struct vdso_timezone {
    int tz_minuteswest;
    int tz_dsttime;
};

static inline long syscall2(long nr, long a, long b)
{
    long ret;
#ifdef __x86_64__
    __asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
#else
    __asm__ volatile("int $0x80" : "=a"(ret) : "0"(nr), "b"(a), "c"(b) : "memory");
#endif
    return ret;
}

static inline unsigned long long rdtsc(void)
{
    unsigned lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((unsigned long long)hi << 32) | lo;
}

/* One consistent read of clock clk (the seqcount loop of do_hres). */
static int read_clock(unsigned clk, unsigned long long* sec, unsigned* nsec)
{
    const volatile struct vdso_data* d = &vvar_data;
    unsigned seq;
    int r;
    do {
        while ((seq = d->seq) & 1) __asm__ volatile("pause");
        __asm__ volatile("" ::: "memory");
        r = vdso_clock_read(d, clk, rdtsc(), sec, nsec);
        __asm__ volatile("" ::: "memory");
    } while (seq != d->seq);
    return r;
}

static int answers(long clk) { return clk >= 0 && clk < VDSO_BASES && (vdso_clock_hres(clk) || vdso_clock_coarse(clk)); }

#ifdef __x86_64__
int __vdso_clock_gettime(long clk, struct vdso_timespec* ts)
#else
int __vdso_clock_gettime64(long clk, struct vdso_timespec64* ts)
#endif
{
    unsigned long long sec;
    unsigned nsec;
#ifdef __x86_64__
    const long nr = __NR_clock_gettime;
#else
    const long nr = __NR_clock_gettime64;
#endif
    if (!answers(clk) || read_clock(clk, &sec, &nsec)) return syscall2(nr, clk, (long)ts);
    ts->tv_sec = sec;
    ts->tv_nsec = nsec;
    return 0;
}

#ifndef __x86_64__
int __vdso_clock_gettime(long clk, struct vdso_timespec* ts)
{
    unsigned long long sec;
    unsigned nsec;
    if (!answers(clk) || read_clock(clk, &sec, &nsec)) return syscall2(__NR_clock_gettime, clk, (long)ts);
    ts->tv_sec = (long)sec; /* truncated past 2038, as Linux's old_timespec32 */
    ts->tv_nsec = nsec;
    return 0;
}
#endif

int __vdso_gettimeofday(struct vdso_timeval* tv, struct vdso_timezone* tz)
{
    unsigned long long sec;
    unsigned nsec;
    if (tv) {
        if (read_clock(VDSO_CLOCK_REALTIME, &sec, &nsec)) return syscall2(__NR_gettimeofday, (long)tv, (long)tz);
        tv->tv_sec = (long)sec;
        tv->tv_usec = nsec / 1000;
    }
    if (tz) {
        tz->tz_minuteswest = vvar_data.tz_minuteswest;
        tz->tz_dsttime = vvar_data.tz_dsttime;
    }
    return 0;
}

long __vdso_time(long* t)
{
    unsigned long long sec;
    unsigned nsec;
    long r;
    if (read_clock(VDSO_CLOCK_REALTIME_COARSE, &sec, &nsec)) return syscall2(__NR_time, (long)t, 0);
    r = (long)sec;
    if (t) *t = r;
    return r;
}

static int getres(long clk, long long* sec, long long* nsec)
{
    if (clk < 0 || clk >= VDSO_BASES || vvar_data.clock_mode != VDSO_CLOCKMODE_TSC) return -1;
    if (vdso_clock_hres(clk)) *nsec = vvar_data.hrtimer_res;
    else if (vdso_clock_coarse(clk)) *nsec = VDSO_TICK_NSEC;
    else return -1;
    *sec = 0;
    return 0;
}

#ifdef __x86_64__
int __vdso_clock_getres(long clk, struct vdso_timespec* res)
#else
int __vdso_clock_getres_time64(long clk, struct vdso_timespec64* res)
#endif
{
    long long sec, nsec;
#ifdef __x86_64__
    const long nr = __NR_clock_getres;
#else
    const long nr = __NR_clock_getres_time64;
#endif
    if (getres(clk, &sec, &nsec)) return syscall2(nr, clk, (long)res);
    if (res) {
        res->tv_sec = sec;
        res->tv_nsec = nsec;
    }
    return 0;
}

#ifndef __x86_64__
int __vdso_clock_getres(long clk, struct vdso_timespec* res)
{
    long long sec, nsec;
    if (getres(clk, &sec, &nsec)) return syscall2(__NR_clock_getres, clk, (long)res);
    if (res) {
        res->tv_sec = (long)sec;
        res->tv_nsec = (long)nsec;
    }
    return 0;
}
#endif

/* The CPU and node come from the kernel (emu's CPU is always CPU 0 of node 0, but the
 * system call is the one place that says so). */
long __vdso_getcpu(unsigned* cpu, unsigned* node, void* unused)
{
    return syscall2(__NR_getcpu, (long)cpu, (long)node);
}

/* The unprefixed names, as Linux's vDSO has them. */
#ifdef __x86_64__
int clock_gettime(long, struct vdso_timespec*) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct vdso_timeval*, struct vdso_timezone*) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long*) __attribute__((weak, alias("__vdso_time")));
long getcpu(unsigned*, unsigned*, void*) __attribute__((weak, alias("__vdso_getcpu")));
int clock_getres(long, struct vdso_timespec*) __attribute__((weak, alias("__vdso_clock_getres")));
#endif
