// Anonymous memory larger than emu's RAM in the swap tests (--ram 64M --swap): pages
// written with a pattern, read back after others pushed them out, shared with a forked
// child (COW over swap entries), changed on both sides, then freed by munmap and
// MADV_DONTNEED. Every read is checked and summed; the sums must equal the native run's.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096u

static uint32_t pattern(uint32_t page, uint32_t word, uint32_t salt) {
    uint32_t x = page * 2654435761u ^ word * 40503u ^ salt;
    x ^= x >> 13;
    return x * 0x5bd1e995u;
}

static void fill(uint32_t* mem, uint32_t pages, uint32_t salt) {
    for (uint32_t p = 0; p < pages; ++p)
        for (uint32_t w = 0; w < PAGE / 4; w += 64) mem[p * (PAGE / 4) + w] = pattern(p, w, salt);
}

// Sum of the pattern words; counts the words that differ from the pattern of salt.
static uint64_t check(const uint32_t* mem, uint32_t first, uint32_t pages, uint32_t salt, uint32_t* bad) {
    uint64_t sum = 0;
    for (uint32_t p = first; p < first + pages; ++p)
        for (uint32_t w = 0; w < PAGE / 4; w += 64) {
            const uint32_t v = mem[p * (PAGE / 4) + w];
            sum = sum * 31 + v;
            if (v != pattern(p, w, salt)) ++*bad;
        }
    return sum;
}

int main(int argc, char** argv) {
    const uint32_t mib = argc > 1 ? (uint32_t)atoi(argv[1]) : 96;
    const uint32_t pages = mib * (1024 * 1024 / PAGE);
    uint32_t* mem = mmap(NULL, (size_t)pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return perror("mmap"), 1;
    fill(mem, pages, 1);
    uint32_t bad = 0;
    printf("pass 1: %016llx bad %u\n", (unsigned long long)check(mem, 0, pages, 1, &bad), bad);
    bad = 0;
    printf("pass 2: %016llx bad %u\n", (unsigned long long)check(mem, 0, pages, 1, &bad), bad);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        // The child reads the shared pages, then rewrites its first half.
        uint32_t cbad = 0;
        uint64_t s = check(mem, 0, pages, 1, &cbad);
        fill(mem, pages / 2, 7);
        uint64_t s2 = check(mem, 0, pages / 2, 7, &cbad) ^ check(mem, pages / 2, pages - pages / 2, 1, &cbad);
        printf("child: %016llx %016llx bad %u\n", (unsigned long long)s, (unsigned long long)s2, cbad);
        fflush(stdout);
        _exit(cbad ? 3 : 0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    printf("child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
    bad = 0;
    printf("parent after child: %016llx bad %u\n", (unsigned long long)check(mem, 0, pages, 1, &bad), bad);
    // Drop a quarter with MADV_DONTNEED (it reads back as zeros) and unmap the last quarter.
    madvise(mem, (size_t)(pages / 4) * PAGE, MADV_DONTNEED);
    uint64_t zeros = 0;
    for (uint32_t p = 0; p < pages / 4; ++p) zeros += mem[p * (PAGE / 4)] == 0;
    munmap(mem + (size_t)(pages - pages / 4) * (PAGE / 4), (size_t)(pages / 4) * PAGE);
    bad = 0;
    printf("after madvise: zero pages %llu, middle %016llx bad %u\n", (unsigned long long)zeros,
           (unsigned long long)check(mem, pages / 4, pages / 2, 1, &bad), bad);
    return 0;
}
