// workingset: the case mm/workingset.c is for. An older working set (file A, read twice, so
// on the active list) holds part of RAM; then file B, larger than what is left to the
// inactive list but smaller than RAM, is read over and over with read(2). Each pass of B
// would evict B's own pages before the next pass reads them again; refault detection sees
// that they come back within the working set's size, activates them, and B ends up cached.
// Prints each pass's checksum (the native run's must be the same). With a fourth argument
// "vmstat" (emu only: the counters are the whole machine's) it also prints whether refaults
// activated pages and how many pages the last pass had to read back.
//   workingset A_MIB B_MIB PASSES [vmstat]
// The files are ./<argv0 basename>.<pid>.{a,b}, unlinked once open.
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK 65536u

static char buf[CHUNK];

// The value of counter name in /proc/vmstat, or -1.
static long long vmstat(const char* name) {
    FILE* f = fopen("/proc/vmstat", "r");
    char key[64];
    long long v, found = -1;
    while (f && fscanf(f, "%63s %lld", key, &v) == 2)
        if (!strcmp(key, name)) found = v;
    if (f) fclose(f);
    return found;
}

// A new file of mib MiB whose bytes depend on salt, open for reading.
static int make_file(const char* argv0, char tag, unsigned mib, unsigned salt) {
    char path[256];
    snprintf(path, sizeof path, "./%s.%d.%c", argv0, (int)getpid(), tag);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) perror("open"), exit(1);
    unlink(path);
    for (unsigned c = 0; c < mib * (1024 * 1024 / CHUNK); ++c) {
        for (unsigned i = 0; i < CHUNK; i += 64) buf[i] = (char)(c * 131 + i / 64 * 7 + salt);
        if (write(fd, buf, CHUNK) != CHUNK) perror("write"), exit(1);
    }
    return fd;
}

// Reads the whole file; returns a checksum of every 64th byte.
static unsigned long long read_pass(int fd) {
    unsigned long long sum = 0;
    ssize_t n;
    if (lseek(fd, 0, SEEK_SET) < 0) perror("lseek"), exit(1);
    while ((n = read(fd, buf, CHUNK)) > 0)
        for (ssize_t i = 0; i < n; i += 64) sum = (sum ^ (unsigned char)buf[i]) * 1099511628211ull;  // FNV-1a
    if (n < 0) perror("read"), exit(1);
    return sum;
}

int main(int argc, char** argv) {
    if (argc < 4) return fprintf(stderr, "usage: workingset A_MIB B_MIB PASSES [vmstat]\n"), 2;
    const unsigned a_mib = (unsigned)atoi(argv[1]), b_mib = (unsigned)atoi(argv[2]);
    const int passes = atoi(argv[3]);
    const int show = argc > 4 && !strcmp(argv[4], "vmstat");
    char* name = basename(argv[0]);
    const int a = make_file(name, 'a', a_mib, 1);
    printf("A pass 1: %016llx\n", read_pass(a));
    printf("A pass 2: %016llx\n", read_pass(a));
    const int b = make_file(name, 'b', b_mib, 2);
    const long long activate0 = vmstat("workingset_activate_file");
    long long refaults = vmstat("workingset_refault_file"), activations = activate0;
    for (int p = 1; p <= passes; ++p) {
        printf("B pass %d: %016llx\n", p, read_pass(b));
        if (show && getenv("WORKINGSET_TRACE"))
            fprintf(stderr, "pass %d: pgpgin %lld, refaults %lld, activated %lld\n", p, vmstat("pgpgin"), vmstat("workingset_refault_file") - refaults,
                    vmstat("workingset_activate_file") - activations);
        if (p < passes) refaults = vmstat("workingset_refault_file"), activations = vmstat("workingset_activate_file");
    }
    if (show) {
        printf("refaults activated B: %s\n", vmstat("workingset_activate_file") > activate0 ? "yes" : "no");
        printf("last pass refaults: %lld\n", vmstat("workingset_refault_file") - refaults);
    }
    close(a);
    close(b);
    return 0;
}
