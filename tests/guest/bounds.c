/* Guest-controlled sizes that Linux bounds (each a finding of a fuzzing campaign that
 * crashed emu or made it allocate gigabytes): huge and negative iovec lengths, too many
 * iovecs, RLIMIT_NOFILE above fs.nr_open, dup2 to a huge fd, a 2 GiB readv from a pipe,
 * paths of PATH_MAX bytes or more, memfd names past their limit. Each prints what the
 * kernel answered; emu must answer the same without growing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

static void report(const char* what, long r) {
    printf("%-34s %ld %s\n", what, r, r < 0 ? strerror(errno) : "");
    errno = 0;
}

int main(void) {
    static char one[] = "x";
#if UINTPTR_MAX > 0xffffffffu /* only a 64-bit length can reach past the user limit */
    struct iovec huge[2] = {{one, 1}, {one, SIZE_MAX / 4}};
    report("writev len beyond user space", writev(1, huge, 2));
#endif
    /* A buffer whose second page is unmapped: the write keeps the first page. */
    char* two = mmap((void*)0x20000000, 8192, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    memset(two, 'q', 8192);
    munmap(two + 4096, 4096);
    int q = open("/tmp/bounds.tmp", O_CREAT | O_RDWR | O_TRUNC, 0600);
    if (q >= 0) {
        struct iovec part[2] = {{one, 1}, {two, 3 * 4096}};
        report("writev up to an unmapped page", writev(q, part, 2));
        report("write up to an unmapped page", write(q, two + 4000, 200));
        report("write from an unmapped page", write(q, two + 4096, 10));
        report("file size", lseek(q, 0, SEEK_END));
        close(q);
        unlink("/tmp/bounds.tmp");
    }
    struct iovec neg[1] = {{one, SIZE_MAX}};
    report("writev negative len", writev(1, neg, 1));
    struct iovec* many = calloc(1025, sizeof *many);
    report("writev 1025 iovecs", writev(1, many, 1025));
    report("writev 1024 empty iovecs", writev(1, many, 1024));

    struct rlimit rl = {0x7ffffff8, 0x7ffffff8};
    report("setrlimit NOFILE 2^31-8", setrlimit(RLIMIT_NOFILE, &rl));
    struct rlimit nr = {1048577, 1048577};
    report("setrlimit NOFILE nr_open+1", setrlimit(RLIMIT_NOFILE, &nr));
    report("dup2 to fd 2^31-16", dup2(1, 0x7ffffff0));

    /* A 2 GiB iovec at a low fixed address (access_ok holds), on a pipe holding 3 bytes. */
    int p[2];
    if (pipe(p) == 0 && write(p[1], "abc", 3) == 3) {
        char* low = mmap((void*)0x10000000, 1 << 16, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        struct iovec big = {low, (size_t)2 << 30};
        report("readv 2 GiB iovec from a pipe", readv(p[0], &big, 1));
        printf("read: %.3s\n", low);
        struct iovec over[2] = {{low, 0x7ffff000}, {low, 0x7ffff000}};
        write(p[1], "defg", 4);
        report("readv iovecs past MAX_RW_COUNT", readv(p[0], over, 2));
    }

    char* path = malloc(5000);
    memset(path, 'a', 4999);
    path[4999] = 0;
    report("open 4999-byte path", open(path, O_RDONLY));
    path[4096] = 0;
    report("open 4096-byte path", open(path, O_RDONLY));
    path[0] = '/';
    for (int i = 1; i < 4096; i += 200) path[i] = '/';
    report("open 4096-byte path, slashes", open(path, O_RDONLY));

    char name[300];
    memset(name, 'm', sizeof name);
    name[249] = 0;
    int fd = memfd_create(name, 0);
    report("memfd_create 249-byte name", fd < 0 ? fd : 0);
    name[249] = 'm';
    name[250] = 0;
    report("memfd_create 250-byte name", memfd_create(name, 0));
    report("memfd_create name in no memory", memfd_create((char*)8, 0));
    return 0;
}
