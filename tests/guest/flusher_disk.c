/* flusher_disk: the flusher under emu on a disk image (scripts/ext2-flusher-check), with no
 * sync of any kind:
 *   - expiry: with vm.dirty_expire_centisecs 100 and dirty_writeback_centisecs 20, /expired
 *     (16 pages) shows in meminfo's Dirty at once, is not written before 1 s of the guest's
 *     CLOCK_MONOTONIC has passed since it was created, and has been written (nr_written,
 *     Dirty back, Writeback 0) once expiry plus two intervals have passed;
 *   - background: with dirty_background_bytes 16 pages, /background (64 pages) is written
 *     in part while it is written, long before its expiry, down to the threshold (under
 *     writeback at first, written once the disk completed the requests);
 *   - no expiry: /fresh (4 pages) written with dirty_expire_centisecs at one hour stays
 *     Dirty.
 * Then it prints READY and waits for a line on stdin: the script reads the image meanwhile
 * (/expired and part of /background must be there, /fresh not yet), then lets it exit.
 * Every time is the guest's clock; emu only (it sets the host's sysctls natively). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "meminfo.h"

static int failures;

static void expect(const char* what, long long got, long long lo, long long hi) {
    int ok = got >= lo && got <= hi;
    if (lo == hi) printf("%-52s %lld (want %lld)%s\n", what, got, lo, ok ? "" : "  WRONG");
    else printf("%-52s %lld (want %lld..%lld)%s\n", what, got, lo, hi, ok ? "" : "  WRONG");
    failures += !ok;
}

static long long vmstat(const char* key) {
    FILE* f = fopen("/proc/vmstat", "r");
    char line[256];
    long long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ' ') v = strtoll(line + n + 1, NULL, 10);
    if (f) fclose(f);
    if (v < 0) {
        printf("flusher_disk: no %s in /proc/vmstat\n", key);
        exit(1);
    }
    return v;
}

static void write_sysctl(const char* name, const char* value) {
    char path[128];
    snprintf(path, sizeof path, "/proc/sys/vm/%s", name);
    FILE* f = fopen(path, "w");
    if (!f || fputs(value, f) < 0 || fclose(f) != 0) {
        printf("flusher_disk: cannot set %s\n", path);
        exit(1);
    }
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nap(void) {
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* A new file of `pages` pages of `c`, written and closed without any sync. */
static void write_file(const char* path, int pages, char c) {
    static char buf[4096];
    memset(buf, c, sizeof buf);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    for (int i = 0; i < pages; i++)
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
            perror(path);
            exit(1);
        }
    close(fd);
}

static void expiry(void) {
    write_sysctl("dirty_expire_centisecs", "100");
    write_sysctl("dirty_writeback_centisecs", "20");
    const long dirty0 = meminfo_kb("Dirty");
    const long long written0 = vmstat("nr_written");
    const double t0 = now();
    write_file("/expired", 16, 'e');
    const double t_end = now();
    const long dirty1 = meminfo_kb("Dirty");
    const long long written1 = vmstat("nr_written");
    if (now() - t0 < 1.0) { /* (a loaded host may have let the expiry pass already) */
        expect("expiry: Dirty kB up after the write", dirty1 - dirty0, 64, 64 + 8);
        expect("expiry: nr_written before the expiry", written1 - written0, 0, 0);
    }
    /* Nothing is written before 1 s since the creat; all of it once 1 s + 2 intervals passed
     * since the write ended. */
    for (;;) {
        const long long w = vmstat("nr_written");
        const double t = now();
        if (w != written0 && t - t0 < 1.0) {
            printf("expiry: written %.3f s after the creat, before the expiry  WRONG\n", t - t0);
            ++failures;
            break;
        }
        if (t - t_end >= 1.4) break;
        nap();
    }
    expect("expiry: nr_written after expiry + 2 intervals", vmstat("nr_written") - written0, 16, 16 + 2);
    expect("expiry: Dirty kB back", meminfo_kb("Dirty"), 0, dirty0);
    expect("expiry: Writeback kB", meminfo_kb("Writeback"), 0, 0);
}

static void background(void) {
    write_sysctl("dirty_expire_centisecs", "360000"); /* an hour: only the threshold writes */
    write_sysctl("dirty_bytes", "4194304");
    write_sysctl("dirty_background_bytes", "65536");
    const long long written0 = vmstat("nr_written");
    const long dirty0 = meminfo_kb("Dirty");
    write_file("/background", 64, 'b');
    /* balance_dirty_pages looks every 32 pages dirtied: past 16 dirty it queues the flusher,
     * which the next write(2)'s entry runs, writing the oldest inodes until 16 or fewer
     * pages are dirty; what was dirtied after the last look (under 32 pages) waits. */
    /* The writes complete later (docs/block.md): a page is written or under writeback. */
    expect("background: nr_written + nr_writeback, with no sync or expiry",
           vmstat("nr_written") - written0 + vmstat("nr_writeback"), 16, 64 + 2);
    expect("background: Dirty kB, at most 16 + 32 pages", meminfo_kb("Dirty") - dirty0, 0, 48 * 4);
    for (int i = 0; i < 100 && vmstat("nr_writeback") > 0; i++) nap(); /* the disk completes them */
    expect("background: nr_written once completed", vmstat("nr_written") - written0, 16, 64 + 2);
    expect("background: Writeback kB once completed", meminfo_kb("Writeback"), 0, 0);
    write_sysctl("dirty_background_ratio", "10");
    write_sysctl("dirty_ratio", "20");
}

static void fresh(void) {
    const long long written0 = vmstat("nr_written");
    const long dirty0 = meminfo_kb("Dirty");
    write_file("/fresh", 4, 'f');
    nap();
    expect("no expiry: Dirty kB up", meminfo_kb("Dirty") - dirty0, 16, 16 + 8);
    expect("no expiry: nr_written", vmstat("nr_written") - written0, 0, 0);
}

int main(void) {
    expiry();
    background();
    fresh();
    if (failures) return 1;
    printf("READY\n");
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin)) return 1;
    printf("flusher_disk: ok\n");
    return 0;
}
