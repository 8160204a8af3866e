// smaps_swap (emu only: it needs a swap area, given with --swap, and small --ram): the Swap
// and SwapPss lines of /proc/self/smaps and smaps_rollup against Linux's rules
// (fs/proc/task_mmu.c). A private anonymous region A, a MAP_SHARED|MAP_ANONYMOUS region S
// and a memfd M (mapped shared, and privately without touching it) are filled, then a
// larger region pushes part of them out to swap. Checked:
//  - A: Rss + Swap == Size (each page is resident or in swap), Swap > 0, SwapPss == Swap;
//  - S and M: Swap > 0, Rss + Swap <= Size, SwapPss 0 (shmem counts the file's swap
//    entries, shmem_swap_usage, never a proportional share); the untouched private
//    mapping of M shows M's swap (its holes are looked up in the file, smaps_pte_hole);
//  - smaps_rollup's Swap and SwapPss equal the sums over smaps, and status VmSwap equals
//    the swap of the non-shmem mappings (MM_SWAPENTS);
//  - after fork, the child's and the parent's SwapPss of A are half its Swap (each slot
//    referenced by two PTEs, swp_swapcount 2), and whole again once the child is gone;
//  - every byte of A, S and M reads back as written; S's swap-ins read ahead (swap_ra and
//    swap_ra_hit grow, shmem_swapin_cluster), M's with vm.page-cluster 0 do not.
// Prints one line per check; the test's regular expression wants every one "yes".
//   smaps_swap PRESSURE_MIB
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096u
#define A_PAGES 2048u  // 8 MiB
#define S_PAGES 2048u  // 8 MiB
#define M_PAGES 1024u  // 4 MiB

struct vma_stats {
    long size, rss, swap, swap_pss;
};

// The counts (kB) of the smaps record starting at start, or of the rollup (start 0).
static struct vma_stats smaps_of(const char* file, uintptr_t start) {
    struct vma_stats s = {-1, -1, -1, -1};
    FILE* f = fopen(file, "r");
    char line[512];
    int in = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        long v;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = start ? lo == start : 1;
            continue;
        }
        if (!in) continue;
        if (sscanf(line, "Size: %ld kB", &v) == 1) s.size = v;
        else if (sscanf(line, "Rss: %ld kB", &v) == 1) s.rss = v;
        else if (sscanf(line, "Swap: %ld kB", &v) == 1) s.swap = v;
        else if (sscanf(line, "SwapPss: %ld kB", &v) == 1) s.swap_pss = v;
    }
    if (f) fclose(f);
    return s;
}

// Sums of Swap and SwapPss over every record of smaps.
static void smaps_sums(long* swap, long* swap_pss) {
    FILE* f = fopen("/proc/self/smaps", "r");
    char line[512];
    long v;
    *swap = *swap_pss = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "Swap: %ld kB", &v) == 1) *swap += v;
        else if (sscanf(line, "SwapPss: %ld kB", &v) == 1) *swap_pss += v;
    }
    if (f) fclose(f);
}

static long vm_swap(void) {
    FILE* f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f)) sscanf(line, "VmSwap: %ld kB", &v);
    if (f) fclose(f);
    return v;
}

// A /proc/vmstat counter.
static long vmstat(const char* name) {
    FILE* f = fopen("/proc/vmstat", "r");
    char key[64];
    long v, found = -1;
    while (f && fscanf(f, "%63s %ld", key, &v) == 2)
        if (!strcmp(key, name)) found = v;
    if (f) fclose(f);
    return found;
}

static void fill(unsigned char* m, unsigned pages, unsigned salt) {
    for (unsigned p = 0; p < pages; ++p) memset(m + (size_t)p * PAGE, (int)((p * 7 + salt) & 0xff), PAGE);
}

static unsigned bad_pages(const unsigned char* m, unsigned pages, unsigned salt) {
    unsigned bad = 0;
    for (unsigned p = 0; p < pages; ++p) {
        const unsigned char want = (unsigned char)((p * 7 + salt) & 0xff);
        for (unsigned i = 0; i < PAGE; i += 512)
            if (m[(size_t)p * PAGE + i] != want) {
                ++bad;
                break;
            }
    }
    return bad;
}

static const char* yes(int c) { return c ? "yes" : "no"; }

int main(int argc, char** argv) {
    if (argc < 2) return fprintf(stderr, "usage: smaps_swap PRESSURE_MIB\n"), 2;
    const size_t pressure = (size_t)atoi(argv[1]) << 20;
    unsigned char* a = mmap(NULL, A_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char* s = mmap(NULL, S_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    const int fd = memfd_create("smaps_swap", 0);
    if (a == MAP_FAILED || s == MAP_FAILED || fd < 0 || ftruncate(fd, M_PAGES * PAGE))
        return perror("setup"), 1;
    unsigned char* m = mmap(NULL, M_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    unsigned char* mp = mmap(NULL, M_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED || mp == MAP_FAILED) return perror("mmap memfd"), 1;
    fill(a, A_PAGES, 1);
    fill(s, S_PAGES, 2);
    fill(m, M_PAGES, 3);
    // The pressure: newer than A, S and M, so reclaim takes theirs first.
    unsigned char* b = mmap(NULL, pressure, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b == MAP_FAILED) return perror("mmap pressure"), 1;
    for (size_t i = 0; i < pressure; i += PAGE) b[i] = 1;
    munmap(b, pressure);

    const struct vma_stats sa = smaps_of("/proc/self/smaps", (uintptr_t)a);
    const struct vma_stats ss = smaps_of("/proc/self/smaps", (uintptr_t)s);
    const struct vma_stats sm = smaps_of("/proc/self/smaps", (uintptr_t)m);
    const struct vma_stats smp = smaps_of("/proc/self/smaps", (uintptr_t)mp);
    printf("A swapped: %s\n", yes(sa.swap > 0));
    printf("A Rss + Swap == Size: %s\n", yes(sa.rss + sa.swap == sa.size));
    printf("A SwapPss == Swap: %s\n", yes(sa.swap_pss == sa.swap));
    printf("S swapped: %s\n", yes(ss.swap > 0));
    printf("S Rss + Swap <= Size: %s\n", yes(ss.rss + ss.swap <= ss.size));
    printf("S SwapPss 0: %s\n", yes(ss.swap_pss == 0));
    printf("M swapped: %s\n", yes(sm.swap > 0));
    printf("M Rss + Swap <= Size: %s\n", yes(sm.rss + sm.swap <= sm.size));
    printf("M SwapPss 0: %s\n", yes(sm.swap_pss == 0));
    printf("M private Swap == M Swap: %s\n", yes(smp.swap == sm.swap && smp.rss == 0 && smp.swap_pss == 0));
    long sum_swap, sum_pss;
    smaps_sums(&sum_swap, &sum_pss);
    const struct vma_stats roll = smaps_of("/proc/self/smaps_rollup", 0);
    printf("rollup Swap == sum: %s\n", yes(roll.swap == sum_swap));
    printf("rollup SwapPss == sum: %s\n", yes(roll.swap_pss == sum_pss));
    printf("VmSwap == non-shmem Swap: %s\n", yes(vm_swap() == sum_swap - ss.swap - sm.swap - smp.swap));
    fflush(stdout);

    int ready[2], go[2];
    if (pipe(ready) || pipe(go)) return perror("pipe"), 1;
    const pid_t child = fork();
    if (child < 0) return perror("fork"), 1;
    if (child == 0) {
        close(ready[0]);
        close(go[1]);  // so the parent's close is the end of the pipe
        const struct vma_stats c = smaps_of("/proc/self/smaps", (uintptr_t)a);
        const struct vma_stats cs = smaps_of("/proc/self/smaps", (uintptr_t)s);
        long cswap, cpss;
        smaps_sums(&cswap, &cpss);
        const struct vma_stats croll = smaps_of("/proc/self/smaps_rollup", 0);
        printf("child A Swap == parent's: %s\n", yes(c.swap == sa.swap));
        printf("child A SwapPss == Swap / 2: %s\n", yes(c.swap > 0 && c.swap_pss * 2 == c.swap));
        printf("child S Swap == parent's, SwapPss 0: %s\n", yes(cs.swap == ss.swap && cs.swap_pss == 0));
        printf("child rollup == sums: %s\n", yes(croll.swap == cswap && croll.swap_pss == cpss));
        fflush(stdout);
        char x = 0;
        if (write(ready[1], &x, 1) != 1 || read(go[0], &x, 1) < 0) _exit(1);
        _exit(0);
    }
    close(ready[1]);
    close(go[0]);
    char x;
    if (read(ready[0], &x, 1) != 1) return perror("read"), 1;
    const struct vma_stats pa = smaps_of("/proc/self/smaps", (uintptr_t)a);
    printf("parent A SwapPss == Swap / 2 while shared: %s\n", yes(pa.swap == sa.swap && pa.swap_pss * 2 == pa.swap));
    close(go[1]);
    int status;
    waitpid(child, &status, 0);
    const struct vma_stats pb = smaps_of("/proc/self/smaps", (uintptr_t)a);
    printf("parent A SwapPss == Swap after the child: %s\n", yes(pb.swap == sa.swap && pb.swap_pss == pb.swap));
    const unsigned bad_a = bad_pages(a, A_PAGES, 1);
    const struct vma_stats after = smaps_of("/proc/self/smaps", (uintptr_t)a);
    // shmem swap-in reads the slots around the faulting one too (vm.page-cluster 3), and
    // later faults find them in the swap cache; with page-cluster 0 it reads only its own.
    const long ra0 = vmstat("swap_ra"), hit0 = vmstat("swap_ra_hit");
    unsigned bad = bad_a + bad_pages(s, S_PAGES, 2);
    const long ra1 = vmstat("swap_ra"), hit1 = vmstat("swap_ra_hit");
    FILE* pc = fopen("/proc/sys/vm/page-cluster", "w");
    if (!pc || fputs("0\n", pc) < 0 || fclose(pc)) return perror("page-cluster"), 1;
    bad += bad_pages(m, M_PAGES, 3) + bad_pages(mp, M_PAGES, 3);
    const long ra2 = vmstat("swap_ra");
    printf("read back, bad pages: %u\n", bad);
    printf("S swap-in read ahead and hit: %s\n", yes(ra1 > ra0 && hit1 > hit0));
    printf("M with page-cluster 0, no read-ahead: %s\n", yes(ra2 == ra1));
    printf("A all back: %s\n", yes(after.swap == 0 && after.rss == after.size));
    return 0;
}
