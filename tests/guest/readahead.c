/* readahead: readahead(2)'s checks as ksys_readahead makes them (EBADF for a bad fd or one not
 * open for reading, EINVAL for what is not a regular file: a pipe, a directory, a character
 * device), its success on a file at any offset (a 64-bit one split in two on i386), and
 * reads that see the file's bytes whatever read-ahead was advised (posix_fadvise and madvise
 * on a mapping). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void show(const char *what, long r) { printf("%-40s %s\n", what, r < 0 ? strerror(errno) : "0"); }

static unsigned sum_reads(int fd, off_t from, int pages)
{
    static unsigned char page[4096];
    unsigned sum = 0;
    for (int i = 0; i < pages; i++) {
        if (pread(fd, page, sizeof page, from + (off_t)i * 4096) != (ssize_t)sizeof page) return 0;
        for (int k = 0; k < 4096; k += 512) sum = sum * 31 + page[k];
    }
    return sum;
}

int main(void)
{
    char name[] = "readahead.XXXXXX";
    int fd = mkstemp(name);
    if (fd < 0) return 1;
    static unsigned char buf[64 * 4096];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 7 + i / 4096);
    if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) return 1;
    fsync(fd);

    errno = 0;
    show("bad fd", readahead(-1, 0, 4096));
    int wfd = open(name, O_WRONLY);
    show("write-only fd", readahead(wfd, 0, 4096));
    int p[2];
    pipe(p);
    show("pipe", readahead(p[0], 0, 4096));
    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    show("directory", readahead(dfd, 0, 4096));
    int nfd = open("/dev/null", O_RDONLY);
    show("/dev/null", readahead(nfd, 0, 4096));
    show("file, whole", readahead(fd, 0, sizeof buf));
    show("file, past the end (offset 2^33)", readahead(fd, 1ll << 33, 4096));
    show("file, count 0", readahead(fd, 4096, 0));
    unlink(name);

    /* The bytes read are the file's, with every kind of advice. */
    const unsigned want = sum_reads(fd, 0, 64);
    const int advice[] = {POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM, POSIX_FADV_NORMAL, POSIX_FADV_WILLNEED};
    for (unsigned i = 0; i < sizeof advice / sizeof *advice; i++) {
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        int r = posix_fadvise(fd, 0, 0, advice[i]);
        printf("advice %d: %s, reads %s\n", advice[i], r ? strerror(r) : "0",
               sum_reads(fd, 0, 64) == want ? "match" : "DIFFER");
    }
    unsigned char *map = mmap(NULL, sizeof buf, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) return 1;
    const int madv[] = {MADV_SEQUENTIAL, MADV_RANDOM, MADV_WILLNEED, MADV_NORMAL};
    for (unsigned i = 0; i < sizeof madv / sizeof *madv; i++) {
        errno = 0;
        long r = madvise(map + 4096 * 8, 4096 * 16, madv[i]);
        int same = memcmp(map, buf, sizeof buf) == 0;
        printf("madvise %d: %s, mapping %s\n", madv[i], r ? strerror(errno) : "0", same ? "matches" : "DIFFERS");
    }
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    int vmas = 0;
    while (maps && fgets(line, sizeof line, maps))
        if (strstr(line, name)) vmas++;
    printf("mapping VMAs after MADV_NORMAL: %d\n", vmas);
    return 0;
}
