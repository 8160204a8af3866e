/* writeback FILE: under emu on an ext2 image (4 KiB blocks), checks the writeback counters
 * against what the program does to FILE:
 *   - 16 pages written: nr_dirtied +16 and Dirty +64 kB; fsync: nr_written +16, Dirty back,
 *     and the 16 contiguous blocks reach the disk as one request (15 merges in
 *     /proc/diskstats) of 128 sectors or more;
 *   - a second fsync with nothing dirty writes nothing (no request, no page);
 *   - one page written twice before writeback is dirtied once and written once;
 *   - a page of a MAP_SHARED mapping: read through it, msync writes nothing; a store dirties
 *     it once (the first store faults: page_mkclean left the PTE read-only); msync writes it
 *     once, a second msync with no store in between writes nothing, a store after it is
 *     written again; a store left in the PTE at munmap is written by the next fsync.
 * The flusher's periodic write is off (dirty_writeback_centisecs 0), so that the counts are
 * the program's however slowly it runs.
 * Prints each figure and "writeback: ok", or what differs and exits 1. emu only: the host's
 * disks and page cache are busy with others. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "diskstats.h"

struct counters {
    unsigned long long dirtied, written, dirty_kb, writes, merges, sectors, flushes;
};

static unsigned long long field(const char* path, const char* key) {
    FILE* f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    char line[512];
    unsigned long long v = ~0ull;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && (line[n] == ' ' || line[n] == ':')) {
            v = strtoull(line + n + 1 + strspn(line + n + 1, " :"), NULL, 10);
            break;
        }
    fclose(f);
    if (v == ~0ull) {
        printf("writeback: no %s in %s\n", key, path);
        exit(1);
    }
    return v;
}

static void read_counters(struct counters* c) {
    c->dirtied = field("/proc/vmstat", "nr_dirtied");
    c->written = field("/proc/vmstat", "nr_written");
    c->dirty_kb = field("/proc/meminfo", "Dirty");
    unsigned long long v[17];
    diskstats_sda("writeback", v);
    c->writes = v[4];
    c->merges = v[5];
    c->sectors = v[6];
    c->flushes = v[15];
}

/* The MAP_SHARED part: pages 0..3 of the 16-page file, all clean on entry. */
static void mapped_page(int fd) {
    struct counters a, b;
    volatile char* map = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    read_counters(&a);
    int sum = map[0] + map[4096] + map[2 * 4096];
    if (msync((void*)map, 4 * 4096, MS_SYNC) < 0 || sum != 'x' * 3) exit(1);
    read_counters(&b);
    expect("mapped, read, msync: nr_written", b.written - a.written, 0, 0);
    expect("mapped, read, msync: nr_dirtied", b.dirtied - a.dirtied, 0, 0);
    for (int round = 1; round <= 2; ++round) {
        map[4096 + 10] = (char)('0' + round);
        map[4096 + 20] = (char)('0' + round);
        read_counters(&a);
        expect(round == 1 ? "mapped page stored twice: nr_dirtied" : "stored again after msync: nr_dirtied",
               a.dirtied - b.dirtied, 1, 1);
        expect("  ... Dirty kB", a.dirty_kb - b.dirty_kb, 4, 4);
        if (msync((void*)map, 4 * 4096, MS_SYNC) < 0) exit(1);
        read_counters(&b);
        expect("  msync: nr_written", b.written - a.written, 1, 1);
        expect("  msync: Dirty kB", b.dirty_kb + 4, a.dirty_kb, a.dirty_kb);
        if (msync((void*)map, 4 * 4096, MS_SYNC) < 0) exit(1);
        read_counters(&a);
        expect("  second msync, no store: nr_written", a.written - b.written, 0, 0);
        expect("  second msync, no store: disk writes", a.writes - b.writes, 0, 0);
    }
    map[3 * 4096] = 'm';
    if (munmap((void*)map, 4 * 4096) < 0) exit(1);
    read_counters(&a);
    if (fsync(fd) < 0) exit(1);
    read_counters(&b);
    expect("stored, munmap, fsync: nr_written", b.written - a.written, 1, 1);
    char c = 0;
    if (pread(fd, &c, 1, 3 * 4096) != 1 || c != 'm') printf("the store through the mapping is lost  WRONG\n"), ++failures;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: writeback FILE\n");
        return 2;
    }
    static char buf[16 * 4096];
    memset(buf, 'x', sizeof buf);
    FILE* wbc = fopen("/proc/sys/vm/dirty_writeback_centisecs", "w");
    if (!wbc || fputs("0", wbc) < 0 || fclose(wbc) != 0) {
        perror("dirty_writeback_centisecs");
        return 1;
    }
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || fsync(fd) < 0) {
        perror(argv[1]);
        return 1;
    }
    struct counters a, b, c, d, e;
    read_counters(&a);
    if (pwrite(fd, buf, sizeof buf, 0) != (ssize_t)sizeof buf) return 1;
    read_counters(&b);
    expect("16 pages written: nr_dirtied", b.dirtied - a.dirtied, 16, 16);
    expect("16 pages written: Dirty kB", b.dirty_kb - a.dirty_kb, 64, 64);
    expect("16 pages written: disk writes", b.writes - a.writes, 0, 0);
    if (fsync(fd) < 0) return 1;
    read_counters(&c);
    expect("fsync: nr_written", c.written - b.written, 16, 16);
    expect("fsync: Dirty kB", c.dirty_kb, a.dirty_kb, a.dirty_kb);
    expect("fsync: write merges", c.merges - b.merges, 15, 1000);
    expect("fsync: sectors written", c.sectors - b.sectors, 128, 128 + 64);
    expect("fsync: flushes", c.flushes - b.flushes, 1, 1);
    if (fsync(fd) < 0) return 1;
    read_counters(&d);
    expect("second fsync: nr_written", d.written - c.written, 0, 0);
    expect("second fsync: disk writes", d.writes - c.writes, 0, 0);
    if (pwrite(fd, buf, 4096, 3 * 4096) != 4096 || pwrite(fd, buf, 100, 3 * 4096 + 7) != 100) return 1;
    read_counters(&e);
    expect("one page written twice: nr_dirtied", e.dirtied - d.dirtied, 1, 1);
    if (fdatasync(fd) < 0) return 1;
    read_counters(&d);
    expect("fdatasync: nr_written", d.written - e.written, 1, 1);
    expect("fdatasync: sectors written (page + inode)", d.sectors - e.sectors, 8, 16);
    mapped_page(fd);
    close(fd);
    if (failures) return 1;
    printf("writeback: ok\n");
    return 0;
}
