/* fadvise: posix_fadvise's checks as generic_fadvise makes them (EBADF, ESPIPE for a pipe,
 * EINVAL for unknown advice or a negative length, every known advice accepted on a file),
 * and POSIX_FADV_DONTNEED dropping a synced file's cached pages (mincore sees them go). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, int r) { printf("%-36s %s\n", what, r ? strerror(r) : "0"); }

int main(void)
{
    char name[] = "fadvise.XXXXXX";
    int fd = mkstemp(name);
    if (fd < 0) return 1;
    unlink(name);
    static char buf[16 * 4096];
    memset(buf, 'x', sizeof buf);
    if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) return 1;
    fsync(fd);

    show("bad fd", posix_fadvise(-1, 0, 0, POSIX_FADV_NORMAL));
    int p[2];
    pipe(p);
    show("pipe", posix_fadvise(p[0], 0, 0, POSIX_FADV_NORMAL));
    show("unknown advice 6", posix_fadvise(fd, 0, 0, 6));
    show("unknown advice -1", posix_fadvise(fd, 0, 0, -1));
#ifdef __x86_64__
    show("negative length", posix_fadvise(fd, 0, -1, POSIX_FADV_NORMAL));
#endif
    const int advice[] = {POSIX_FADV_NORMAL, POSIX_FADV_RANDOM, POSIX_FADV_SEQUENTIAL, POSIX_FADV_WILLNEED,
                          POSIX_FADV_NOREUSE, POSIX_FADV_DONTNEED};
    for (unsigned i = 0; i < sizeof advice / sizeof *advice; i++) {
        char what[32];
        snprintf(what, sizeof what, "advice %d", advice[i]);
        show(what, posix_fadvise(fd, 0, 0, advice[i]));
    }
    show("offset past the end", posix_fadvise(fd, 1 << 30, 4096, POSIX_FADV_DONTNEED));

    /* Read it back in, then drop the middle: the pages wholly inside go, the ends stay. */
    pread(fd, buf, sizeof buf, 0);
    show("DONTNEED pages 4..11 (unaligned)", posix_fadvise(fd, 4 * 4096 - 100, 8 * 4096 + 200, POSIX_FADV_DONTNEED));
    unsigned char *map = mmap(NULL, sizeof buf, PROT_READ, MAP_SHARED, fd, 0);
    unsigned char vec[16];
    mincore(map, sizeof buf, vec);
    printf("resident:");
    for (int i = 0; i < 16; i++) printf(" %d", vec[i] & 1);
    printf("\n");
    return 0;
}
