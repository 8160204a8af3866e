/* mmapchurn [N]: N times (default 200,000) map 64 KiB of anonymous memory, write one byte to
 * each of its 16 pages and unmap it: the munmap-heavy pattern of allocators that return
 * memory at once. Prints a checksum of what it read back. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PAGE 4096UL
#define PAGES 16UL

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
    unsigned long sum = 0;
    for (unsigned long i = 0; i < n; i++) {
        volatile unsigned char *p = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == (volatile unsigned char *)MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        for (unsigned long j = 0; j < PAGES; j++) p[j * PAGE + (i & 63)] = (unsigned char)(i + j);
        for (unsigned long j = 0; j < PAGES; j++) sum += p[j * PAGE + (i & 63)];
        munmap((void *)p, PAGES * PAGE);
    }
    printf("mmapchurn %lu: %lu\n", n, sum);
    return 0;
}
