/* Working directory and directory listing: chdir/fchdir/getcwd, relative paths, and
 * getdents64 (only the entries this program makes are printed: /tmp has others natively). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Per build, so that the native runs of the three builds can share the host's /tmp. */
#if defined(__i386__)
#define TAG "i386"
#elif defined(__GLIBC__)
#define TAG "glibc"
#else
#define TAG "musl"
#endif

static void report(const char* what, long r) {
    int e = errno;
    printf("%s: %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(e) : "");
}

static int cmp(const void* a, const void* b) { return strcmp(*(char* const*)a, *(char* const*)b); }

static void list(const char* path) {
    DIR* d = opendir(path);
    if (!d) {
        printf("opendir %s: %s\n", path, strerror(errno));
        return;
    }
    char* names[64];
    int n = 0, dots = 0;
    struct dirent* e;
    while ((e = readdir(d)) && n < 64) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) dots += e->d_type == DT_DIR;
        else if (!strncmp(e->d_name, "emu-dirs-" TAG "-", strlen("emu-dirs-" TAG "-"))) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    printf("%s: dot entries %d;", path, dots);
    for (int i = 0; i < n; ++i) printf(" %s", names[i]), free(names[i]);
    printf("\n");
}

int main(void) {
    char buf[256];
    report("chdir /tmp", chdir("/tmp"));
    printf("getcwd: %s\n", getcwd(buf, sizeof buf));
    for (int i = 0; i < 3; ++i) {
        char name[32];
        snprintf(name, sizeof name, "emu-dirs-" TAG "-%d", i);
        int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0600);  /* relative to /tmp */
        printf("create %s: %s\n", name, fd >= 0 ? "ok" : strerror(errno));
        if (fd >= 0) close(fd);
    }
    list(".");
    list("/tmp");
    int fd = open("/tmp/emu-dirs-" TAG "-0", O_RDONLY);
    report("getdents64 on a file", syscall(SYS_getdents64, fd, buf, sizeof buf));
    close(fd);
    int dfd = open("/tmp", O_RDONLY | O_DIRECTORY);
    report("getdents64 with 8 bytes", syscall(SYS_getdents64, dfd, buf, 8));
    report("getdents64 bad fd", syscall(SYS_getdents64, 999, buf, sizeof buf));
    report("open a file with O_DIRECTORY", open("/tmp/emu-dirs-" TAG "-0", O_RDONLY | O_DIRECTORY));
    report("chdir to a file", chdir("emu-dirs-" TAG "-1"));
    report("chdir missing", chdir("/tmp/emu-dirs-none"));
    report("chdir ../dev/shm", chdir("../dev/shm"));
    printf("getcwd: %s\n", getcwd(buf, sizeof buf));
    report("fchdir /tmp", fchdir(dfd));
    printf("getcwd: %s\n", getcwd(buf, sizeof buf));
    printf("open ../tmp/./emu-dirs-" TAG "-2: %s\n", open("../tmp/./emu-dirs-" TAG "-2", O_RDONLY) >= 0 ? "ok" : strerror(errno));
    for (int i = 0; i < 3; ++i) {
        char name[32];
        snprintf(name, sizeof name, "emu-dirs-" TAG "-%d", i);
        unlink(name);
    }
    list("/tmp");
    return 0;
}
