/* clock: clock_gettime, gettimeofday and time succeed and never go
 * backwards; prints only booleans. */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static const char *yesno(int b) { return b ? "yes" : "no"; }

static int ts_le(struct timespec a, struct timespec b)
{
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
}

int main(void)
{
    struct timespec m0, m1, r0, r1, res;
    int ok_m = clock_gettime(CLOCK_MONOTONIC, &m0) == 0;
    int ok_r = clock_gettime(CLOCK_REALTIME, &r0) == 0;
    int mono = 1, nsec_ok = 1;
    for (int i = 0; i < 1000; i++) {
        ok_m &= clock_gettime(CLOCK_MONOTONIC, &m1) == 0;
        mono &= ts_le(m0, m1);
        nsec_ok &= m1.tv_nsec >= 0 && m1.tv_nsec < 1000000000L;
        m0 = m1;
    }
    ok_r &= clock_gettime(CLOCK_REALTIME, &r1) == 0;
    printf("clock_gettime(CLOCK_MONOTONIC) ok: %s\n", yesno(ok_m));
    printf("monotonic non-decreasing: %s\n", yesno(mono));
    printf("tv_nsec in range: %s\n", yesno(nsec_ok));
    printf("clock_gettime(CLOCK_REALTIME) ok: %s\n", yesno(ok_r));
    printf("realtime non-decreasing: %s\n", yesno(ts_le(r0, r1)));
    printf("realtime after 2020: %s\n", yesno(r1.tv_sec > 1577836800));
    printf("clock_getres(CLOCK_MONOTONIC) ok: %s\n",
           yesno(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0));

    struct timeval tv0, tv1;
    int ok_tv = gettimeofday(&tv0, NULL) == 0 && gettimeofday(&tv1, NULL) == 0;
    printf("gettimeofday ok: %s\n", yesno(ok_tv));
    printf("gettimeofday non-decreasing: %s\n",
           yesno(tv0.tv_sec < tv1.tv_sec || (tv0.tv_sec == tv1.tv_sec && tv0.tv_usec <= tv1.tv_usec)));
    printf("tv_usec in range: %s\n", yesno(tv1.tv_usec >= 0 && tv1.tv_usec < 1000000));

    time_t t1 = 0;
    time_t t0 = time(NULL);
    time_t t = time(&t1);
    printf("time ok: %s\n", yesno(t0 != (time_t)-1 && t != (time_t)-1 && t == t1));
    printf("time non-decreasing: %s\n", yesno(t0 <= t));
    /* The three clocks agree to within a few seconds. */
    long d1 = (long)(t - r1.tv_sec), d2 = (long)(tv1.tv_sec - r1.tv_sec);
    printf("clocks agree: %s\n", yesno(d1 >= -2 && d1 <= 5 && d2 >= -2 && d2 <= 5));
    return 0;
}
