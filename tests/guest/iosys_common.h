/* Shared by the zero-copy and vectored I/O tests (rwv2, sendfile, splice, copy_range):
 * errno names, a result printer, and raw syscalls with the ABI's argument splitting. */
#pragma once
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *err_name(int e)
{
    switch (e) {
    case 0: return "0";
    case EAGAIN: return "EAGAIN";
    case EPIPE: return "EPIPE";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case ESPIPE: return "ESPIPE";
    case EISDIR: return "EISDIR";
    case EXDEV: return "EXDEV";
    case EFBIG: return "EFBIG";
    case EOVERFLOW: return "EOVERFLOW";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case EINTR: return "EINTR";
    case ENOMEM: return "ENOMEM";
    case ETXTBSY: return "ETXTBSY";
    default: return "other";
    }
}

/* Prints a syscall's result: the value, or -1 and the errno's name. */
static void show(const char *what, long r)
{
    if (r < 0) printf("%-44s -1 %s\n", what, err_name(errno));
    else printf("%-44s %ld\n", what, r);
}

/* A file of n bytes (byte i is 'a' + i % 26) in dir, unlinked; its fd. */
static int make_file(const char *dir, long n)
{
    char name[64];
    snprintf(name, sizeof name, "%s/iosys.XXXXXX", dir);
    int fd = mkstemp(name);
    if (fd < 0) return -1;
    unlink(name);
    char buf[4096];
    for (long off = 0; off < n;) {
        long k = n - off < (long)sizeof buf ? n - off : (long)sizeof buf;
        for (long i = 0; i < k; i++) buf[i] = (char)('a' + (off + i) % 26);
        if (write(fd, buf, (size_t)k) != k) return -1;
        off += k;
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

/* Whether the n bytes at buf are what make_file put at offset off. */
static int pattern_ok(const char *buf, long off, long n)
{
    for (long i = 0; i < n; i++)
        if (buf[i] != (char)('a' + (off + i) % 26)) return 0;
    return 1;
}

/* preadv2/pwritev2 with the offset split into two longs as both ABIs take it. */
static long raw_rwv2(long nr, int fd, const void *iov, int cnt, int64_t pos, int flags)
{
#ifdef __x86_64__
    return syscall(nr, fd, iov, cnt, (long)pos, 0L, flags);
#else
    return syscall(nr, fd, iov, cnt, (long)(uint32_t)pos, (long)(uint32_t)((uint64_t)pos >> 32), flags);
#endif
}
