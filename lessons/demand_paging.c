/* Lesson: demand paging. A 16 MiB anonymous array gets frames only when touched: reads map
 * the shared zero page, the first write to a page takes a frame of its own. */
#include <stdio.h>
#include <sys/mman.h>

#define SIZE (16u << 20)
#define PAGE 4096u

int main(void) {
    volatile unsigned char *a = mmap(0, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED) return 1;
    unsigned sum = 0;
    for (unsigned i = 0; i < SIZE / 4; i += PAGE) sum += a[i];  /* read faults: the zero page */
    for (unsigned i = 0; i < SIZE; i += PAGE) a[i] = (unsigned char)i;  /* write faults: new frames */
    for (unsigned i = 0; i < SIZE; i += PAGE) sum += a[i];  /* no faults: every page is mapped */
    printf("touched %u pages, sum %u\n", SIZE / PAGE, sum);
    munmap((void *)a, SIZE);
    return 0;
}
