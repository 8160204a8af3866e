/* fallocate_modes DIR: fallocate(2) in every mode on a file of 3 pages in DIR, with the
 * file's size and allocated blocks after each, then the data read back (a punched hole
 * reads as zeros). On tmpfs (/dev/shm natively and under emu) shmem_fallocate allocates
 * (mode 0, KEEP_SIZE) and punches holes (PUNCH_HOLE|KEEP_SIZE); the other modes are
 * EOPNOTSUPP. On ext2, which has no fallocate, every mode is EOPNOTSUPP. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif
#define COLLAPSE 0x08
#define ZERO 0x10
#define INSERT 0x20
#define UNSHARE 0x40

static const char* en(int e) {
    static char buf[32];
    switch (e) {
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EINVAL: return "EINVAL";
    case EFBIG: return "EFBIG";
    case EBADF: return "EBADF";
    case ENOSPC: return "ENOSPC";
    default: snprintf(buf, sizeof buf, "errno %d", e); return buf;
    }
}

static void show(int fd, const char* what, int mode, off_t off, off_t len) {
    int r = fallocate(fd, mode, off, len);
    struct stat st;
    fstat(fd, &st);
    printf("%-34s %-10s size %lld, %lld pages allocated\n", what, r == 0 ? "0" : en(errno), (long long)st.st_size,
           (long long)st.st_blocks * 512 / 4096);
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: fallocate_modes DIR\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%d", argv[1], basename(argv[0]), (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    char page[4096];
    memset(page, 'a', sizeof page);
    for (int i = 0; i < 3; i++)
        if (write(fd, page, sizeof page) != (ssize_t)sizeof page) return 1;
    show(fd, "mode 0 inside", 0, 0, 4096);
    show(fd, "mode 0 past the end", 0, 0, 5 * 4096);
    show(fd, "KEEP_SIZE past the end", FALLOC_FL_KEEP_SIZE, 0, 8 * 4096);
    show(fd, "PUNCH_HOLE|KEEP_SIZE page 1", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096);
    show(fd, "PUNCH_HOLE alone", FALLOC_FL_PUNCH_HOLE, 0, 4096);
    show(fd, "ZERO_RANGE", ZERO, 0, 4096);
    show(fd, "ZERO_RANGE|KEEP_SIZE", ZERO | FALLOC_FL_KEEP_SIZE, 0, 4096);
    show(fd, "COLLAPSE_RANGE", COLLAPSE, 0, 4096);
    show(fd, "INSERT_RANGE", INSERT, 0, 4096);
    show(fd, "UNSHARE_RANGE", UNSHARE, 0, 4096);
    show(fd, "unknown mode 0x80", 0x80, 0, 4096);
    show(fd, "length 0", 0, 0, 0);
    show(fd, "negative offset", 0, -1, 4096);
    for (int i = 0; i < 3; i++) {
        char c[2] = {0, 0};
        pread(fd, c, 1, i * 4096 + 7);
        printf("page %d reads %s\n", i, c[0] == 'a' ? "'a'" : c[0] == 0 ? "zeros" : "something else");
    }
    close(fd);
    unlink(path);
    return 0;
}
