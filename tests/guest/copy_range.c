/* copy_range: copy_file_range and sync_file_range as fs/read_write.c and fs/sync.c check
 * them. copy_file_range: with offset pointers (advanced, the positions kept) or the file
 * positions (advanced), short at the input's end, 0 past it, within one file when the
 * ranges do not overlap; EINVAL for flags, overlapping ranges in one file, a pipe or other
 * non-regular file, negative offsets; EISDIR, EBADF (modes, O_APPEND output), EXDEV
 * across filesystems (tmpfs /dev/shm and /proc), EOVERFLOW for a wrapping range, EFBIG past
 * i386's 2 GiB without O_LARGEFILE, EFAULT for a bad offset pointer.
 * sync_file_range: flags, negative and wrapping ranges (EINVAL), a pipe (ESPIPE), EBADF. */
#include "iosys_common.h"

#include <fcntl.h>

static long cfr(int in, long long *off_in, int out, long long *off_out, size_t len, unsigned flags)
{
    return syscall(SYS_copy_file_range, in, off_in, out, off_out, len, flags);
}

static long sfr(int fd, long long off, long long n, unsigned flags)
{
#ifdef __x86_64__
    return syscall(SYS_sync_file_range, fd, off, n, flags);
#else
    return syscall(SYS_sync_file_range, fd, (long)(uint32_t)off, (long)(uint32_t)((unsigned long long)off >> 32),
                   (long)(uint32_t)n, (long)(uint32_t)((unsigned long long)n >> 32), flags);
#endif
}

int main(void)
{
    static char buf[300000];
    int in = make_file("/dev/shm", 200000);
    int out = make_file("/dev/shm", 0);
    if (in < 0 || out < 0) return 1;

    show("copy 150000 (positions)", cfr(in, NULL, out, NULL, 150000, 0));
    printf("  in at %ld, out at %ld\n", (long)lseek(in, 0, SEEK_CUR), (long)lseek(out, 0, SEEK_CUR));
    show("copy rest, len 1 MiB", cfr(in, NULL, out, NULL, 1 << 20, 0));
    show("copy at the end", cfr(in, NULL, out, NULL, 100, 0));
    long r = pread(out, buf, sizeof buf, 0);
    printf("  out %ld bytes, ok %d\n", r, pattern_ok(buf, 0, r));

    long long oi = 10, oo = 500000;
    show("copy offsets 10 -> 500000, 1000", cfr(in, &oi, out, &oo, 1000, 0));
    printf("  offsets now %lld %lld, in at %ld, out at %ld\n", oi, oo, (long)lseek(in, 0, SEEK_CUR),
           (long)lseek(out, 0, SEEK_CUR));
    struct stat st;
    fstat(out, &st);
    printf("  out size %ld\n", (long)st.st_size);
    oi = 199990;
    show("copy offset 199990, 100", cfr(in, &oi, out, &oo, 100, 0));
    oi = 300000;
    show("copy offset past the end", cfr(in, &oi, out, &oo, 100, 0));
    show("copy len 0", cfr(in, NULL, out, NULL, 0, 0));

    /* Within one file. */
    oi = 0, oo = 4096;
    show("same file, 0 -> 4096, 4096", cfr(in, &oi, in, &oo, 4096, 0));
    oi = 0, oo = 4096;
    show("same file, 0 -> 4096, 4097 (overlap)", cfr(in, &oi, in, &oo, 4097, 0));
    oi = 100, oo = 50;
    show("same file, 100 -> 50, 100 (overlap)", cfr(in, &oi, in, &oo, 100, 0));
    oi = 100, oo = 50;
    show("same file, 100 -> 50, 50", cfr(in, &oi, in, &oo, 50, 0));
    oi = 199000, oo = 0;
    show("same file, 199000 -> 0, 5000 (cut)", cfr(in, &oi, in, &oo, 5000, 0));

    /* Errors. */
    show("flags 1", cfr(in, NULL, out, NULL, 10, 1));
    show("flags 1, bad fd", cfr(999, NULL, out, NULL, 10, 1));
    show("flags 1, bad offset pointer", cfr(in, (long long *)16, out, NULL, 10, 1));
    show("bad in", cfr(999, NULL, out, NULL, 10, 0));
    show("bad out", cfr(in, NULL, 999, NULL, 10, 0));
    show("bad offset pointer", cfr(in, (long long *)16, out, NULL, 10, 0));
    oi = -1;
    show("offset -1", cfr(in, &oi, out, NULL, 10, 0));
    oi = -1;
    show("offset -1, len 0", cfr(in, &oi, out, NULL, 0, 0));
    oo = -10;
    show("out offset -10", cfr(in, NULL, out, &oo, 10, 0));
    oi = 0x7ffffffffffffff0LL;
    show("range wraps", cfr(in, &oi, out, NULL, 100, 0));
    int p[2];
    pipe(p);
    write(p[1], "abc", 3);
    show("from a pipe", cfr(p[0], NULL, out, NULL, 10, 0));
    show("to a pipe", cfr(in, NULL, p[1], NULL, 10, 0));
    int dir = open("/dev/shm", O_RDONLY | O_DIRECTORY);
    show("from a directory", cfr(dir, NULL, out, NULL, 10, 0));
    int ro = open("/dev/zero", O_RDONLY);
    show("from /dev/zero", cfr(ro, NULL, out, NULL, 10, 0));
    int wo = open("/dev/null", O_WRONLY);
    show("in write-only", cfr(wo, NULL, out, NULL, 10, 0));
    int app = make_file("/dev/shm", 0);
    fcntl(app, F_SETFL, O_APPEND);
    lseek(in, 0, SEEK_SET);
    show("to O_APPEND", cfr(in, NULL, app, NULL, 10, 0));
    int proc = open("/proc/self/status", O_RDONLY);
    show("from /proc (another filesystem)", cfr(proc, NULL, out, NULL, 10, 0));
    int inro = open("/proc/self/fd/3", O_RDONLY);
    show("to a read-only fd", cfr(in, NULL, inro, NULL, 10, 0));
    oo = 0x7fffffffLL;
    show("out at 2 GiB - 1", cfr(in, NULL, out, &oo, 10, 0));
    oo = 0x7ffffff0LL;
    show("out at 2 GiB - 16, 100", cfr(in, NULL, out, &oo, 100, 0));
    ftruncate(out, 0);

    /* sync_file_range. */
    show("sync_file_range WRITE", sfr(out, 0, 0, 2));
    show("sync_file_range all flags", sfr(out, 0, 4096, 7));
    show("sync_file_range flags 8", sfr(out, 0, 0, 8));
    show("sync_file_range offset -1", sfr(out, -1, 10, 2));
    show("sync_file_range nbytes -1", sfr(out, 0, -1, 2));
    show("sync_file_range wraps", sfr(out, 0x7ffffffffffffff0LL, 0x100, 2));
    show("sync_file_range pipe", sfr(p[0], 0, 0, 2));
    show("sync_file_range bad fd", sfr(999, 0, 0, 2));
    show("sync_file_range /dev/null", sfr(wo, 0, 0, 2));
    show("sync_file_range dir", sfr(dir, 0, 0, 2));
    show("sync_file_range /proc file", sfr(proc, 0, 0, 2));
    return 0;
}
