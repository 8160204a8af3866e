/* swapfault [MIB]: faults MIB MiB of anonymous memory (default 256) by writing a word in
 * each page, then reads every page back in order and prints the checksum (stdout, equal to
 * the native run's). Between the passes it reports on stderr what the write pass cost in
 * swap: /proc/vmstat's pswpout and /proc/self/status's VmSwap in pages, the pages that had
 * to leave RAM. bench/run-swap-bench runs it in --ram 64M with swap (issue 15: within 3x
 * of --ram 1G, pswpout within 10% of the pages that left). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "proc_field.h"

#define PAGE 4096u

int main(int argc, char **argv)
{
    const size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
    const size_t pages = mib << 20 >> 12;
    uint64_t *mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return perror("mmap"), 1;
    for (size_t p = 0; p < pages; p++) mem[p * (PAGE / 8)] = p * 0x9e3779b97f4a7c15ull;
    const long long swap_kb = proc_field("/proc/self/status", "VmSwap:");
    fprintf(stderr, "swapfault: write pass pswpout %lld vmswap_pages %lld\n", proc_field("/proc/vmstat", "pswpout "),
            swap_kb < 0 ? -1 : swap_kb / 4);
    uint64_t sum = 0, bad = 0;
    for (size_t p = 0; p < pages; p++) {
        const uint64_t v = mem[p * (PAGE / 8)];
        sum = sum * 31 + v;
        bad += v != p * 0x9e3779b97f4a7c15ull;
    }
    printf("%zu MiB: sum %016llx bad %llu\n", mib, (unsigned long long)sum, (unsigned long long)bad);
    return 0;
}
