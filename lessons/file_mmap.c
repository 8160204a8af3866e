/* Lesson: mmap of a file and the page cache. Maps the program's own file and reads a byte
 * every 8 pages: read-around fills the page cache in batches, fault-around maps the cached
 * neighbours without further faults. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    (void)argc;
    int fd = open("/proc/self/exe", O_RDONLY);
    if (fd < 0) fd = open(argv[0], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) return 1;
    const unsigned char *p = mmap(0, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) return 1;
    unsigned sum = 0;
    for (off_t off = 0; off < st.st_size; off += 8 * 4096) sum += p[off];
    for (off_t off = 0; off < st.st_size; off += 4096) sum += p[off];
    printf("read %ld bytes of %s through the page cache, sum %u\n", (long)st.st_size, argv[0], sum);
    munmap((void *)p, st.st_size);
    close(fd);
    return 0;
}
