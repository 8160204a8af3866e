/* Lesson: swap. A 40 MiB array on a machine with 32 MiB of RAM and a swap area: writing it
 * all makes reclaim push the oldest pages out to swap; reading the start again brings them
 * back in through do_swap_page. */
#include <stdio.h>
#include <sys/mman.h>

#define SIZE (40u << 20)
#define PAGE 4096u

int main(void) {
    volatile unsigned char *a = mmap(0, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED) return 1;
    for (unsigned i = 0; i < SIZE; i += PAGE) a[i] = (unsigned char)(i >> 12 | 1); /* more than RAM holds */
    unsigned sum = 0;
    for (unsigned i = 0; i < SIZE / 4; i += PAGE) sum += a[i]; /* swap-in faults: the first pages went out */
    printf("wrote %u pages, read back %u, sum %u\n", SIZE / PAGE, SIZE / 4 / PAGE, sum);
    munmap((void *)a, SIZE);
    return 0;
}
