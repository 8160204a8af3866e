/* pagewrite [ROUNDS]: writes one word in each of 1,000 pages, ROUNDS times (default 100,000),
 * and never touches `watched`, a global on a page of its own: bench/run-gdb-bench sets a
 * gdb watchpoint on it to measure what watching one page costs a program that writes many
 * others (issue 16: within 10%). Exit status 0; prints the buffer's checksum. */
#include <stdio.h>
#include <stdlib.h>

#define PAGES 1000
static long pages[PAGES][512] __attribute__((aligned(4096)));
long watched __attribute__((aligned(4096))) = 1;

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    for (long r = 0; r < rounds; r++)
        for (int p = 0; p < PAGES; p++) pages[p][(r * 8) & 511] += r;
    long sum = 0;
    for (int p = 0; p < PAGES; p++)
        for (int i = 0; i < 512; i++) sum += pages[p][i];
    printf("%ld %ld\n", sum, watched);
    return 0;
}
