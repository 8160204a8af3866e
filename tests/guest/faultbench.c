/* Touch N MiB page by page, verify, unmap: the page-fault benchmark. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
int main(int argc, char** argv) {
    size_t mib = argc > 1 ? strtoul(argv[1], 0, 10) : 256, len = mib << 20;
    unsigned char* p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    for (size_t i = 0; i < len; i += 4096) p[i] = (unsigned char)(i >> 12);
    unsigned long bad = 0;
    for (size_t i = 0; i < len; i += 4096) bad += p[i] != (unsigned char)(i >> 12);
    munmap(p, len);
    printf("touched %zu MiB, %lu errors\n", mib, bad);
    return bad != 0;
}
