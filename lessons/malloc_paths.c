/* Lesson: malloc's two paths. Small blocks come from the brk heap; a block above the mmap
 * threshold (128 KiB) gets a mapping of its own, which free() unmaps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    char *small[64];
    for (int i = 0; i < 64; ++i) {
        small[i] = malloc(4000);
        memset(small[i], i, 4000);
    }
    char *big = malloc(1 << 20);
    memset(big, 1, 1 << 20);
    unsigned sum = (unsigned char)big[4096] + (unsigned char)small[63][0];
    free(big);
    for (int i = 0; i < 64; ++i) free(small[i]);
    printf("sum %u\n", sum);
    return 0;
}
