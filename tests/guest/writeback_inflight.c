/* writeback_inflight: pages under writeback seen from the guest, under emu on a disk image
 * (scripts/ext2-run-check), as docs/block.md's completion model makes them visible:
 *   - writing a 4 MiB file with dirty_background_bytes at 16 pages, the flusher starts
 *     writeback without waiting for it: meminfo's Writeback (and vmstat's nr_writeback, and
 *     the in-flight field of sda in /proc/diskstats) is non-zero at some point in between;
 *   - fsync returns once its writes completed: Writeback and the in-flight count are 0;
 *   - sync_file_range(SYNC_FILE_RANGE_WRITE) only starts the writeback: Writeback is
 *     non-zero right after it in some round; with WAIT_BEFORE | WRITE | WAIT_AFTER it is 0.
 * A completion comes BLK_MQ_COMPLETION_NS (4 ms of the guest's clock) after its dispatch, so
 * each check that wants a non-zero value looks over many rounds and needs one.
 * emu only: it sets the vm sysctls and expects emu's disk. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diskstats.h"
#include "meminfo.h"

static long vmstat(const char* name) {
    FILE* f = fopen("/proc/vmstat", "r");
    char key[64];
    long v, r = -1;
    while (f && fscanf(f, "%63s %ld", key, &v) == 2)
        if (!strcmp(key, name)) r = v;
    if (f) fclose(f);
    return r;
}

static void set_sysctl(const char* path, const char* value) {
    int fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, value, strlen(value)) < 0) {
        printf("cannot set %s\n", path);
        exit(1);
    }
    close(fd);
}

static unsigned long long sda_in_flight(void) {
    unsigned long long v[17];
    diskstats_sda("writeback_inflight", v);
    return v[8];
}

int main(int argc, char** argv) {
    const char* path = argc > 1 ? argv[1] : "/file";
    static char chunk[64 * 1024];
    set_sysctl("/proc/sys/vm/dirty_background_bytes", "65536");
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    if (fd < 0) return 1;

    long max_wb = 0, max_nr_wb = 0;
    unsigned long long max_inflight = 0;
    for (int i = 0; i < 64; i++) {
        memset(chunk, 'a' + i % 26, sizeof chunk);
        if (write(fd, chunk, sizeof chunk) != (ssize_t)sizeof chunk) return 1;
        long wb = meminfo_kb("Writeback"), nr = vmstat("nr_writeback");
        unsigned long long in = sda_in_flight();
        if (wb > max_wb) max_wb = wb;
        if (nr > max_nr_wb) max_nr_wb = nr;
        if (in > max_inflight) max_inflight = in;
    }
    expect("writing 4 MiB: most Writeback kB seen", max_wb, 4, 4096 + 64);
    expect("writing 4 MiB: most nr_writeback seen", max_nr_wb, 1, 1024 + 16);
    expect("writing 4 MiB: most sda requests in flight", max_inflight, 1, 64);

    if (fsync(fd) < 0) return 1;
    expect("after fsync: Writeback kB", meminfo_kb("Writeback"), 0, 0);
    expect("after fsync: nr_writeback", vmstat("nr_writeback"), 0, 0);
    expect("after fsync: sda requests in flight", sda_in_flight(), 0, 0);

    set_sysctl("/proc/sys/vm/dirty_background_ratio", "10"); /* (zeroes dirty_background_bytes) */
    int seen = 0;
    for (int i = 0; i < 32 && !seen; i++) {
        memset(chunk, 'A' + i % 26, sizeof chunk);
        if (pwrite(fd, chunk, sizeof chunk, (off_t)i * sizeof chunk) != (ssize_t)sizeof chunk) return 1;
        if (sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) < 0) return 1;
        seen = meminfo_kb("Writeback") > 0;
    }
    expect("sync_file_range WRITE: a round saw Writeback", seen, 1, 1);
    if (sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) < 0)
        return 1;
    expect("sync_file_range WAIT|WRITE|WAIT: Writeback kB", meminfo_kb("Writeback"), 0, 0);
    expect("sync_file_range WAIT|WRITE|WAIT: Dirty kB of the file", meminfo_kb("Dirty") < 64, 1, 1);

    /* What reached the disk is what was written: read back through a fresh page cache. */
    if (fsync(fd) < 0) return 1;
    if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0) return 1;
    char c;
    if (pread(fd, &c, 1, 63 * sizeof chunk) != 1) return 1;
    expect("last chunk's byte on the disk", c, 'a' + 63 % 26, 'a' + 63 % 26);
    if (pread(fd, &c, 1, 0) != 1) return 1;
    expect("first chunk's byte on the disk (rewritten)", c, 'A', 'Z');
    close(fd);
    if (failures) return 1;
    printf("writeback_inflight: ok\n");
    return 0;
}
