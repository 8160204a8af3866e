/* Lesson: slab growth. 3000 one-page mappings with alternating rights cannot merge, so each
 * is a vm_area_struct of its own from the slab; unmapping them gives the objects back. */
#include <stdio.h>
#include <sys/mman.h>

#define N 3000

int main(void) {
    char *base = mmap(0, (size_t)N * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return 1;
    for (int i = 0; i < N; i += 2) mprotect(base + (size_t)i * 4096, 4096, PROT_READ);
    for (int i = 1; i < N; i += 2) base[(size_t)i * 4096] = 1;
    munmap(base, (size_t)N * 4096);
    printf("%d mappings made and unmapped\n", N);
    return 0;
}
