/* filebench PATH [MIB]: writes a MIB-MiB file (default 64) at PATH in 64 KiB writes and
 * fsyncs it, then reads it back in 64 KiB reads (from the page cache: the same process),
 * and prints both phases' seconds and the data's checksum (bench/run-bench --disk). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: filebench PATH [MIB]\n");
        return 2;
    }
    const long chunks = (argc > 2 ? atol(argv[2]) : 64) * 16;
    static unsigned char buf[65536];
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    double t0 = now();
    for (long c = 0; c < chunks; c++) {
        for (size_t i = 0; i < sizeof buf; i += 64) buf[i] = (unsigned char)(c + i / 64);
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
            perror("write");
            return 1;
        }
    }
    if (fsync(fd) < 0) {
        perror("fsync");
        return 1;
    }
    double t1 = now();
    unsigned long sum = 0;
    if (lseek(fd, 0, SEEK_SET) != 0) return 1;
    for (long c = 0; c < chunks; c++) {
        if (read(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
            perror("read");
            return 1;
        }
        for (size_t i = 0; i < sizeof buf; i += 64) sum = sum * 31 + buf[i];
    }
    double t2 = now();
    close(fd);
    unlink(argv[1]);
    fprintf(stderr, "write+fsync %.3f s, read %.3f s\n", t1 - t0, t2 - t1);
    printf("write %.4f read %.4f sum %lu\n", t1 - t0, t2 - t1, sum);
    return 0;
}
