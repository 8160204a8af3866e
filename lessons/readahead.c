/* Lesson: read-ahead. Reads a file nobody has read yet (its i386 twin beside it, else its own
 * file) 4 KiB at a time: the first half in order, then 16 random pages of the last quarter.
 * The sequential reads get a read-ahead window that grows 4, 8, 16, 32 pages, each new window
 * read when the reader reaches the PG_readahead mark of the last; the random reads each read
 * their page alone and leave the window where it was. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The lesson's i386 build beside this one (lesson_readahead.x86_64 -> .i386). */
static int open_twin(const char *self) {
    char path[4096];
    const char *dot = strrchr(self, '.');
    if (!dot || (size_t)(dot - self) + 6 > sizeof path) return -1;
    memcpy(path, self, (size_t)(dot - self));
    strcpy(path + (dot - self), ".i386");
    return open(path, O_RDONLY);
}

int main(int argc, char **argv) {
    (void)argc;
    int fd = open_twin(argv[0]);
    if (fd < 0) fd = open("/proc/self/exe", O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) return 1;
    static char buf[4096];
    const off_t pages = st.st_size / 4096, half = pages / 2, last_quarter = pages - pages / 4;
    unsigned sum = 0;
    for (off_t i = 0; i < half; i++) { /* sequential: read(2) after read(2) */
        if (read(fd, buf, sizeof buf) != (ssize_t)sizeof buf) return 1;
        sum += (unsigned char)buf[0];
    }
    unsigned seed = 12345;
    for (int i = 0; i < 16; i++) { /* random pages of the last quarter */
        seed = seed * 1103515245u + 12345u;
        const off_t page = last_quarter + (off_t)((seed >> 8) % (unsigned)(pages - last_quarter));
        if (pread(fd, buf, sizeof buf, page * 4096) != (ssize_t)sizeof buf) return 1;
        sum += (unsigned char)buf[0];
    }
    printf("read %ld pages in order and 16 at random of a %ld-page file, sum %u\n", (long)half, (long)pages, sum);
    close(fd);
    return 0;
}
