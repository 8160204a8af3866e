// openat2 (tests in /dev/shm): struct open_how's size rules (EINVAL, E2BIG, EFAULT), the
// flag and mode checks, and each RESOLVE_* flag: NO_XDEV, NO_MAGICLINKS, NO_SYMLINKS,
// BENEATH and IN_ROOT (EXDEV, ELOOP, the root kept), CACHED (EAGAIN).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

struct how {
    uint64_t flags, mode, resolve;
};
#define RESOLVE_NO_XDEV 0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
#define RESOLVE_CACHED 0x20

static char dir[200];
static int dfd;
static ino_t file_ino, sub_ino;

static long openat2(int fd, const char* path, const void* how, size_t size) {
    return syscall(SYS_openat2, fd, path, how, size);
}

// Opens and says what came out: an error, or which of the test's files it is.
static void try_open(const char* what, int fd, const char* path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct how h = {flags, mode, resolve};
    long r = openat2(fd, path, &h, sizeof h);
    if (r < 0) {
        printf("%-48s -> -1 %s\n", what, strerror(errno));
        return;
    }
    struct stat st;
    fstat((int)r, &st);
    const char* which = st.st_ino == file_ino ? "f" : st.st_ino == sub_ino ? "sub" : S_ISDIR(st.st_mode) ? "a directory"
                                                                                                         : "a file";
    printf("%-48s -> fd (%s)\n", what, which);
    close((int)r);
}

static void raw(const char* what, long r) {
    if (r < 0) printf("%-48s -> -1 %s\n", what, strerror(errno));
    else {
        printf("%-48s -> fd\n", what);
        close((int)r);
    }
}

static void sizes(void) {
    struct {
        struct how h;
        uint64_t extra;
    } big = {{O_RDONLY, 0, 0}, 0};
    const char* f = "f";
    raw("size 0", openat2(dfd, f, &big, 0));
    raw("size 23", openat2(dfd, f, &big, 23));
    raw("size 4097", openat2(dfd, f, &big, 4097));
    raw("size 32, zero tail", openat2(dfd, f, &big, sizeof big));
    big.extra = 1;
    raw("size 32, nonzero tail", openat2(dfd, f, &big, sizeof big));
    raw("bad how pointer", openat2(dfd, f, (void*)8, 24));
    struct how h = {O_RDONLY, 0, 0};
    raw("bad path pointer", openat2(dfd, (char*)8, &h, 24));
    h.flags = 1ull << 40;
    raw("bad path, bad flags", openat2(dfd, (char*)8, &h, 24));
}

static void flag_checks(void) {
    try_open("flags bit 40", dfd, "f", 1ull << 40, 0, 0);
    try_open("flags 0x4 (unused bit)", dfd, "f", 0x4, 0, 0);
    try_open("O_CLOEXEC alone", dfd, "f", O_CLOEXEC, 0, 0);
    try_open("mode without O_CREAT", dfd, "f", O_RDONLY, 0644, 0);
    try_open("O_CREAT mode 010644", dfd, "new", O_CREAT | O_WRONLY, 010644, 0);
    try_open("O_CREAT|O_DIRECTORY", dfd, "new", O_CREAT | O_DIRECTORY, 0644, 0);
    try_open("O_PATH|O_RDWR", dfd, "f", O_PATH | O_RDWR, 0, 0);
    try_open("O_PATH|O_NOFOLLOW|O_CLOEXEC", dfd, "f", O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, 0);
    try_open("O_TMPFILE without write", dfd, ".", O_TMPFILE | O_RDONLY, 0600, 0);
    try_open("resolve 0x40", dfd, "f", O_RDONLY, 0, 0x40);
    try_open("BENEATH|IN_ROOT", dfd, "f", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT);
    try_open("O_CREAT created", dfd, "new", O_CREAT | O_WRONLY, 0644, 0);
    unlinkat(dfd, "new", 0);
}

static void resolves(void) {
    try_open("BENEATH sub/f2 -> sub", dfd, "sub", O_RDONLY, 0, RESOLVE_BENEATH);
    try_open("BENEATH sub/../f", dfd, "sub/../f", O_RDONLY, 0, RESOLVE_BENEATH);
    try_open("BENEATH ..", dfd, "..", O_RDONLY, 0, RESOLVE_BENEATH);
    try_open("BENEATH sub/../..", dfd, "sub/../..", O_RDONLY, 0, RESOLVE_BENEATH);
    try_open("BENEATH /", dfd, "/", O_RDONLY, 0, RESOLVE_BENEATH);
    try_open("BENEATH rel link to f", dfd, "rel", O_RDONLY, 0, RESOLVE_BENEATH);
    try_open("BENEATH link to ..", dfd, "up", O_RDONLY, 0, RESOLVE_BENEATH);
    try_open("BENEATH abs link", dfd, "abs", O_RDONLY, 0, RESOLVE_BENEATH);
    if (fchdir(dfd)) perror("fchdir");
    try_open("BENEATH from cwd", AT_FDCWD, "f", O_RDONLY, 0, RESOLVE_BENEATH);
    try_open("BENEATH from cwd, ..", AT_FDCWD, "..", O_RDONLY, 0, RESOLVE_BENEATH);
    if (chdir("/")) perror("chdir");
    try_open("IN_ROOT /f", dfd, "/f", O_RDONLY, 0, RESOLVE_IN_ROOT);
    try_open("IN_ROOT ../../f", dfd, "../../f", O_RDONLY, 0, RESOLVE_IN_ROOT);
    try_open("IN_ROOT abs link (/f)", dfd, "abs", O_RDONLY, 0, RESOLVE_IN_ROOT);
    try_open("IN_ROOT link to .. then sub", dfd, "up/sub", O_RDONLY, 0, RESOLVE_IN_ROOT);
    try_open("IN_ROOT /", dfd, "/", O_RDONLY, 0, RESOLVE_IN_ROOT);
    try_open("NO_SYMLINKS f", dfd, "f", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
    try_open("NO_SYMLINKS rel", dfd, "rel", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
    try_open("NO_SYMLINKS rel O_PATH|O_NOFOLLOW", dfd, "rel", O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS);
    try_open("NO_SYMLINKS subl/x (link in the middle)", dfd, "subl/x", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
    try_open("no flags subl/../f", dfd, "subl/../f", O_RDONLY, 0, 0);
    char fdlink[64];
    snprintf(fdlink, sizeof fdlink, "/proc/self/fd/%d", dfd);
    try_open("NO_MAGICLINKS /proc/self/fd/DFD", AT_FDCWD, fdlink, O_RDONLY, 0, RESOLVE_NO_MAGICLINKS);
    try_open("/proc/self/fd/DFD", AT_FDCWD, fdlink, O_RDONLY, 0, 0);
    try_open("NO_MAGICLINKS O_PATH|O_NOFOLLOW fd link", AT_FDCWD, fdlink, O_PATH | O_NOFOLLOW, 0,
             RESOLVE_NO_MAGICLINKS);
    try_open("NO_SYMLINKS /proc/self/fd/DFD", AT_FDCWD, fdlink, O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
    try_open("NO_XDEV sub", dfd, "sub", O_RDONLY, 0, RESOLVE_NO_XDEV);
    try_open("NO_XDEV ../..", dfd, "../..", O_RDONLY, 0, RESOLVE_NO_XDEV);
    try_open("NO_XDEV /proc/self", AT_FDCWD, "/proc/self", O_RDONLY, 0, RESOLVE_NO_XDEV);
    try_open("NO_XDEV /", dfd, "/", O_RDONLY, 0, RESOLVE_NO_XDEV);
    try_open("CACHED f", dfd, "f", O_RDONLY, 0, RESOLVE_CACHED);
    try_open("CACHED O_CREAT", dfd, "f", O_RDONLY | O_CREAT, 0644, RESOLVE_CACHED);
    try_open("CACHED O_TRUNC", dfd, "f", O_WRONLY | O_TRUNC, 0, RESOLVE_CACHED);
    try_open("bad dfd", 99, "f", O_RDONLY, 0, RESOLVE_BENEATH);
    try_open("dfd a file", dfd, "f/x", O_RDONLY, 0, 0);
}

int main(int argc, char** argv) {
    const char* base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    (void)argc;
    snprintf(dir, sizeof dir, "/dev/shm/%s.%d", base, getpid());
    mkdir(dir, 0755);
    dfd = open(dir, O_RDONLY | O_DIRECTORY);
    close(openat(dfd, "f", O_CREAT | O_WRONLY, 0644));
    mkdirat(dfd, "sub", 0755);
    symlinkat("f", dfd, "rel");
    symlinkat("..", dfd, "up");
    symlinkat("/f", dfd, "abs");
    symlinkat("sub", dfd, "subl");
    close(openat(dfd, "sub/x", O_CREAT | O_WRONLY, 0644));
    struct stat st;
    fstatat(dfd, "f", &st, 0);
    file_ino = st.st_ino;
    fstatat(dfd, "sub", &st, 0);
    sub_ino = st.st_ino;
    sizes();
    flag_checks();
    resolves();
    unlinkat(dfd, "sub/x", 0);
    unlinkat(dfd, "sub", AT_REMOVEDIR);
    unlinkat(dfd, "f", 0);
    unlinkat(dfd, "rel", 0);
    unlinkat(dfd, "up", 0);
    unlinkat(dfd, "abs", 0);
    unlinkat(dfd, "subl", 0);
    close(dfd);
    rmdir(dir);
    return 0;
}
