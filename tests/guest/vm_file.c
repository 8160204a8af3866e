/* vm_file: file-backed memory on tmpfs (/dev/shm) and shared anonymous memory, against the
 * page cache: shared mappings and read()/write() see the same pages, private mappings copy
 * on write, SIGBUS past the end of the file (also after a truncate, COW copies included),
 * mincore of cached pages, the access checks of mmap and mprotect, MADV_DONTNEED on shared
 * and private memory, memfd_create, O_CREAT|O_EXCL, unlink with the file still mapped.
 * Nothing printed depends on addresses, pids or times. */
#include "vm_common.h"

#include <sys/stat.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1U
#endif

static sigjmp_buf bus_env;
static volatile int bus_code;
static volatile uintptr_t bus_addr;

static void bus_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    bus_code = sig == SIGBUS ? si->si_code : -sig;
    bus_addr = (uintptr_t)si->si_addr;
    siglongjmp(bus_env, 1);
}

/* Reads one byte at p: the byte, or which signal with which code at which offset from base. */
static void touch(const char *what, volatile char *p, const char *base)
{
    if (sigsetjmp(bus_env, 1) == 0) {
        char c = *p;
        printf("%s: reads %d\n", what, c);
    } else {
        printf("%s: %s si_code %d at base+%#lx\n", what, bus_code > 0 ? "SIGBUS" : "other signal", bus_code,
               (unsigned long)(bus_addr - (uintptr_t)base));
    }
}

static void touch_write(const char *what, volatile char *p, const char *base)
{
    if (sigsetjmp(bus_env, 1) == 0) {
        *p = 'w';
        printf("%s: written\n", what);
    } else {
        printf("%s: %s si_code %d at base+%#lx\n", what, bus_code > 0 ? "SIGBUS" : "other signal", bus_code,
               (unsigned long)(bus_addr - (uintptr_t)base));
    }
}

static void stat_fd(const char *what, int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        printf("%s: fstat %s\n", what, en(errno));
        return;
    }
    printf("%s: size %lld blocks %lld regular %d mode %o\n", what, (long long)st.st_size, (long long)st.st_blocks,
           S_ISREG(st.st_mode), (unsigned)(st.st_mode & 0777));
}

static void residency(const char *what, void *p, size_t pages)
{
    unsigned char vec[16];
    int r = sys_mincore(p, pages * PAGE, vec);
    printf("%s: mincore %s [", what, en(r ? errno : 0));
    for (size_t i = 0; i < pages && !r; i++) printf("%d", vec[i] & 1);
    printf("]\n");
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = bus_handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    umask(022);

    char path[64];
    snprintf(path, sizeof path, "/dev/shm/emu-vm_file-%d", (int)getpid());
    unlink(path);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0666);
    printf("create: %s\n", fd >= 0 ? "ok" : en(errno));
    if (fd < 0) return 1;
    int fd2 = open(path, O_RDWR | O_CREAT | O_EXCL, 0666);
    printf("create again with O_EXCL: %s\n", fd2 >= 0 ? "ok" : en(errno));
    stat_fd("new file", fd);

    /* Three pages and 100 bytes of a known pattern. */
    static char buf[3 * PAGE + 100];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (char)('a' + i % 26);
    printf("write: %zd\n", write(fd, buf, sizeof buf));
    stat_fd("after write", fd);

    /* A shared mapping of 5 pages: 4 are (partly) in the file, the 5th is past its end. */
    char *s = mmap(NULL, 5 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("mmap shared: %s\n", s == MAP_FAILED ? en(errno) : "ok");
    if (s == MAP_FAILED) return 1;
    residency("shared, nothing touched (the file's pages are cached)", s, 5);
    printf("shared reads page 2: %.5s\n", s + 2 * PAGE);
    touch("last byte of the file", s + 3 * PAGE + 99, s);
    touch("past the end, same page (zeros)", s + 3 * PAGE + 100, s);
    touch("page 4, wholly past the end", s + 4 * PAGE, s);
    memcpy(s + PAGE, "SHARED", 6);
    char rb[8] = {0};
    pread(fd, rb, 6, PAGE);
    printf("read() after a write through the shared mapping: %s\n", rb);
    pwrite(fd, "PWRITE", 6, 2 * PAGE);
    printf("the shared mapping after pwrite(): %.6s\n", s + 2 * PAGE);
    printf("msync MS_SYNC: %s\n", msync(s, 5 * PAGE, MS_SYNC) == 0 ? "0" : en(errno));

    /* A private mapping copies on write; the file and the shared mapping do not change. */
    char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    printf("mmap private: %s\n", p == MAP_FAILED ? en(errno) : "ok");
    printf("private reads page 1: %.6s\n", p + PAGE);
    memcpy(p + PAGE, "PRIVAT", 6);
    printf("private after its write: %.6s, shared still: %.6s\n", p + PAGE, s + PAGE);
    memcpy(s + 3 * PAGE, "LATER", 5);
    printf("private sees a later shared write to a page it never wrote: %.5s\n", p + 3 * PAGE);

    /* Truncate to one page: both mappings lose the rest, COW copy included (SIGBUS). */
    printf("ftruncate to 1 page: %s\n", ftruncate(fd, PAGE) == 0 ? "0" : en(errno));
    stat_fd("after truncate", fd);
    touch("shared page 0", s, s);
    touch("shared page 1 after truncate", s + PAGE, s);
    touch("private page 1 (a COW copy) after truncate", p + PAGE, p);
    touch("private page 2 after truncate", p + 2 * PAGE, p);
    printf("ftruncate to 3 pages: %s\n", ftruncate(fd, 3 * PAGE) == 0 ? "0" : en(errno));
    touch("shared page 1 after growing again (zeros)", s + PAGE, s);
    touch_write("shared page 2 written after growing", s + 2 * PAGE, s);
    stat_fd("after growing", fd);
    pread(fd, rb, 1, 2 * PAGE);
    printf("read() of page 2: %c\n", rb[0]);
    residency("shared after truncate and growth", s, 5);
    munmap(p, 4 * PAGE);

    /* Access checks. */
    int ro = open(path, O_RDONLY);
    char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
    printf("shared writable map of an O_RDONLY fd: %s\n", m == MAP_FAILED ? en(errno) : "ok");
    m = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, 0);
    printf("shared read-only map of an O_RDONLY fd: %s\n", m == MAP_FAILED ? en(errno) : "ok");
    if (m != MAP_FAILED) {
        printf("mprotect it writable: %s\n", sys_mprotect(m, PAGE, PROT_READ | PROT_WRITE) == 0 ? "0" : en(errno));
        munmap(m, PAGE);
    }
    m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
    printf("private writable map of an O_RDONLY fd: %s\n", m == MAP_FAILED ? en(errno) : "ok");
    if (m != MAP_FAILED) munmap(m, PAGE);
    int wo = open(path, O_WRONLY);
    m = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, wo, 0);
    printf("map of an O_WRONLY fd: %s\n", m == MAP_FAILED ? en(errno) : "ok");
    printf("ftruncate of an O_RDONLY fd: %s\n", ftruncate(ro, 0) == 0 ? "0" : en(errno));
    printf("ftruncate to a negative size: %s\n", ftruncate(fd, -1) == 0 ? "0" : en(errno));
    printf("truncate of the running executable: %s\n", truncate("/proc/self/exe", 0) == 0 ? "0" : en(errno));
    printf("truncate of /dev/shm itself: %s\n", truncate("/dev/shm", 0) == 0 ? "0" : en(errno));
    printf("truncate of /proc/self/maps: %s\n", truncate("/proc/self/maps", 0) == 0 ? "0" : en(errno));
    close(ro);
    close(wo);

    /* Unlinked while open and mapped: the mapping and fd keep the file. */
    printf("unlink: %s\n", unlink(path) == 0 ? "0" : en(errno));
    printf("open after unlink: %s\n", open(path, O_RDONLY) >= 0 ? "ok" : en(errno));
    printf("unlink again: %s\n", unlink(path) == 0 ? "0" : en(errno));
    printf("mapping after unlink: %c\n", s[2 * PAGE]);
    munmap(s, 5 * PAGE);
    close(fd);

    /* Shared anonymous memory survives MADV_DONTNEED (it lives in shmem); private does not. */
    char *sa_ = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char *pa_ = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(sa_ + PAGE, "kept");
    strcpy(pa_ + PAGE, "lost");
    sys_madvise(sa_, 2 * PAGE, MADV_DONTNEED);
    sys_madvise(pa_, 2 * PAGE, MADV_DONTNEED);
    printf("after MADV_DONTNEED: shared \"%s\", private \"%s\"\n", sa_ + PAGE, pa_ + PAGE);
    munmap(sa_, 2 * PAGE);
    munmap(pa_, 2 * PAGE);

    /* memfd_create: a shmem file with no name in any directory. */
    int mfd = (int)syscall(SYS_memfd_create, "emu-test", MFD_CLOEXEC);
    printf("memfd_create: %s\n", mfd >= 0 ? "ok" : en(errno));
    if (mfd >= 0) {
        printf("ftruncate memfd: %s\n", ftruncate(mfd, 2 * PAGE) == 0 ? "0" : en(errno));
        char *mm = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
        strcpy(mm + PAGE, "through the memfd mapping");
        pread(mfd, buf, 26, PAGE);
        buf[25] = 0;
        printf("memfd read(): %s\n", buf);
        stat_fd("memfd", mfd);
        printf("fcntl FD_CLOEXEC: %d\n", fcntl(mfd, F_GETFD) & FD_CLOEXEC);
        munmap(mm, 2 * PAGE);
        close(mfd);
    }
    printf("memfd_create with a bad flag: %s\n", syscall(SYS_memfd_create, "x", 0x100) >= 0 ? "ok" : en(errno));

    /* Holes: fallocate(PUNCH_HOLE) and MADV_REMOVE free shmem pages, which then read as zeros. */
    int hfd = (int)syscall(SYS_memfd_create, "holes", 0);
    ftruncate(hfd, 4 * PAGE);
    char *h = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, hfd, 0);
    memset(h, 'x', 4 * PAGE);
    stat_fd("holes, all written", hfd);
    printf("punch [PAGE+100, 2*PAGE+100): %s\n",
           fallocate(hfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PAGE + 100, PAGE) == 0 ? "0" : en(errno));
    printf("bytes around the hole: %d %d %d %d\n", h[PAGE + 99], h[PAGE + 100], h[2 * PAGE + 99], h[2 * PAGE + 100]);
    printf("punch the whole page 1: %s\n",
           fallocate(hfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PAGE, PAGE) == 0 ? "0" : en(errno));
    stat_fd("after punching page 1", hfd);
    printf("MADV_REMOVE of page 3: %s\n", sys_madvise(h + 3 * PAGE, PAGE, MADV_REMOVE) == 0 ? "0" : en(errno));
    printf("page 3 after MADV_REMOVE: %d\n", h[3 * PAGE + 5]);
    stat_fd("after MADV_REMOVE", hfd);
    printf("punch without KEEP_SIZE: %s\n", fallocate(hfd, FALLOC_FL_PUNCH_HOLE, 0, PAGE) == 0 ? "0" : en(errno));
    printf("fallocate 8 pages: %s\n", fallocate(hfd, 0, 0, 8 * PAGE) == 0 ? "0" : en(errno));
    stat_fd("after fallocate", hfd);
    printf("fallocate KEEP_SIZE past the end: %s\n", fallocate(hfd, FALLOC_FL_KEEP_SIZE, 8 * PAGE, PAGE) == 0 ? "0" : en(errno));
    stat_fd("after fallocate KEEP_SIZE", hfd);
    printf("fallocate of length 0: %s\n", fallocate(hfd, 0, 0, 0) == 0 ? "0" : en(errno));
    munmap(h, 4 * PAGE);
    char *pr = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, hfd, 0);
    printf("MADV_REMOVE on a private file mapping: %s\n", sys_madvise(pr, PAGE, MADV_REMOVE) == 0 ? "0" : en(errno));
    munmap(pr, PAGE);
    char *an = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("MADV_REMOVE on private anonymous memory: %s\n", sys_madvise(an, PAGE, MADV_REMOVE) == 0 ? "0" : en(errno));
    munmap(an, PAGE);
    int pfd[2];
    if (pipe(pfd) == 0) {
        printf("fallocate on a pipe: %s\n", fallocate(pfd[1], 0, 0, PAGE) == 0 ? "0" : en(errno));
        close(pfd[0]);
        close(pfd[1]);
    }
    close(hfd);
    return 0;
}
