/* crashwrite DIR: writes files until it is killed (scripts/crash-check kills emu with
 * SIGKILL). Each kept file s<N> is written under a temporary name, fsync'ed, renamed into
 * place and its directory fsync'ed, as a careful program replaces a file; then "synced
 * s<N> SIZE" is printed: from then on it must survive the kill intact. Between them it
 * churns unsynced files (create, overwrite, append, truncate, rename, unlink) so that the
 * kill lands in the middle of writing. After 20 kept files it prints "MARK".
 *
 * crashwrite --make FILE N: writes the content s<N> must have to FILE (natively). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { KEPT_MAX = 1500, CHURN_NAMES = 16 };

/* Kept file N's size: both sides of the 12 KiB of direct blocks at 1 KiB blocks. */
static size_t kept_size(unsigned n) { return 1 + (n * 7919u) % 20000u; }
static unsigned char kept_byte(unsigned n, size_t i) { return (unsigned char)((i * 31 + n * 17 + (i >> 9)) % 251); }

static unsigned char buf[262144];

static void fail(const char* what, const char* path) {
    printf("crashwrite: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

static void write_all(int fd, const unsigned char* p, size_t n, const char* path) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) fail("write", path);
        p += w;
        n -= (size_t)w;
    }
}

static void fsync_path(const char* path, int flags) {
    int fd = open(path, flags);
    if (fd < 0 || fsync(fd) < 0) fail("fsync", path);
    close(fd);
}

/* Writes s<n> through t<n>, making it durable before saying so. */
static void keep(const char* dir, unsigned n) {
    char tmp[4096], final[4096];
    snprintf(tmp, sizeof tmp, "%s/t%u", dir, n);
    snprintf(final, sizeof final, "%s/s%u", dir, n);
    size_t size = kept_size(n);
    for (size_t i = 0; i < size; i++) buf[i] = kept_byte(n, i);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) fail("create", tmp);
    write_all(fd, buf, size, tmp);
    if (fsync(fd) < 0) fail("fsync", tmp);
    close(fd);
    if (rename(tmp, final) < 0) fail("rename", tmp);
    fsync_path(dir, O_RDONLY | O_DIRECTORY);
    printf("synced s%u %zu\n", n, size);
    fflush(stdout);
}

static unsigned long long rng = 88172645463325252ull;
static unsigned rnd(unsigned n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* One unsynced change among the churn files c<0..15> (and their renamed r<..> names). */
static void churn(const char* dir) {
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/c%u", dir, rnd(CHURN_NAMES));
    snprintf(b, sizeof b, "%s/r%u", dir, rnd(CHURN_NAMES));
    size_t len = 1 + rnd(sizeof buf);
    memset(buf, (int)rnd(256), len);
    switch (rnd(5)) {
    case 0: case 1: {
        struct stat st;
        int append = rnd(2) && (stat(a, &st) < 0 || st.st_size < (1 << 20)); /* stay small */
        int fd = open(a, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
        if (fd < 0) fail("open", a);
        write_all(fd, buf, len, a);
        close(fd);
        break;
    }
    case 2: (void)truncate(a, (off_t)rnd(300000)); break;
    case 3: (void)rename(a, b); break;
    default: (void)unlink(rnd(2) ? a : b); break;
    }
}

int main(int argc, char** argv) {
    if (argc == 4 && !strcmp(argv[1], "--make")) {
        unsigned n = (unsigned)atoi(argv[3]);
        size_t size = kept_size(n);
        for (size_t i = 0; i < size; i++) buf[i] = kept_byte(n, i);
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) fail("create", argv[2]);
        write_all(fd, buf, size, argv[2]);
        return close(fd) < 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: crashwrite DIR | crashwrite --make FILE N\n");
        return 2;
    }
    const char* dir = argv[1];
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) fail("mkdir", dir);
    char parent[4096];
    snprintf(parent, sizeof parent, "%s/..", dir);
    fsync_path(parent, O_RDONLY | O_DIRECTORY);
    for (unsigned n = 0; n < 100000; n++) { /* (until killed) */
        if (n < KEPT_MAX) keep(dir, n);
        if (n == 20) {
            printf("MARK\n");
            fflush(stdout);
        }
        for (int i = 0; i < 8; i++) churn(dir);
    }
    return 0;
}
