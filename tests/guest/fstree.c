/* Walks a directory tree (argv[1]; under emu the same tree on its ext2 disk) and prints, in
 * name order, each entry's type, permissions, size, link target and a hash of its bytes read
 * both with read() and through mmap; lost+found (made by mke2fs) is skipped. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned long long fnv(const unsigned char* p, size_t n, unsigned long long h) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static void file_line(const char* path, const struct stat* st) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) { printf("  open: %s\n", strerror(errno)); return; }
    unsigned long long h = 14695981039346656037ULL;
    unsigned char buf[3000];  /* not a multiple of a block: reads straddle pages */
    ssize_t n;
    size_t total = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0) h = fnv(buf, (size_t)n, h), total += (size_t)n;
    const char* map_ok = "empty";
    if (st->st_size > 0) {
        unsigned char* m = mmap(0, (size_t)st->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        map_ok = m == MAP_FAILED ? "mmap failed" : fnv(m, (size_t)st->st_size, 14695981039346656037ULL) == h ? "mmap same" : "mmap differs";
        if (m != MAP_FAILED) munmap(m, (size_t)st->st_size);
    }
    char tail[8] = {0};
    ssize_t t = st->st_size > 4 ? pread(fd, tail, 4, st->st_size - 4) : 0;
    close(fd);
    printf("  size %lld read %zu hash %016llx %s pread-tail %zd\n", (long long)st->st_size, total, h, map_ok, t);
}

static void walk(const char* dir, int depth) {
    DIR* d = opendir(dir);
    if (!d) { printf("%s: opendir: %s\n", dir, strerror(errno)); return; }
    char* names[512];
    unsigned char types[512];
    int n = 0;
    struct dirent* e;
    while ((e = readdir(d)) && n < 512) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (depth == 0 && !strcmp(e->d_name, "lost+found")) continue;
        names[n] = strdup(e->d_name);
        types[n++] = e->d_type;
    }
    closedir(d);
    for (int i = 0; i < n; ++i)  /* sort names, keeping each type with its name */
        for (int j = i + 1; j < n; ++j)
            if (strcmp(names[j], names[i]) < 0) {
                char* t = names[i]; names[i] = names[j]; names[j] = t;
                unsigned char u = types[i]; types[i] = types[j]; types[j] = u;
            }
    for (int i = 0; i < n; ++i) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (lstat(path, &st) != 0) { printf("%s: lstat: %s\n", path + 2, strerror(errno)); continue; }
        const unsigned char want = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
        printf("%s %c %04o d_type %s\n", path + 2, S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' : 'f',
               st.st_mode & 07777, types[i] == want ? "ok" : "differs");
        if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t len = readlink(path, target, sizeof target - 1);
            target[len < 0 ? 0 : len] = 0;
            struct stat to;
            int r = stat(path, &to);
            printf("  -> %s (%zd bytes; stat: %s)\n", target, len, r ? strerror(errno) : S_ISDIR(to.st_mode) ? "dir" : "file");
        } else if (S_ISDIR(st.st_mode)) {
            walk(path, depth + 1);
        } else {
            file_line(path, &st);
        }
        free(names[i]);
    }
}

int main(int argc, char** argv) {
    if (argc < 2 || chdir(argv[1]) != 0) { printf("usage: fstree DIR (%s)\n", strerror(errno)); return 2; }
    walk(".", 0);
    int fd = open("no/such/file", O_RDONLY);
    printf("missing: %d %s\n", fd, strerror(errno));
    fd = open("small/one/x", O_RDONLY);
    printf("through a file: %d %s\n", fd, strerror(errno));
    fd = open("small/one/", O_RDONLY);
    printf("file with a slash: %d %s\n", fd, strerror(errno));
    fd = open("small", O_RDONLY | O_DIRECTORY);
    printf("a dir with O_DIRECTORY: %s\n", fd >= 0 ? "ok" : strerror(errno));
    fd = open("links/to-one", O_RDONLY | O_NOFOLLOW);
    printf("a link with O_NOFOLLOW: %d %s\n", fd, strerror(errno));
    return 0;
}
