/* writeback FILE: under emu on an ext2 image (4 KiB blocks), checks the writeback counters
 * against what the program does to FILE:
 *   - 16 pages written: nr_dirtied +16 and Dirty +64 kB; fsync: nr_written +16, Dirty back,
 *     and the 16 contiguous blocks reach the disk as one request (15 merges in
 *     /proc/diskstats) of 128 sectors or more;
 *   - a second fsync with nothing dirty writes nothing (no request, no page);
 *   - one page written twice before writeback is dirtied once and written once.
 * Prints each figure and "writeback: ok", or what differs and exits 1. emu only: the host's
 * disks and page cache are busy with others. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    FILE* f = fopen("/proc/diskstats", "r");
    char line[512];
    int found = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned major, minor;
        char name[32];
        unsigned long long v[17];
        int n = sscanf(line, "%u %u %31s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
                       &major, &minor, name, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
                       &v[10], &v[11], &v[12], &v[13], &v[14], &v[15], &v[16]);
        if (n == 20 && !strcmp(name, "sda") && major == 8 && minor == 0) {
            c->writes = v[4];
            c->merges = v[5];
            c->sectors = v[6];
            c->flushes = v[15];
            found = 1;
        }
    }
    if (f) fclose(f);
    if (!found) {
        printf("writeback: no 8 0 sda line of 20 fields in /proc/diskstats\n");
        exit(1);
    }
}

static int failures;
static void expect(const char* what, unsigned long long got, unsigned long long lo, unsigned long long hi) {
    int ok = got >= lo && got <= hi;
    if (lo == hi) printf("%-44s %llu (want %llu)%s\n", what, got, lo, ok ? "" : "  WRONG");
    else printf("%-44s %llu (want %llu..%llu)%s\n", what, got, lo, hi, ok ? "" : "  WRONG");
    failures += !ok;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: writeback FILE\n");
        return 2;
    }
    static char buf[16 * 4096];
    memset(buf, 'x', sizeof buf);
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
    close(fd);
    if (failures) return 1;
    printf("writeback: ok\n");
    return 0;
}
