/* flusher_meta: metadata-only changes reach the image through the flusher, under emu on a
 * disk image (scripts/ext2-flusher-meta-check), with no sync after the changes:
 *   - /f (one page) and /late are written and fsync'ed, the root directory fsync'ed too;
 *   - with vm.dirty_expire_centisecs 100 and dirty_writeback_centisecs 20: chmod /f 0600,
 *     chown /f 1234:5678, utimensat /f to fixed times, link /f /g, mkdir /d: no page is
 *     dirtied, only inodes (I_DIRTY_SYNC) and the block device's buffers (the directory
 *     block, the bitmaps, the group descriptor);
 *   - 2.5 s of the guest's clock later (expiry plus two intervals), dirty_expire_centisecs
 *     goes to one hour and /late is chmod'ed 0640: that change has not expired.
 * Then it prints READY and waits for a line on stdin: the script reads the image meanwhile
 * (the changes to /f, /g and /d must be there, /late's mode not yet), then lets it exit. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die(const char* what) {
    perror(what);
    exit(1);
}

static void write_sysctl(const char* name, const char* value) {
    char path[128];
    snprintf(path, sizeof path, "/proc/sys/vm/%s", name);
    FILE* f = fopen(path, "w");
    if (!f || fputs(value, f) < 0 || fclose(f) != 0) die(path);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t) {
    while (now() < t) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* A file of one page of c, on the image before the test starts (fsync). */
static void write_synced(const char* path, char c) {
    static char buf[4096];
    memset(buf, c, sizeof buf);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, buf, sizeof buf) != (ssize_t)sizeof buf || fsync(fd) || close(fd)) die(path);
}

int main(void) {
    write_synced("/f", 'f');
    write_synced("/late", 'l');
    int root = open("/", O_RDONLY | O_DIRECTORY);
    if (root < 0 || fsync(root)) die("fsync /");
    write_sysctl("dirty_expire_centisecs", "100");
    write_sysctl("dirty_writeback_centisecs", "20");
    const double t0 = now();
    if (chmod("/f", 0600)) die("chmod /f");
    if (chown("/f", 1234, 5678)) die("chown /f");
    const struct timespec times[2] = {{1000000000, 0}, {1100000000, 0}};
    if (utimensat(AT_FDCWD, "/f", times, 0)) die("utimensat /f");
    if (link("/f", "/g")) die("link /f /g");
    if (mkdir("/d", 0755)) die("mkdir /d");
    sleep_until(t0 + 2.5);
    write_sysctl("dirty_expire_centisecs", "360000");
    if (chmod("/late", 0640)) die("chmod /late");
    sleep_until(t0 + 3.0);
    printf("READY\n");
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin)) return 1;
    printf("flusher_meta: ok\n");
    return 0;
}
