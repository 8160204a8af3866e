/* touch N MODE: touches N fresh anonymous pages in a pattern the shadow TLB can count.
 *   write      writes one byte to each page (the first touch is a write)
 *   noreserve  the same in a MAP_NORESERVE mapping (overcommit does not refuse it)
 *   readwrite  reads every page first, then writes every page
 *   unmap      writes every page, then munmaps the whole range
 *   file       write()s the same bytes into a new N-page file in /dev/shm (tmpfs), maps
 *              it shared read-only and reads it back: every read fault finds the page
 *              in the page cache (fault-around maps its neighbours)
 * Prints "touch N MODE checksum C" and exits 0; C depends only on N (and is the same in
 * every mode), so a wrong page (lost, shared, not zeroed) changes it. Exit 1: bad usage,
 * exit 2: mmap or munmap failed, exit 3: a fresh page was not zero. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096UL

/* The byte page i gets and where (a different offset in each page, never zero). */
static unsigned offset_of(unsigned long i) { return (unsigned)((i * 67) % PAGE); }
static unsigned char value_of(unsigned long i) { return (unsigned char)((i * 7 + 1) | 1); }

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: touch N write|readwrite|unmap\n");
        return 1;
    }
    char *end;
    unsigned long n = strtoul(argv[1], &end, 10);
    const char *mode = argv[2];
    int readwrite = strcmp(mode, "readwrite") == 0, unmap = strcmp(mode, "unmap") == 0;
    int file = strcmp(mode, "file") == 0, noreserve = strcmp(mode, "noreserve") == 0;
    if (*end || n == 0 || (!readwrite && !unmap && !file && !noreserve && strcmp(mode, "write") != 0)) {
        fprintf(stderr, "touch: bad arguments\n");
        return 1;
    }
    if (file) {
        char path[64];
        snprintf(path, sizeof path, "/dev/shm/emu-touch-%d", (int)getpid());
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd < 0) {
            perror("touch: open");
            return 2;
        }
        unlink(path);
        static unsigned char pagebuf[PAGE];
        for (unsigned long i = 0; i < n; i++) {
            memset(pagebuf, 0, PAGE);
            pagebuf[offset_of(i)] = value_of(i);
            if (write(fd, pagebuf, PAGE) != (ssize_t)PAGE) {
                perror("touch: write");
                return 2;
            }
        }
        const volatile unsigned char *f = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
        if (f == (const volatile unsigned char *)MAP_FAILED) {
            perror("touch: mmap");
            return 2;
        }
        uint64_t sum = 0;
        for (unsigned long i = 0; i < n; i++) {
            sum = sum * 31 + f[i * PAGE + offset_of(i)];
            sum += f[i * PAGE + (offset_of(i) + 1) % PAGE] * 1000003ull;
        }
        printf("touch %lu %s checksum %llu\n", n, mode, (unsigned long long)sum);
        return 0;
    }
    volatile unsigned char *p =
        mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | (noreserve ? MAP_NORESERVE : 0), -1, 0);
    if (p == (volatile unsigned char *)MAP_FAILED) {
        perror("touch: mmap");
        return 2;
    }
    if (readwrite) {
        unsigned long nonzero = 0;
        for (unsigned long i = 0; i < n; i++)
            nonzero += p[i * PAGE + offset_of(i)] != 0;
        if (nonzero) {
            printf("touch: %lu fresh pages not zero\n", nonzero);
            return 3;
        }
    }
    for (unsigned long i = 0; i < n; i++)
        p[i * PAGE + offset_of(i)] = value_of(i);
    /* Read back the written byte and a neighbour that must still be zero. */
    uint64_t sum = 0;
    for (unsigned long i = 0; i < n; i++) {
        sum = sum * 31 + p[i * PAGE + offset_of(i)];
        sum += p[i * PAGE + (offset_of(i) + 1) % PAGE] * 1000003ull;
    }
    if (unmap && munmap((void *)p, n * PAGE) != 0) {
        perror("touch: munmap");
        return 2;
    }
    printf("touch %lu %s checksum %llu\n", n, mode, (unsigned long long)sum);
    return 0;
}
