/* hotcold [COLD_MIB HOT_MIB ROUNDS]: writes a cold area of COLD_MIB MiB once (default 128),
 * then loops ROUNDS times (default 200) over a hot set of HOT_MIB MiB (default 16), a word in
 * each 64 bytes. The first hot pass faults the set in; the rest are the hot loop, timed with
 * CLOCK_MONOTONIC and reported on stderr ("hot loop NS ns"). stdout has the checksums,
 * equal to the native run's. bench/run-swap-bench runs it in --ram 64M with swap against
 * --ram 1G (issue 15: the LRU keeps the hot set, the hot loop at >= 90% of its speed). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static void *map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) perror("mmap"), exit(1);
    return p;
}

static uint64_t hot_pass(uint64_t *hot, size_t words, uint64_t round)
{
    uint64_t sum = 0;
    for (size_t w = 0; w < words; w += 8) {
        hot[w] += w ^ round;
        sum += hot[w];
    }
    return sum;
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    const size_t cold_mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 128;
    const size_t hot_mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 16;
    const unsigned rounds = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 200;
    const size_t cold_words = cold_mib << 20 >> 3, hot_words = hot_mib << 20 >> 3;
    uint64_t *cold = map(cold_words * 8), *hot = map(hot_words * 8);
    for (size_t w = 0; w < cold_words; w += 512) cold[w] = w;
    uint64_t sum = hot_pass(hot, hot_words, 0);
    const long long start = now_ns();
    for (unsigned r = 1; r < rounds; r++) sum = sum * 31 + hot_pass(hot, hot_words, r);
    const long long ns = now_ns() - start;
    uint64_t cold_sum = 0;
    for (size_t w = 0; w < cold_words; w += 512 * 8) cold_sum += cold[w];  /* every 8th page */
    fprintf(stderr, "hotcold: hot loop %lld ns\n", ns);
    printf("cold %zu MiB hot %zu MiB x %u: hot %016llx cold %016llx\n", cold_mib, hot_mib, rounds,
           (unsigned long long)sum, (unsigned long long)cold_sum);
    return 0;
}
