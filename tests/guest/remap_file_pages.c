/* remap_file_pages, emulated since Linux 4.0 with a new mapping of the same file: the
 * remapped pages read (and write) the new file offset, /proc/self/maps shows the split VMAs
 * and their offsets, a range may run on through adjacent VMAs of the same file and flags,
 * and everything else is EINVAL (prot, a private or anonymous private mapping, a hole, a
 * range past the mapping, a wrapping range or pgoff). Flags other than MAP_NONBLOCK are
 * ignored. A shared anonymous mapping is a shmem file and can be remapped too. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PG 4096

static const char *ename(int e)
{
    switch (e) {
    case 0: return "0";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    default: return strerror(e);
    }
}

static long rfp(void *start, unsigned long size, unsigned long prot, unsigned long pgoff, unsigned long flags)
{
    return syscall(SYS_remap_file_pages, start, size, prot, pgoff, flags);
}

static void show(const char *what, long r)
{
    if (r < 0) printf("%s = -1 %s\n", what, ename(errno));
    else printf("%s = %ld\n", what, r);
}

static char *base;

/* The first byte of each page of the 4-page window at base. */
static void pages(const char *what)
{
    printf("%s:", what);
    for (int i = 0; i < 4; i++) printf(" %c", base[i * PG]);
    printf("\n");
}

/* The maps lines inside [base, base + 4 pages): offsets from base and file offsets. */
static void maps(const char *what)
{
    char line[512];
    FILE *f = fopen("/proc/self/maps", "r");
    printf("%s:\n", what);
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi, off;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s %lx", &lo, &hi, perms, &off) != 4) continue;
        if (lo < (unsigned long)base || lo >= (unsigned long)base + 4 * PG) continue;
        printf("  +%lu..+%lu %s off %lu\n", (lo - (unsigned long)base) / PG, (hi - (unsigned long)base) / PG,
               perms, off / PG);
    }
    if (f) fclose(f);
}

int main(void)
{
    char path[] = "/tmp/remap_file_pages.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 1;
    unlink(path);
    char buf[PG];
    for (int i = 0; i < 6; i++) {
        memset(buf, 'A' + i, PG);
        if (write(fd, buf, PG) != PG) return 1;
    }
    base = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) return 1;
    pages("initial");

    show("prot PROT_READ", rfp(base, PG, PROT_READ, 3, 0));
    show("size 0", rfp(base, 0, 0, 3, 0));
    show("size below a page", rfp(base, 100, 0, 3, 0));
    show("range past the mapping", rfp(base + 3 * PG, 2 * PG, 0, 0, 0));
    show("wrapping range", rfp(base, -(unsigned long)base, 0, 0, 0));
#ifdef __x86_64__
    show("wrapping pgoff", rfp(base, 2 * PG, 0, -1ul, 0));
#else
    /* An i386 caller's unsigned long is zero-extended in the 64-bit kernel: no wrap. */
    show("pgoff 0xffffffff", rfp(base, 2 * PG, 0, 0xfffffffful, 0));
    show("back to pgoff 0", rfp(base, 2 * PG, 0, 0, 0));
#endif
    show("first page -> pgoff 3", rfp(base, PG, 0, 3, 0));
    pages("after");
    maps("maps");
    show("unaligned start, page 2 -> pgoff 5, flags ignored", rfp(base + 2 * PG + 100, PG + 5, 0, 5, MAP_PRIVATE | MAP_FIXED));
    pages("after");
    show("across the split VMAs -> pgoff 0", rfp(base, 2 * PG, 0, 0, MAP_NONBLOCK));
    pages("after");
    maps("maps");

    /* A write through the remapped page lands at its new file offset. */
    show("page 1 -> pgoff 4", rfp(base + PG, PG, 0, 4, 0));
    base[PG] = 'x';
    char c = 0;
    if (pread(fd, &c, 1, 4 * PG) != 1) return 1;
    printf("file offset 4 pages reads %c\n", c);
    if (pread(fd, &c, 1, 1 * PG) != 1) return 1;
    printf("file offset 1 page reads %c\n", c);

    /* mprotect makes the VMAs differ: a range over both fails. */
    mprotect(base + PG, PG, PROT_READ);
    show("across different protections", rfp(base, 2 * PG, 0, 0, 0));
    show("the read-only page alone", rfp(base + PG, PG, 0, 2, 0));
    printf("read-only page reads %c\n", base[PG]);
    maps("maps");

    /* Private file mappings and private anonymous memory are not VM_SHARED. */
    char *priv = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
    show("private file mapping", rfp(priv, PG, 0, 1, 0));
    char *anon = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show("private anonymous", rfp(anon, PG, 0, 1, 0));

    /* Shared anonymous memory is shmem: page 0 can show page 1's contents. */
    char *shm = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    shm[0] = 'p';
    shm[PG] = 'q';
    show("shared anonymous page 0 -> pgoff 1", rfp(shm, PG, 0, 1, 0));
    printf("shared anonymous: %c %c\n", shm[0], shm[PG]);

    /* A read-only descriptor's shared mapping is not VM_SHARED (do_mmap clears it). */
    char p2[64];
    snprintf(p2, sizeof p2, "/proc/self/fd/%d", fd);
    int rfd = open(p2, O_RDONLY);
    char *ro = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, rfd, 0);
    show("read-only shared page 0 -> pgoff 5", rfp(ro, PG, 0, 5, 0));
    printf("read-only shared: %c %c\n", ro[0], ro[PG]);

    /* A hole splits the range (last: a later mapping could fill it). */
    munmap(base + 3 * PG, PG);
    show("over the hole", rfp(base + 2 * PG, 2 * PG, 0, 0, 0));
    show("in the hole", rfp(base + 3 * PG, PG, 0, 0, 0));
    return 0;
}
