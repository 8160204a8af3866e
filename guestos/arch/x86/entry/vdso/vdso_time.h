/* The vDSO's time data (the [vvar] page) and the one computation of a clock from it
 * (lib/vdso/gettimeofday.c do_hres): written in C for the guest's vDSO (i386 and x86-64)
 * and included by emu's kernel, so that a clock read through the vDSO and one read through
 * clock_gettime(2) are the same function of the same TSC value. */
#ifndef EMU_VDSO_TIME_H
#define EMU_VDSO_TIME_H

#ifdef __cplusplus
#include <cstddef>
#include <cstdint>
#define VDSO_U64 std::uint64_t
#define VDSO_U32 std::uint32_t
#define VDSO_S32 std::int32_t
#else
#define VDSO_U64 unsigned long long
#define VDSO_U32 unsigned int
#define VDSO_S32 int
#endif

#define VDSO_CLOCKMODE_NONE 0 /* every read is a system call */
#define VDSO_CLOCKMODE_TSC 1  /* reads compute from the TSC */

#define VDSO_NSEC_PER_SEC 1000000000u
#define VDSO_TICK_NSEC 4000000u /* HZ=250: the coarse clocks' resolution */
#define VDSO_BASES 12           /* clock ids up to CLOCK_TAI */

/* One clock at cycle_last: seconds and nanoseconds shifted left by `shift`. */
struct vdso_timestamp {
    VDSO_U64 sec;
    VDSO_U64 nsec;
};

/* At the start of the [vvar] page. Every field lies at the same offset in both ABIs. */
struct vdso_data {
    VDSO_U32 seq; /* odd while the kernel writes */
    VDSO_S32 clock_mode;
    VDSO_U64 cycle_last; /* the TSC value the bases were taken at */
    VDSO_U64 max_cycles; /* past this many cycles, read through the system call */
    VDSO_U32 mult;       /* ns = cycles * mult >> shift */
    VDSO_U32 shift;
    struct vdso_timestamp basetime[VDSO_BASES]; /* by clock id; the hres clocks only */
    VDSO_S32 tz_minuteswest;
    VDSO_S32 tz_dsttime;
    VDSO_U32 hrtimer_res;
    VDSO_U32 pad;
};

#ifdef __cplusplus
static_assert(sizeof(vdso_data) == 240 && offsetof(vdso_data, basetime) == 32, "one layout in both ABIs");
#else
_Static_assert(sizeof(struct vdso_data) == 240, "one layout in both ABIs");
#endif

/* Clock ids (uapi/linux/time.h). */
#define VDSO_CLOCK_REALTIME 0
#define VDSO_CLOCK_MONOTONIC 1
#define VDSO_CLOCK_MONOTONIC_RAW 4
#define VDSO_CLOCK_REALTIME_COARSE 5
#define VDSO_CLOCK_MONOTONIC_COARSE 6
#define VDSO_CLOCK_BOOTTIME 7
#define VDSO_CLOCK_TAI 11

/* Whether the vDSO answers this clock itself (VDSO_HRES | VDSO_COARSE | VDSO_RAW). */
static inline int vdso_clock_hres(unsigned clk) {
    return clk == VDSO_CLOCK_REALTIME || clk == VDSO_CLOCK_MONOTONIC || clk == VDSO_CLOCK_MONOTONIC_RAW ||
           clk == VDSO_CLOCK_BOOTTIME || clk == VDSO_CLOCK_TAI;
}
static inline int vdso_clock_coarse(unsigned clk) {
    return clk == VDSO_CLOCK_REALTIME_COARSE || clk == VDSO_CLOCK_MONOTONIC_COARSE;
}

/* sec += ns / 1e9, ns %= 1e9, without a 64-bit division (__iter_div_u64_rem). */
static inline VDSO_U64 vdso_iter_div(VDSO_U64 ns, VDSO_U32* rem) {
    VDSO_U64 sec = 0;
    while (ns >= VDSO_NSEC_PER_SEC) {
        __asm__("" : "+rm"(ns)); /* keeps the compiler from making this a division */
        ns -= VDSO_NSEC_PER_SEC;
        ++sec;
    }
    *rem = (VDSO_U32)ns;
    return sec;
}

/* Clock clk at TSC value `cycles` from the data d (which must not change meanwhile):
 * 0 and the time, or -1 when the caller must ask the kernel. A coarse clock is its hres
 * clock at the last 4 ms tick of CLOCK_MONOTONIC, as Linux's are the time of the last tick. */
static inline int vdso_clock_read(const volatile struct vdso_data* d, unsigned clk, VDSO_U64 cycles, VDSO_U64* sec,
                                  VDSO_U32* nsec) {
    unsigned base = clk == VDSO_CLOCK_REALTIME_COARSE    ? VDSO_CLOCK_REALTIME
                    : clk == VDSO_CLOCK_MONOTONIC_COARSE ? VDSO_CLOCK_MONOTONIC
                                                         : clk;
    VDSO_U64 delta, scaled, s;
    VDSO_U32 ns, mono_ns;
    if (d->clock_mode != VDSO_CLOCKMODE_TSC) return -1;
    delta = cycles - d->cycle_last;
    if ((long long)delta < 0) delta = 0; /* a TSC read before the update */
    if (delta > d->max_cycles) return -1;
    scaled = delta * d->mult;
    s = d->basetime[base].sec + vdso_iter_div((d->basetime[base].nsec + scaled) >> d->shift, &ns);
    if (base != clk) {
        /* Back to the tick: CLOCK_MONOTONIC's nanoseconds since its last multiple of 4 ms. */
        VDSO_U32 back;
        vdso_iter_div((d->basetime[VDSO_CLOCK_MONOTONIC].nsec + scaled) >> d->shift, &mono_ns);
        back = mono_ns % VDSO_TICK_NSEC;
        if (ns >= back) {
            ns -= back;
        } else {
            ns += VDSO_NSEC_PER_SEC - back;
            --s;
        }
    }
    *sec = s;
    *nsec = ns;
    return 0;
}

#endif
