/* Overcommit under the default heuristic (vm.overcommit_memory 0, mm/util.c): a private
 * writable mapping larger than RAM + swap is refused with ENOMEM at mmap, and so is making
 * one writable (mprotect), growing one (mremap) or the break (brk) by that much; the same size
 * read-only, PROT_NONE or MAP_NORESERVE is accepted. Shared memory commits its size when it
 * is created (shmem_acct_size): a 1 TiB shared anonymous mapping or SysV segment is refused
 * whatever its protection unless MAP_NORESERVE/SHM_NORESERVE, and a memfd commits only the
 * pages it holds. 1 TiB exceeds RAM + swap natively and under emu (64-bit builds only).
 * "meminfo" (emu only: the host's Committed_AS moves with other processes) prints how
 * /proc/meminfo's Committed_AS follows private and shared mappings, SysV segments, memfd
 * and tmpfs pages. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SHM_NORESERVE
#define SHM_NORESERVE 010000 /* musl's headers lack it */
#endif

static const size_t HUGE_LEN = (size_t)1 << 40;

static void report(const char* what, int failed) {
    printf("%-28s %s\n", what, failed ? strerror(errno) : "ok");
}

static void* map(size_t len, int prot, int flags) {
    errno = 0;
    return mmap(NULL, len, prot, flags | MAP_ANONYMOUS, -1, 0);
}

static long committed_kb(void) {
    FILE* f = fopen("/proc/meminfo", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Committed_AS: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

/* Writes len bytes of 'x' to fd. */
static void fill(int fd, size_t len) {
    static char buf[65536];
    memset(buf, 'x', sizeof buf);
    for (size_t done = 0; done < len; done += sizeof buf)
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) perror("write");
}

/* Committed_AS for shared memory: size commitments and per-page ones. */
static void shared_meminfo(void) {
    long base = committed_kb();
    char* s = map(64 << 20, PROT_NONE, MAP_SHARED);
    const long shared = committed_kb() - base;
    munmap(s, 64 << 20);
    const long shared_back = committed_kb() == base;
    s = map(64 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE);
    memset(s, 1, 1 << 20);
    const long shared_noreserve = committed_kb() - base;
    munmap(s, 64 << 20);
    printf("shared +%ld kB (back: %s), shared noreserve after 1 MiB +%ld kB\n", shared, shared_back ? "yes" : "no",
           shared_noreserve);

    base = committed_kb();
    const int id = shmget(IPC_PRIVATE, 16 << 20, IPC_CREAT | 0600);
    const long seg = committed_kb() - base;
    shmctl(id, IPC_RMID, NULL);
    const int nid = shmget(IPC_PRIVATE, 16 << 20, IPC_CREAT | 0600 | SHM_NORESERVE);
    const long nseg = committed_kb() - base;
    char* at = shmat(nid, NULL, 0);
    memset(at, 1, 1 << 20);
    const long nseg_touched = committed_kb() - base;
    shmdt(at);
    shmctl(nid, IPC_RMID, NULL);
    printf("segment +%ld kB, noreserve segment +%ld kB then +%ld kB after 1 MiB, removed: %s\n", seg, nseg,
           nseg_touched, committed_kb() == base ? "yes" : "no");

    base = committed_kb();
    const int mfd = (int)syscall(SYS_memfd_create, "c", 0);
    ftruncate(mfd, 64 << 20);
    const long sized = committed_kb() - base;
    fill(mfd, 1 << 20);
    const long written = committed_kb() - base;
    close(mfd);
    char path[64];
    snprintf(path, sizeof path, "/tmp/overcommit.%d", getpid());
    const int tfd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    fill(tfd, 2 << 20);
    const long tmpfs = committed_kb() - base;
    close(tfd);
    unlink(path);
    printf("memfd of 64 MiB +%ld kB, +%ld kB after 1 MiB; tmpfs file +%ld kB; all gone: %s\n", sized, written, tmpfs,
           committed_kb() == base ? "yes" : "no");
}

static int meminfo(void) {
    const long before = committed_kb();
    char* p = map(64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    const long mapped = committed_kb();
    mprotect(p, 32 << 20, PROT_READ);  /* never written: half the commitment goes back */
    const long halved = committed_kb();
    munmap(p, 64 << 20);
    const long after = committed_kb();
    char* q = map(64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
    const long noreserve = committed_kb();
    munmap(q, 64 << 20);
    printf("mapped +%ld kB, mprotect read-only -%ld kB, munmap back to start: %s, noreserve +%ld kB\n",
           mapped - before, mapped - halved, after == before ? "yes" : "no", noreserve - after);
    shared_meminfo();
    return 0;
}

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "meminfo") == 0) return meminfo();
    void* p = map(HUGE_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    report("private read-write", p == MAP_FAILED);
    if (p != MAP_FAILED) munmap(p, HUGE_LEN);

    p = map(HUGE_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
    report("private MAP_NORESERVE", p == MAP_FAILED);
    if (p != MAP_FAILED) munmap(p, HUGE_LEN);

    p = map(HUGE_LEN, PROT_NONE, MAP_PRIVATE);
    report("private PROT_NONE", p == MAP_FAILED);
    if (p != MAP_FAILED) munmap(p, HUGE_LEN);

    p = map(HUGE_LEN, PROT_READ, MAP_PRIVATE);
    report("private read-only", p == MAP_FAILED);
    if (p != MAP_FAILED) {
        errno = 0;
        report("mprotect all read-write", mprotect(p, HUGE_LEN, PROT_READ | PROT_WRITE) != 0);
        errno = 0;
        report("mprotect 1 MiB read-write", mprotect(p, 1 << 20, PROT_READ | PROT_WRITE) != 0);
        munmap(p, HUGE_LEN);
    }

    p = map(HUGE_LEN, PROT_READ | PROT_WRITE, MAP_SHARED);
    report("shared read-write", p == MAP_FAILED);
    if (p != MAP_FAILED) munmap(p, HUGE_LEN);
    p = map(HUGE_LEN, PROT_NONE, MAP_SHARED);
    report("shared PROT_NONE", p == MAP_FAILED);
    if (p != MAP_FAILED) munmap(p, HUGE_LEN);
    p = map(HUGE_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE);
    report("shared MAP_NORESERVE", p == MAP_FAILED);
    if (p != MAP_FAILED) munmap(p, HUGE_LEN);

    errno = 0;
    int id = shmget(IPC_PRIVATE, HUGE_LEN, IPC_CREAT | 0600);
    report("SysV segment", id < 0);
    if (id >= 0) shmctl(id, IPC_RMID, NULL);
    errno = 0;
    id = shmget(IPC_PRIVATE, HUGE_LEN, IPC_CREAT | 0600 | SHM_NORESERVE);
    report("SysV segment SHM_NORESERVE", id < 0);
    if (id >= 0) shmctl(id, IPC_RMID, NULL);

    const int mfd = (int)syscall(SYS_memfd_create, "huge", 0);
    errno = 0;
    report("memfd ftruncate", ftruncate(mfd, (off_t)HUGE_LEN) != 0);
    close(mfd);

    char* small = map(1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    small[0] = 1;
    errno = 0;
    void* grown = mremap(small, 1 << 20, HUGE_LEN, MREMAP_MAYMOVE);
    report("mremap grow to 1 TiB", grown == MAP_FAILED);
    munmap(grown == MAP_FAILED ? small : grown, grown == MAP_FAILED ? 1 << 20 : HUGE_LEN);

    /* brk(2) itself: libc wrappers differ (musl's brk always fails). */
    const unsigned long cur = (unsigned long)syscall(SYS_brk, 0);
    const unsigned long got = (unsigned long)syscall(SYS_brk, cur + HUGE_LEN);
    printf("%-28s %s\n", "brk grow by 1 TiB", got == cur ? "refused" : "granted");
    const unsigned long small_brk = (unsigned long)syscall(SYS_brk, cur + (1 << 20));
    printf("%-28s %s\n", "brk grow by 1 MiB", small_brk == cur + (1 << 20) ? "granted" : "refused");
    return 0;
}
