/* stdio_splice: splice, sendfile and copy_file_range with stdin and stdout regular files (as
 * a shell's redirections make them; scripts/oracle-run gives a file as stdin and collects
 * stdout in one), between read(2)s and write(2)s of the same descriptors: each must read
 * and write at the file's own position, which the read(2)s and write(2)s moved.
 *   - splice from a pipe to stdout, and from stdin to a pipe;
 *   - sendfile from stdin to stdout;
 *   - copy_file_range from stdin, and from a temporary file, to stdout (where the two are on
 *     different filesystems it is EXDEV, and the program copies with read and write as cat
 *     does: the output is the same).
 * Ends with stdout's offset as lseek reports it. The outcome of each call goes to stderr,
 * which the oracle does not compare (EXDEV depends on where the files are). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

static void put(const char* s) {
    if (write(1, s, strlen(s)) != (ssize_t)strlen(s)) exit(1);
}

/* n bytes from fd to stdout with read and write. */
static void copy_rw(int fd, size_t n) {
    char buf[64];
    while (n) {
        ssize_t r = read(fd, buf, n < sizeof buf ? n : sizeof buf);
        if (r <= 0 || write(1, buf, (size_t)r) != r) exit(1);
        n -= (size_t)r;
    }
}

/* copy_file_range of n bytes from fd to stdout at both files' positions, or read and
 * write where the kernel refuses the pair (EXDEV, EINVAL for a non-regular stdout). */
static void copy_range(const char* what, int fd, size_t n) {
    ssize_t r = copy_file_range(fd, NULL, 1, NULL, n, 0);
    fprintf(stderr, "%s: copy_file_range %zd (%s)\n", what, r, r < 0 ? strerror(errno) : "ok");
    if (r < 0 && (errno == EXDEV || errno == EINVAL || errno == EBADF)) copy_rw(fd, n);
    else if (r != (ssize_t)n) exit(1);
}

int main(int argc, char** argv) {
    int p[2];
    char buf[64];
    (void)argc;
    put("start\n");
    copy_rw(0, 5); /* stdin's first 5 bytes by read */
    put("|after read\n");

    /* splice: a pipe into stdout, after the write(2)s above. */
    if (pipe(p) < 0 || write(p[1], "from the pipe\n", 14) != 14) return 1;
    ssize_t r = splice(p[0], NULL, 1, NULL, 14, 0);
    fprintf(stderr, "splice pipe -> stdout: %zd\n", r);
    if (r != 14) return 1;
    put("after splice to stdout\n");

    /* splice: stdin into the pipe, after the read(2) above; then out by read and write. */
    r = splice(0, NULL, p[1], NULL, 7, 0);
    fprintf(stderr, "splice stdin -> pipe: %zd\n", r);
    if (r != 7 || read(p[0], buf, 7) != 7 || write(1, buf, 7) != 7) return 1;
    put("|after splice from stdin\n");

    /* sendfile: stdin to stdout, both at their positions. */
    r = sendfile(1, 0, NULL, 6);
    fprintf(stderr, "sendfile stdin -> stdout: %zd\n", r);
    if (r != 6) return 1;
    put("|after sendfile\n");

    /* copy_file_range: from stdin, then from a file of our own, to stdout. */
    copy_range("stdin", 0, 4);
    put("|after copy_file_range from stdin\n");
    char path[256];
    const char* base = strrchr(argv[0], '/');
    snprintf(path, sizeof path, "/tmp/%s.%d", base ? base + 1 : argv[0], (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, "0123456789copied\n", 17) != 17 || lseek(fd, 10, SEEK_SET) != 10) return 1;
    copy_range("tmp file", fd, 7);
    close(fd);
    unlink(path);
    put("after copy_file_range from a file\n");

    /* What is left of stdin's first line, by read: where the calls above left its offset. */
    r = read(0, buf, 10);
    if (r < 0 || write(1, buf, (size_t)r) != r) return 1;
    printf("|\nstdout offset %lld, stdin offset %lld\n", (long long)lseek(1, 0, SEEK_CUR) + 0,
           (long long)lseek(0, 0, SEEK_CUR));
    return 0;
}
