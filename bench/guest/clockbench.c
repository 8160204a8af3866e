/* clockbench [N]: N clock_gettime(CLOCK_MONOTONIC) calls through libc (default 10,000,000):
 * with a vDSO a plain function call that reads the TSC, without one a system call. Prints
 * how many readings did not go backwards (all of them). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000000;
    struct timespec prev = {0, 0}, t;
    unsigned long ordered = 0;
    for (unsigned long i = 0; i < n; i++) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        ordered += t.tv_sec > prev.tv_sec || (t.tv_sec == prev.tv_sec && t.tv_nsec >= prev.tv_nsec);
        prev = t;
    }
    printf("clock_gettime %lu: %lu in order\n", n, ordered);
    return 0;
}
