// swap_prio (emu only: swapon needs the mkswap files emu was given with --swap A --swap B):
// A and B come up at priorities -2 and -3, in swapon order; B is swapped off and on again
// with SWAP_FLAG_PREFER and priority 7, so anonymous memory larger than RAM goes to B, not A.
// Prints each area's type, priority and whether it holds pages (/proc/swaps without its host
// paths), and swapon's errors for an active area and for unknown flags.
//   swap_prio PATH_B MIB
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/swap.h>

static void show_swaps(const char* when) {
    FILE* f = fopen("/proc/swaps", "r");
    char line[512], name[400], type[32];
    unsigned long size, used;
    int prio;
    printf("%s:", when);
    if (f && fgets(line, sizeof line, f))  // the header
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "%399s %31s %lu %lu %d", name, type, &size, &used, &prio) == 5)
                printf(" [%s prio %d %s]", type, prio, used ? "used" : "empty");
    printf("\n");
    if (f) fclose(f);
}

int main(int argc, char** argv) {
    if (argc < 3) return fprintf(stderr, "usage: swap_prio PATH_B MIB\n"), 2;
    const char* b = argv[1];
    const size_t bytes = (size_t)atoi(argv[2]) << 20;
    show_swaps("at boot");
    printf("swapoff B: %s\n", swapoff(b) ? strerror(errno) : "ok");
    show_swaps("without B");
    printf("swapon B prio 7: %s\n", swapon(b, SWAP_FLAG_PREFER | (7 << SWAP_FLAG_PRIO_SHIFT)) ? strerror(errno) : "ok");
    printf("swapon B again: %s\n", swapon(b, 0) ? strerror(errno) : "ok");
    printf("swapon B, unknown flag: %s\n", swapon(b, 0x100000) ? strerror(errno) : "ok");
    show_swaps("B at 7");
    unsigned char* m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return perror("mmap"), 1;
    for (size_t i = 0; i < bytes; i += 4096) m[i] = (unsigned char)(i >> 12);
    size_t bad = 0;
    for (size_t i = 0; i < bytes; i += 4096) bad += m[i] != (unsigned char)(i >> 12);
    printf("%zu MiB written and read back, bad pages %zu\n", bytes >> 20, bad);
    show_swaps("after");
    return 0;
}
