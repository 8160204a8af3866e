// A file larger than emu's RAM through mmap (issue 15, run in --ram 32M): "read" writes
// the file with write(2) and reads it twice through a shared read-only mapping; "shared"
// writes every page through a MAP_SHARED mapping of a sparse file, msyncs, and reads it
// back with read(2) and through a new mapping. Reclaim must drop clean page-cache pages
// and write dirty ones back (writepage) for either to finish. Every word read is checked
// and summed; the sums must equal the native run's. The file is ./<argv0 basename>.<pid>.
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096u
#define STRIDE 64u  // words between the checked words of a page

static uint32_t pattern(uint32_t page, uint32_t word, uint32_t salt) {
    uint32_t x = page * 2654435761u ^ word * 40503u ^ salt;
    x ^= x >> 15;
    return x * 0x2c1b3c6du;
}

// Fills one page's checked words with the pattern of salt.
static void fill_page(uint32_t* words, uint32_t page, uint32_t salt) {
    for (uint32_t w = 0; w < PAGE / 4; w += STRIDE) words[w] = pattern(page, w, salt);
}

// Sums a page's checked words into *sum; counts the ones that differ from the pattern.
static void check_page(const uint32_t* words, uint32_t page, uint32_t salt, uint64_t* sum, uint32_t* bad) {
    for (uint32_t w = 0; w < PAGE / 4; w += STRIDE) {
        *sum = *sum * 31 + words[w];
        if (words[w] != pattern(page, w, salt)) ++*bad;
    }
}

static void check_mapping(int fd, uint32_t pages, uint32_t salt, const char* what) {
    const uint32_t* map = mmap(NULL, (size_t)pages * PAGE, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) perror("mmap"), exit(1);
    uint64_t sum = 0;
    uint32_t bad = 0;
    for (uint32_t p = 0; p < pages; ++p) check_page(map + (size_t)p * (PAGE / 4), p, salt, &sum, &bad);
    printf("%s: %016llx bad %u\n", what, (unsigned long long)sum, bad);
    munmap((void*)map, (size_t)pages * PAGE);
}

static void check_read(int fd, uint32_t pages, uint32_t salt) {
    static uint32_t buf[PAGE / 4];
    uint64_t sum = 0;
    uint32_t bad = 0;
    for (uint32_t p = 0; p < pages; ++p) {
        if (pread(fd, buf, PAGE, (off_t)p * PAGE) != PAGE) perror("pread"), exit(1);
        check_page(buf, p, salt, &sum, &bad);
    }
    printf("read(2): %016llx bad %u\n", (unsigned long long)sum, bad);
}

int main(int argc, char** argv) {
    const uint32_t mib = argc > 1 ? (uint32_t)atoi(argv[1]) : 64;
    const int shared = argc > 2 && !strcmp(argv[2], "shared");
    const uint32_t pages = mib * (1024 * 1024 / PAGE);
    char path[256];
    snprintf(path, sizeof path, "./%s.%d", basename(argv[0]), (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return perror("open"), 1;
    unlink(path);  // the file lives while fd is open
    if (!shared) {
        static uint32_t buf[PAGE / 4];
        for (uint32_t p = 0; p < pages; ++p) {
            fill_page(buf, p, 1);
            if (write(fd, buf, PAGE) != PAGE) return perror("write"), 1;
        }
        check_mapping(fd, pages, 1, "mmap pass 1");
        check_mapping(fd, pages, 1, "mmap pass 2");
    } else {
        if (ftruncate(fd, (off_t)pages * PAGE) < 0) return perror("ftruncate"), 1;
        uint32_t* map = mmap(NULL, (size_t)pages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) return perror("mmap"), 1;
        for (uint32_t p = 0; p < pages; ++p) fill_page(map + (size_t)p * (PAGE / 4), p, 2);
        if (msync(map, (size_t)pages * PAGE, MS_SYNC) < 0) return perror("msync"), 1;
        munmap(map, (size_t)pages * PAGE);
        check_read(fd, pages, 2);
        check_mapping(fd, pages, 2, "mmap after MAP_SHARED writes");
    }
    close(fd);
    return 0;
}
