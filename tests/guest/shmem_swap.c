// Shared memory larger than emu's RAM, with swap (issue 15, run in --ram 32M with a swap
// area): a MAP_SHARED|MAP_ANONYMOUS region and a System V segment are shmem, so their
// pages go to swap through shmem_writepage and come back through shmem_swapin. The region
// is checked twice, shared with a forked child that rewrites its first half (the parent
// must see that), and the segment is written and checked. Every read is checked and
// summed; the sums must equal the native run's.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096u

static uint32_t pattern(uint32_t page, uint32_t word, uint32_t salt) {
    uint32_t x = page * 2246822519u ^ word * 3266489917u ^ salt;
    x ^= x >> 16;
    return x * 0x85ebca6bu;
}

static void fill(uint32_t* mem, uint32_t first, uint32_t pages, uint32_t salt) {
    for (uint32_t p = first; p < first + pages; ++p)
        for (uint32_t w = 0; w < PAGE / 4; w += 128) mem[(size_t)p * (PAGE / 4) + w] = pattern(p, w, salt);
}

// Sum of the checked words of pages [first, first + pages); counts the ones that differ.
static uint64_t check(const uint32_t* mem, uint32_t first, uint32_t pages, uint32_t salt, uint32_t* bad) {
    uint64_t sum = 0;
    for (uint32_t p = first; p < first + pages; ++p)
        for (uint32_t w = 0; w < PAGE / 4; w += 128) {
            const uint32_t v = mem[(size_t)p * (PAGE / 4) + w];
            sum = sum * 31 + v;
            if (v != pattern(p, w, salt)) ++*bad;
        }
    return sum;
}

int main(int argc, char** argv) {
    const uint32_t mib = argc > 1 ? (uint32_t)atoi(argv[1]) : 48;
    const uint32_t pages = mib * (1024 * 1024 / PAGE), half = pages / 2;
    uint32_t* mem = mmap(NULL, (size_t)pages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return perror("mmap"), 1;
    fill(mem, 0, pages, 1);
    uint32_t bad = 0;
    printf("shared pass 1: %016llx bad %u\n", (unsigned long long)check(mem, 0, pages, 1, &bad), bad);
    printf("shared pass 2: %016llx bad %u\n", (unsigned long long)check(mem, 0, pages, 1, &bad), bad);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        uint32_t cbad = 0;
        const uint64_t s = check(mem, 0, pages, 1, &cbad);
        fill(mem, 0, half, 3);
        printf("child: %016llx bad %u\n", (unsigned long long)s, cbad);
        fflush(stdout);
        _exit(cbad ? 3 : 0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    printf("child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
    bad = 0;
    const uint64_t a = check(mem, 0, half, 3, &bad), b = check(mem, half, pages - half, 1, &bad);
    printf("parent sees the child's half: %016llx %016llx bad %u\n", (unsigned long long)a, (unsigned long long)b,
           bad);
    munmap(mem, (size_t)pages * PAGE);

    const int id = shmget(IPC_PRIVATE, (size_t)pages * PAGE, IPC_CREAT | 0600);
    if (id < 0) return perror("shmget"), 1;
    uint32_t* seg = shmat(id, NULL, 0);
    shmctl(id, IPC_RMID, NULL);
    if (seg == (void*)-1) return perror("shmat"), 1;
    fill(seg, 0, pages, 5);
    bad = 0;
    printf("sysv pass 1: %016llx bad %u\n", (unsigned long long)check(seg, 0, pages, 5, &bad), bad);
    printf("sysv pass 2: %016llx bad %u\n", (unsigned long long)check(seg, 0, pages, 5, &bad), bad);
    shmdt(seg);
    return 0;
}
