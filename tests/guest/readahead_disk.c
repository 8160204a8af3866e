/* readahead_disk FILE: under emu on an ext2 image (4 KiB blocks), checks what read-ahead sends
 * to the disk for FILE (1 MiB, written and synced first, then dropped from the page cache):
 *   - read 4 KiB at a time from the start, the 256 pages arrive in a few large requests
 *     (the windows 4, 8, 16, 32... pages, each one request of contiguous blocks), 2048
 *     sectors in all, and /proc/self/io read_bytes grows by 1 MiB;
 *   - after POSIX_FADV_RANDOM, 16 reads of single pages are 16 requests of one page;
 *   - readahead(2) of the whole file reads it at once: the reads after it need no request;
 *   - readahead(2) refuses what Linux refuses: EBADF for a bad or write-only fd, EINVAL for
 *     a pipe.
 * Prints each figure and "readahead_disk: ok", or what differs and exits 1. emu only: the
 * host's disks and page cache are busy with others. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diskstats.h"

#define PAGES 256

struct counters {
    unsigned long long reads, sectors, read_bytes;
};

static unsigned long long io_field(const char* key) {
    FILE* f = fopen("/proc/self/io", "r");
    char line[256];
    unsigned long long v = ~0ull;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':') v = strtoull(line + n + 1, NULL, 10);
    if (f) fclose(f);
    if (v == ~0ull) {
        printf("readahead_disk: no %s in /proc/self/io\n", key);
        exit(1);
    }
    return v;
}

static void read_counters(struct counters* c) {
    unsigned long long v[17];
    diskstats_sda("readahead_disk", v);
    c->reads = v[0];
    c->sectors = v[2];
    c->read_bytes = io_field("read_bytes");
}

static void drop_caches(void) {
    int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (fd < 0 || write(fd, "1", 1) != 1) {
        perror("/proc/sys/vm/drop_caches");
        exit(1);
    }
    close(fd);
}

static void read_pages(int fd, int n) {
    static char page[4096];
    for (int i = 0; i < n; i++)
        if (read(fd, page, sizeof page) != (ssize_t)sizeof page) {
            perror("read");
            exit(1);
        }
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: readahead_disk FILE\n");
        return 2;
    }
    static char buf[PAGES * 4096];
    memset(buf, 'r', sizeof buf);
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, buf, sizeof buf) != (ssize_t)sizeof buf || fsync(fd) < 0) {
        perror(argv[1]);
        return 1;
    }
    close(fd);
    struct counters a, b, c, d;

    drop_caches();
    fd = open(argv[1], O_RDONLY);
    read_counters(&a);
    read_pages(fd, PAGES);
    read_counters(&b);
    expect("sequential: sectors read", b.sectors - a.sectors, PAGES * 8, PAGES * 8 + 64);
    expect("sequential: read requests (256 pages)", b.reads - a.reads, 5, 24);
    expect("sequential: read_bytes", b.read_bytes - a.read_bytes, PAGES * 4096, PAGES * 4096);
    close(fd);

    drop_caches();
    fd = open(argv[1], O_RDONLY);
    if (posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM) != 0) return 1;
    read_counters(&a);
    for (int i = 0; i < 16; i++) {
        static char page[4096];
        if (pread(fd, page, sizeof page, (off_t)((i * 37) % PAGES) * 4096) != (ssize_t)sizeof page) return 1;
    }
    read_counters(&b);
    expect("FADV_RANDOM: sectors read for 16 pages", b.sectors - a.sectors, 16 * 8, 16 * 8 + 16);
    expect("FADV_RANDOM: read requests", b.reads - a.reads, 16, 18);
    close(fd);

    drop_caches();
    fd = open(argv[1], O_RDONLY);
    read_counters(&c);
    if (readahead(fd, 0, sizeof buf) != 0) {
        perror("readahead");
        return 1;
    }
    read_pages(fd, PAGES);
    read_counters(&d);
    expect("readahead(2) then reads: sectors read", d.sectors - c.sectors, PAGES * 8, PAGES * 8 + 64);
    expect("readahead(2) then reads: read requests", d.reads - c.reads, 1, 4);
    close(fd);

    int wfd = open(argv[1], O_WRONLY), p[2];
    if (wfd < 0 || pipe(p) < 0) return 1;
    errno = 0;
    expect("readahead(-1): EBADF", readahead(-1, 0, 4096) == -1 && errno == EBADF, 1, 1);
    errno = 0;
    expect("readahead(write-only fd): EBADF", readahead(wfd, 0, 4096) == -1 && errno == EBADF, 1, 1);
    errno = 0;
    expect("readahead(pipe): EINVAL", readahead(p[0], 0, 4096) == -1 && errno == EINVAL, 1, 1);
    if (failures) return 1;
    printf("readahead_disk: ok\n");
    return 0;
}
