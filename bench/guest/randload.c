/* randload [N [MIB]]: N dependent loads (default 20,000,000) at pseudo-random places in an
 * array of MIB MiB (default 192): each load's address comes from the previous load, so
 * every one waits for the TLB and the cache. The chain is a full-period linear congruential
 * sequence over the array's 4-byte slots (Hull-Dobell: a-1 divisible by 4 and by 3, c odd
 * and not divisible by 3, for m = MIB * 2^18 = 3 * 2^24 at 192). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000000;
    unsigned long mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 192;
    uint32_t m = (uint32_t)(mib << 18);
    uint32_t *a = malloc((size_t)m * 4);
    if (!a) return 1;
    const uint64_t mul = 1 + 12 * 1234567ull, inc = 1234567;
    const uint32_t step = (uint32_t)(mul % m); /* a[i] = (mul * i + inc) % m, by additions */
    uint32_t v = (uint32_t)(inc % m);
    for (uint32_t i = 0; i < m; i++) {
        a[i] = v;
        v += step;
        if (v >= m) v -= m;
    }
    uint32_t at = 0;
    unsigned long sum = 0;
    for (unsigned long i = 0; i < n; i++) {
        at = a[at];
        sum += at;
    }
    printf("randload %lu over %lu MiB: %lu\n", n, mib, sum);
    return 0;
}
