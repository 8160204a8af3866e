/* filereread PATH: reads the file at PATH twice in 64 KiB reads and prints each pass's
 * bytes and checksum (stdout, equal to the native run's). After each pass it reports
 * /proc/meminfo's Cached and MemTotal on stderr, so bench/run-swap-bench can check that
 * reading a file four times larger than RAM keeps the page cache within RAM (issue 15). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "proc_field.h"

int main(int argc, char **argv)
{
    if (argc < 2) return fprintf(stderr, "usage: filereread PATH\n"), 2;
    static unsigned char buf[65536];
    for (int pass = 1; pass <= 2; pass++) {
        int fd = open(argv[1], O_RDONLY);
        if (fd < 0) return perror("open"), 1;
        uint64_t sum = 0, bytes = 0;
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0) {
            for (ssize_t i = 0; i < n; i += 512) sum = sum * 31 + buf[i];
            bytes += (uint64_t)n;
        }
        if (n < 0) return perror("read"), 1;
        close(fd);
        printf("pass %d: %llu bytes, sum %016llx\n", pass, (unsigned long long)bytes, (unsigned long long)sum);
        fflush(stdout);
        fprintf(stderr, "filereread: pass %d Cached %lld kB MemTotal %lld kB\n", pass, proc_field("/proc/meminfo", "Cached:"),
                proc_field("/proc/meminfo", "MemTotal:"));
    }
    return 0;
}
