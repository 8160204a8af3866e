/* mallocfree [N]: N malloc+free pairs (default 5,000,000) of sizes from 16 bytes to 32 KiB,
 * with 64 blocks kept alive in between, so the allocator both reuses memory and gives it
 * back (musl's mallocng: madvise(MADV_FREE) and munmap of its groups). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 5000000;
    static unsigned char *live[64];
    unsigned long sum = 0, x = 12345;
    for (unsigned long i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        size_t size = (size_t)16 << ((x >> 33) % 12); /* 16 B .. 32 KiB */
        unsigned slot = (unsigned)(x >> 50) & 63;
        free(live[slot]);
        live[slot] = malloc(size);
        if (!live[slot]) return 1;
        live[slot][0] = (unsigned char)i;
        live[slot][size - 1] = (unsigned char)(i >> 8);
        sum += live[slot][0] + live[slot][size - 1];
    }
    for (unsigned s = 0; s < 64; s++) free(live[s]);
    printf("mallocfree %lu: %lu\n", n, sum);
    return 0;
}
