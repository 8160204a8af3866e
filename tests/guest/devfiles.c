/* /dev and the mount roots: the memory devices (null, zero, full, urandom), their nodes'
 * modes and numbers, the links to /proc/self/fd, /proc/self as a link, readlink of a
 * directory, and stat and chdir of "/". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static void node(const char* path) {
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("stat %s: %s\n", path, strerror(errno));
        return;
    }
    printf("%s: char device %d rdev %u:%u size %lld\n", path, S_ISCHR(st.st_mode), major(st.st_rdev),
           minor(st.st_rdev), (long long)st.st_size);
}

static void link_of(const char* path) {
    char buf[256];
    struct stat st;
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    int err = errno;
    int is_link = lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
    if (n < 0) printf("readlink %s: %s (lstat link %d)\n", path, strerror(err), is_link);
    else printf("readlink %s: %.*s (lstat link %d)\n", path, (int)n, buf, is_link);
}

static int dir_has(const char* dir, const char* name) {
    DIR* d = opendir(dir);
    struct dirent* e;
    int found = 0;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, name) == 0) found = 1;
    if (d) closedir(d);
    return found;
}

int main(void) {
    char buf[4096];
    int fd = open("/dev/null", O_RDWR);
    printf("null: write %zd read %zd lseek %lld\n", write(fd, "abc", 3), read(fd, buf, sizeof buf),
           (long long)lseek(fd, 100, SEEK_SET));
    close(fd);
    fd = open("/dev/zero", O_RDONLY);
    memset(buf, 1, sizeof buf);
    ssize_t n = read(fd, buf, 1000);
    int zeros = 0;
    for (int i = 0; i < 1000; i++) zeros += buf[i] == 0;
    printf("zero: read %zd, %d zero bytes\n", n, zeros);
    close(fd);
    fd = open("/dev/full", O_WRONLY);
    errno = 0;
    n = write(fd, "x", 1);
    printf("full: write %zd (%s), read %zd\n", n, strerror(errno), read(open("/dev/full", O_RDONLY), buf, 8));
    close(fd);
    fd = open("/dev/urandom", O_RDONLY);
    n = read(fd, buf, 64);
    int nonzero = 0;
    for (int i = 0; i < 64; i++) nonzero |= buf[i];
    printf("urandom: read %zd, not all zero %d\n", n, nonzero != 0);
    close(fd);
    const char* nodes[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"};
    for (unsigned i = 0; i < sizeof nodes / sizeof *nodes; i++) node(nodes[i]);
    const char* links[] = {"/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/fd", "/tmp", "/"};
    for (unsigned i = 0; i < sizeof links / sizeof *links; i++) link_of(links[i]);
    struct stat st, self;
    printf("/proc/self: lstat link %d, stat dir %d\n", lstat("/proc/self", &self) == 0 && S_ISLNK(self.st_mode),
           stat("/proc/self", &st) == 0 && S_ISDIR(st.st_mode));
    printf("/dev lists null %d zero %d urandom %d fd %d; /proc/self/fd lists 0 %d 2 %d; /proc lists self %d\n",
           dir_has("/dev", "null"), dir_has("/dev", "zero"), dir_has("/dev", "urandom"), dir_has("/dev", "fd"),
           dir_has("/proc/self/fd", "0"), dir_has("/proc/self/fd", "2"), dir_has("/proc", "self"));
    fd = open("/dev/fd/1", O_WRONLY | O_APPEND);
    dprintf(fd, "written through /dev/fd/1\n");
    close(fd);
    int r = stat("/", &st);
    printf("stat /: %d dir %d", r, S_ISDIR(st.st_mode));
    r = chdir("/");
    printf("; chdir /: %d; getcwd %s\n", r, getcwd(buf, sizeof buf));
    printf("stat /proc has a time: %d\n", stat("/proc", &st) == 0 && st.st_mtime > 1000000000);
    return 0;
}
