/* memfd_seals: memfd_create's seals as mm/memfd.c and shmem enforce them. Without
 * MFD_ALLOW_SEALING a memfd is sealed against sealing; F_SEAL_SHRINK and F_SEAL_GROW stop
 * ftruncate, fallocate and writes past the end; F_SEAL_WRITE is refused (EBUSY) while a
 * shared writable mapping exists, then stops write, hole punching and new shared writable
 * mappings (a shared read-only one cannot be mprotect'ed writable); F_SEAL_FUTURE_WRITE
 * leaves an existing mapping writable; F_SEAL_SEAL ends sealing; MFD_NOEXEC_SEAL and
 * F_SEAL_EXEC; bad flags and files that are not shmem. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

static void show(const char *what, long r)
{
    if (r < 0) printf("%-44s -1 %s\n", what, strerror(errno));
    else printf("%-44s %ld\n", what, r);
    errno = 0;
}

static int memfd(const char *name, unsigned flags) { return (int)syscall(SYS_memfd_create, name, flags); }

int main(void)
{
    char buf[8192];
    memset(buf, 'a', sizeof buf);

    int fd = memfd("plain", 0);
    show("no ALLOW_SEALING: F_GET_SEALS", fcntl(fd, F_GET_SEALS));
    show("no ALLOW_SEALING: F_ADD_SEALS(SHRINK)", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
    close(fd);

    fd = memfd("sealed", MFD_ALLOW_SEALING);
    show("ALLOW_SEALING: F_GET_SEALS", fcntl(fd, F_GET_SEALS));
    show("ftruncate 8192", ftruncate(fd, 8192));
    show("F_ADD_SEALS bad bits", fcntl(fd, F_ADD_SEALS, 0x100));
    show("F_ADD_SEALS(SHRINK)", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
    show("ftruncate 4096 (shrink)", ftruncate(fd, 4096));
    show("ftruncate 12288 (grow)", ftruncate(fd, 12288));
    show("F_ADD_SEALS(GROW)", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
    show("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
    show("ftruncate 16384 (grow)", ftruncate(fd, 16384));
    show("ftruncate 12288 (same)", ftruncate(fd, 12288));
    show("pwrite inside", pwrite(fd, buf, 100, 0));
    show("pwrite across the end", pwrite(fd, buf, 8192, 8192));
    show("pwrite at the end", pwrite(fd, buf, 1, 12288));
    show("fallocate past the end", fallocate(fd, 0, 0, 16384));
    show("fallocate KEEP_SIZE past the end", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 16384));
    show("fallocate inside", fallocate(fd, 0, 0, 4096));

    char *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    show("mmap shared writable", shared == MAP_FAILED ? -1 : 0);
    show("F_ADD_SEALS(WRITE) while mapped", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    mprotect(shared, 4096, PROT_READ);
    show("... after mprotect read-only", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    munmap(shared, 4096);
    show("... after munmap", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    show("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
    show("write", write(fd, buf, 10));
    show("punch a hole", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    show("mmap shared writable", m == MAP_FAILED ? -1 : 0);
    m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    show("mmap shared read-only", m == MAP_FAILED ? -1 : 0);
    show("mprotect it writable", mprotect(m, 4096, PROT_READ | PROT_WRITE));
    char *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    show("mmap private writable", priv == MAP_FAILED ? -1 : 0);
    if (priv != MAP_FAILED) {
        priv[0] = 'z';
        printf("private copy %c, file still %c\n", priv[0], ((char *)m)[0]);
    }
    show("F_ADD_SEALS(SEAL)", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
    show("F_ADD_SEALS(SHRINK) after SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
    show("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
    close(fd);

    fd = memfd("future", MFD_ALLOW_SEALING);
    ftruncate(fd, 4096);
    char *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    show("F_ADD_SEALS(FUTURE_WRITE) while mapped", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
    w[0] = 'q';
    char c = 0;
    pread(fd, &c, 1, 0);
    printf("old mapping still writes: %c\n", c);
    show("write", write(fd, buf, 1));
    m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    show("new mmap shared writable", m == MAP_FAILED ? -1 : 0);
    show("ftruncate 8192", ftruncate(fd, 8192));
    close(fd);

    fd = memfd("noexec", MFD_NOEXEC_SEAL);
    struct stat st;
    fstat(fd, &st);
    printf("MFD_NOEXEC_SEAL: mode %o\n", st.st_mode & 07777);
    show("MFD_NOEXEC_SEAL: F_GET_SEALS", fcntl(fd, F_GET_SEALS));
    show("F_ADD_SEALS(SHRINK)", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
    close(fd);
    fd = memfd("exec", MFD_ALLOW_SEALING | MFD_EXEC);
    fstat(fd, &st);
    printf("MFD_EXEC: mode %o\n", st.st_mode & 07777);
    show("F_ADD_SEALS(EXEC) on an executable memfd", fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC));
    show("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
    close(fd);
    show("memfd_create(EXEC|NOEXEC_SEAL)", memfd("both", MFD_EXEC | MFD_NOEXEC_SEAL));

    int p[2];
    pipe(p);
    show("F_GET_SEALS on a pipe", fcntl(p[0], F_GET_SEALS));
    show("F_ADD_SEALS on a pipe", fcntl(p[1], F_ADD_SEALS, F_SEAL_SHRINK));
#if defined(__x86_64__)
    fd = memfd("wide", MFD_ALLOW_SEALING);
    show("F_ADD_SEALS with upper bits", syscall(SYS_fcntl, fd, F_ADD_SEALS, 0x100000002ul));
#endif
    return 0;
}
