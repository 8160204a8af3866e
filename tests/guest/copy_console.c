/* copy_console: copy_file_range with stdin and stdout regular files (scripts/oracle-run gives
 * a file as stdin and collects stdout in one), and between files on different filesystems:
 * what generic_copy_file_checks answers is printed, so emu must see the host's files where
 * the native program does.
 *   - stdin -> stdout: one filesystem when both host files are on one (EXDEV otherwise);
 *   - stdin -> a file in the working directory, read back: likewise;
 *   - a tmpfs file (/dev/shm) -> stdout, and /proc/self/status -> stdout: EXDEV;
 *   - stdout -> stdout: EBADF (stdout is opened for writing only).
 * Each copy that fails is done with read and write instead, so the bytes are the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put(const char* s) {
    if (write(1, s, strlen(s)) != (ssize_t)strlen(s)) exit(1);
}

static const char* outcome(ssize_t r) {
    static char buf[64];
    if (r >= 0) snprintf(buf, sizeof buf, "%zd bytes", r);
    else snprintf(buf, sizeof buf, "%s", errno == EXDEV ? "EXDEV" : errno == EINVAL ? "EINVAL" : errno == EBADF ? "EBADF" : strerror(errno));
    return buf;
}

/* n bytes from in (at its position) to out with read and write. */
static void copy_rw(int in, int out, size_t n) {
    char buf[64];
    while (n) {
        ssize_t r = read(in, buf, n < sizeof buf ? n : sizeof buf);
        if (r <= 0 || write(out, buf, (size_t)r) != r) exit(1);
        n -= (size_t)r;
    }
}

/* copy_file_range of n bytes from in to out at their positions, reported on stdout first. */
static void copy(const char* what, int in, int out, size_t n) {
    char line[128];
    errno = 0;
    const ssize_t r = copy_file_range(in, NULL, out, NULL, n, 0);
    snprintf(line, sizeof line, "%s: %s\n", what, outcome(r));
    if (out == 1 && r > 0) put("\n");  // the bytes came first
    put(line);
    if (r < 0) copy_rw(in, out, n);
    else if ((size_t)r < n) copy_rw(in, out, n - (size_t)r);
    if (out == 1) put("\n");
}

int main(void) {
    put("start\n");
    copy("stdin -> stdout", 0, 1, 100);

    const char* local = "copy_console.tmp";
    int fd = open(local, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(local);
        return 1;
    }
    copy("stdin -> ./copy_console.tmp", 0, fd, 50);
    char buf[64] = {0};
    if (pread(fd, buf, 50, 0) != 50) return 1;
    put(buf);
    put("\n");
    close(fd);
    unlink(local);

    int shm = open("/dev/shm/copy_console.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (shm < 0 || write(shm, "from tmpfs\n", 11) != 11 || lseek(shm, 0, SEEK_SET) != 0) {
        perror("/dev/shm");
        return 1;
    }
    copy("/dev/shm file -> stdout", shm, 1, 11);
    close(shm);
    unlink("/dev/shm/copy_console.tmp");

    int proc = open("/proc/self/status", O_RDONLY);
    if (proc < 0) return 1;
    errno = 0;
    ssize_t r = copy_file_range(proc, NULL, 1, NULL, 10, 0);
    char line[128];
    snprintf(line, sizeof line, "/proc/self/status -> stdout: %s\n", outcome(r));
    put(line);
    close(proc);

    /* stdout onto itself: not readable, EBADF before any filesystem check. */
    loff_t from = 0, to = 3;
    errno = 0;
    r = copy_file_range(1, &from, 1, &to, 6, 0);
    snprintf(line, sizeof line, "stdout -> stdout: %s\n", outcome(r));
    put(line);
    return 0;
}
