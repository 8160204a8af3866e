/* Builds a tree under the directory given as argv[1] (a host temporary directory natively,
 * a directory of the ext2 disk under emu) and prints what each step gives: files across the
 * direct/indirect block boundaries, directories, hard and symbolic links (fast and slow),
 * renames across directories and with RENAME_NOREPLACE, truncates down and up, sparse
 * files, appends, MAP_SHARED writes with msync, a directory grown past one block and
 * thinned, and the errno of each edge case. The tree is left in place: the test dumps the
 * disk's copy with debugfs and compares it with the native one byte for byte. Nothing
 * printed depends on inode numbers, times or directory sizes. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#endif

static const char* err(long r) {
    static char buf[64];
    if (r >= 0) return "0";
    switch (errno) {
#define E(x) case x: return #x;
    E(ENOENT) E(EEXIST) E(ENOTDIR) E(EISDIR) E(ENOTEMPTY) E(EINVAL) E(ELOOP) E(ENAMETOOLONG)
    E(EPERM) E(EXDEV) E(EBADF) E(ENOSPC) E(EMLINK) E(EBUSY)
#undef E
    }
    snprintf(buf, sizeof buf, "errno %d", errno);
    return buf;
}

#define STEP(what, call) printf("%-40s %s\n", what, err((long)(call)))

/* A byte pattern that differs per file and per offset. */
static unsigned char pat(unsigned seed, size_t i) { return (unsigned char)(33 + (i * 7 + seed * 13) % 90); }

static int write_pattern(const char* path, size_t n, unsigned seed, int flags) {
    int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
    if (fd < 0) return -1;
    static unsigned char buf[8192];
    for (size_t done = 0; done < n;) {
        size_t k = n - done < sizeof buf ? n - done : sizeof buf;
        for (size_t i = 0; i < k; i++) buf[i] = pat(seed, done + i);
        ssize_t w = write(fd, buf, k);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)w;
    }
    return close(fd);
}

static int pwrite_str(const char* path, off_t at, const char* s) {
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    if (fd < 0) return -1;
    ssize_t w = pwrite(fd, s, strlen(s), at);
    close(fd);
    return w == (ssize_t)strlen(s) ? 0 : -1;
}

/* FNV-1a of a file's bytes, and its size. */
static unsigned long long sum_file(const char* path, long long* size) {
    unsigned long long h = 1469598103934665603ull;
    int fd = open(path, O_RDONLY);
    *size = 0;
    if (fd < 0) return 0;
    unsigned char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) h = (h ^ buf[i]) * 1099511628211ull;
        *size += n;
    }
    close(fd);
    return h;
}

static int cmp(const void* a, const void* b) { return strcmp(*(char* const*)a, *(char* const*)b); }

/* Every name under dir, sorted, with its type, mode, link count (not for directories,
 * whose counts are what the test checks separately), size and checksum or target. */
static void walk(const char* dir, const char* rel) {
    DIR* d = opendir(dir);
    if (!d) return;
    char* names[1024];
    int n = 0;
    struct dirent* e;
    while ((e = readdir(d)) && n < 1024)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp);
    for (int i = 0; i < n; i++) {
        char path[4096], r[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(r, sizeof r, "%s/%s", rel, names[i]);
        struct stat st;
        if (lstat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            printf("d %s %o nlink=%lu\n", r, st.st_mode & 07777, (unsigned long)st.st_nlink);
            walk(path, r);
        } else if (S_ISLNK(st.st_mode)) {
            char t[4096];
            ssize_t k = readlink(path, t, sizeof t - 1);
            t[k > 0 ? k : 0] = 0;
            printf("l %s size=%lld -> %s\n", r, (long long)st.st_size, t);
        } else {
            long long size;
            unsigned long long h = sum_file(path, &size);
            printf("f %s %o nlink=%lu size=%lld read=%lld sum=%016llx\n", r, st.st_mode & 07777,
                   (unsigned long)st.st_nlink, (long long)st.st_size, size, h);
        }
        free(names[i]);
    }
}

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    if (chdir(argv[1]) != 0 && (mkdir(argv[1], 0755) != 0 || chdir(argv[1]) != 0)) return 3;
    umask(022);

    /* Directories and files across ext2's block-tree boundaries (1 KiB blocks: 12 direct,
     * 256 single-indirect, 65536 double-indirect). */
    STEP("mkdir a", mkdir("a", 0755));
    STEP("mkdir a/b", mkdir("a/b", 0750));
    STEP("mkdir c", mkdir("c", 0700));
    STEP("mkdir a (again)", mkdir("a", 0755));
    static const size_t sizes[] = {0, 1, 1023, 1024, 1025, 4096, 12288, 12289, 13000, 266240, 266241, 300000};
    for (unsigned i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        char p[64];
        snprintf(p, sizeof p, "a/f%zu", sizes[i]);
        STEP(p, write_pattern(p, sizes[i], i, O_TRUNC));
    }
    /* Sparse: data far apart with holes between, one past the single-indirect tree. */
    STEP("sparse at 0", pwrite_str("sparse", 0, "head"));
    STEP("sparse at 100000", pwrite_str("sparse", 100000, "middle"));
    STEP("sparse at 2000000", pwrite_str("sparse", 2000000, "tail"));
    STEP("sparse2 ftruncate", truncate("a/f1", 0) == 0 ? 0 : -1);
    /* Appends. */
    for (int i = 0; i < 5; i++) STEP("append log", write_pattern("c/log", 700 + i * 100, i, O_APPEND));
    /* Truncates: down across the indirect trees, up over a hole, down inside a block. */
    STEP("truncate f300000 to 5000", truncate("a/f300000", 5000));
    STEP("truncate f300000 to 20000", truncate("a/f300000", 20000));
    STEP("truncate f13000 to 1500", truncate("a/f13000", 1500));
    STEP("truncate f13000 to 3000", truncate("a/f13000", 3000));
    STEP("truncate f266241 to 0", truncate("a/f266241", 0));
    STEP("truncate dir", truncate("a", 0));
    /* Hard links. */
    STEP("link a/f1025 c/hard", link("a/f1025", "c/hard"));
    STEP("link a/f1025 hard2", link("a/f1025", "hard2"));
    STEP("unlink hard2", unlink("hard2"));
    STEP("link dir", link("a", "dirlink"));
    STEP("link existing", link("a/f1025", "c/hard"));
    /* Symbolic links: fast (in the inode) and slow (in a block). */
    STEP("symlink fast", symlink("a/f1024", "fast"));
    char longt[300];
    memset(longt, 'x', sizeof longt - 1);
    longt[sizeof longt - 1] = 0;
    memcpy(longt, "../", 3);
    STEP("symlink slow", symlink(longt, "c/slow"));
    char toolong[300];
    memset(toolong, 'n', 256);
    toolong[256] = 0;
    STEP("create name too long", open(toolong, O_CREAT | O_WRONLY, 0644));
    STEP("mkdir name too long", mkdir(toolong, 0755));
    /* Renames. */
    STEP("rename file across dirs", rename("a/f4096", "c/moved"));
    STEP("rename over existing", rename("a/f12288", "c/moved"));
    STEP("rename dir across dirs", rename("a/b", "c/b"));
    STEP("rename dir into itself", rename("c", "c/b/inside"));
    STEP("rename noreplace exists", syscall(SYS_renameat2, AT_FDCWD, "a/f1", AT_FDCWD, "c/log", RENAME_NOREPLACE));
    STEP("rename noreplace new", syscall(SYS_renameat2, AT_FDCWD, "a/f1", AT_FDCWD, "c/f1", RENAME_NOREPLACE));
    STEP("mkdir e", mkdir("e", 0755));
    STEP("rename dir over empty dir", rename("c/b", "e"));
    STEP("rename dir over nonempty", rename("e", "a"));
    STEP("rename file over dir", rename("c/log", "a"));
    STEP("rename dir over file", rename("e", "c/log"));
    STEP("rename missing", rename("nothere", "x"));
    /* Removal. */
    STEP("rmdir nonempty", rmdir("a"));
    STEP("mkdir gone", mkdir("gone", 0755));
    STEP("rmdir gone", rmdir("gone"));
    STEP("rmdir file", rmdir("fast"));
    STEP("unlink dir", unlink("a"));
    STEP("unlink missing", unlink("missing"));
    /* An unlinked file still open keeps its data until closed. */
    int fd = open("doomed", O_CREAT | O_RDWR, 0600);
    STEP("write doomed", write(fd, "still here", 10));
    STEP("unlink doomed", unlink("doomed"));
    char back[16] = {0};
    STEP("pread doomed", pread(fd, back, 10, 0));
    printf("doomed reads %s\n", back);
    close(fd);
    /* MAP_SHARED writes, msync(MS_SYNC). */
    fd = open("mapped", O_CREAT | O_RDWR, 0644);
    STEP("ftruncate mapped", ftruncate(fd, 3 * 4096 + 100));
    unsigned char* m = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m != MAP_FAILED) {
        for (size_t i = 0; i < 3 * 4096 + 100; i += 3) m[i] = pat(7, i);
        STEP("msync", msync(m, 4 * 4096, MS_SYNC));
        munmap(m, 4 * 4096);
    }
    close(fd);
    /* A directory of many entries, past one block, then half removed. */
    STEP("mkdir many", mkdir("many", 0755));
    for (int i = 0; i < 200; i++) {
        char p[64];
        snprintf(p, sizeof p, "many/entry-with-a-long-name-%03d", i);
        if (write_pattern(p, (size_t)i, (unsigned)i, O_TRUNC)) printf("create %s failed\n", p);
    }
    for (int i = 0; i < 200; i += 2) {
        char p[64];
        snprintf(p, sizeof p, "many/entry-with-a-long-name-%03d", i);
        if (unlink(p)) printf("unlink %s failed\n", p);
    }
    for (int i = 0; i < 20; i++) {
        char p[64];
        snprintf(p, sizeof p, "many/again-%d", i);
        if (write_pattern(p, 10, (unsigned)i, O_TRUNC)) printf("create %s failed\n", p);
    }
    /* Modes. */
    STEP("chmod 0604", chmod("c/moved", 0604));
    STEP("chmod 0711 dir", chmod("c", 0711));
    STEP("fsync", (fd = open("sparse", O_RDONLY)) >= 0 ? fsync(fd) : -1);
    close(fd);
    sync();
    walk(".", ".");
    return 0;
}
