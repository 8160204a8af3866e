/* Lesson: highmem. On an i386 machine with little lowmem, user pages come from ZONE_HIGHMEM;
 * the kernel reaches each of them through kmap_atomic to clear or copy it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SIZE (24u << 20)

int main(void) {
    unsigned char *a = mmap(0, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED) return 1;
    for (unsigned i = 0; i < SIZE; i += 4096) a[i] = (unsigned char)(i >> 12);
    unsigned sum = 0;
    for (unsigned i = 0; i < SIZE; i += 4096) sum += a[i];
    printf("sum %u\n", sum);
    return 0;
}
