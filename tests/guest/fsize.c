/* RLIMIT_FSIZE as Linux enforces it (generic_write_check_limits, inode_newsize_ok): a write
 * that would cross the limit is cut at it, one that starts at or past it fails with EFBIG
 * and raises SIGXFSZ; truncate, ftruncate and fallocate that would grow a file past it do
 * the same, shrinking is always allowed; FALLOC_FL_KEEP_SIZE is not growing. An ignored
 * SIGXFSZ leaves only EFBIG; by default it kills the process. Files in /tmp. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* This build's name (fifo.x86_64, fifo.i386...): with the pid it keeps the files of runs
 * that share a /tmp apart (the three builds natively, and under emu when it keeps the
 * host's /tmp). */
static const char* program_name_of(const char* path) {
    const char* s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static volatile int xfsz;
static void on_xfsz(int sig) { (void)sig; ++xfsz; }

static void report(const char* what, long r) {
    printf("%-36s %ld %s (SIGXFSZ %d)\n", what, r, r < 0 ? strerror(errno) : "", xfsz);
    errno = 0;
}

static long size_of(int fd) { return lseek(fd, 0, SEEK_END); }

static char name_a[64], name_b[64], name_c[64];

int main(int argc, char** argv) {
    (void)argc;
    static char buf[16384];
    /* Natively the three builds' runs share /tmp: each names its own files. */
    snprintf(name_a, sizeof name_a, "/tmp/%s.%d.a", program_name_of(argv[0]), (int)getpid());
    snprintf(name_b, sizeof name_b, "/tmp/%s.%d.b", program_name_of(argv[0]), (int)getpid());
    snprintf(name_c, sizeof name_c, "/tmp/%s.%d.c", program_name_of(argv[0]), (int)getpid());
    memset(buf, 'z', sizeof buf);
    signal(SIGXFSZ, on_xfsz);
    struct rlimit rl = {10000, RLIM_INFINITY};
    report("setrlimit FSIZE 10000", setrlimit(RLIMIT_FSIZE, &rl));

    int fd = open(name_a, O_CREAT | O_RDWR | O_TRUNC, 0600);
    report("write 8000", write(fd, buf, 8000));
    report("write 4000 (cut at the limit)", write(fd, buf, 4000));
    report("write 1 at the limit", write(fd, buf, 1));
    report("write 0 at the limit", write(fd, buf, 0));
    report("pwrite 10 at 20000", pwrite(fd, buf, 10, 20000));
    report("pwrite 10 at 9995", pwrite(fd, buf, 10, 9995));
    struct iovec iov[3] = {{buf, 1000}, {buf, 1000}, {buf, 1000}};
    report("pwritev 3000 at 8500", pwritev(fd, iov, 3, 8500));
    report("size", size_of(fd));
    report("ftruncate to 20000", ftruncate(fd, 20000));
    report("ftruncate to 10000", ftruncate(fd, 10000));
    report("ftruncate to 5000", ftruncate(fd, 5000));
    report("truncate to 10001", truncate(name_a, 10001));
    report("truncate to 100", truncate(name_a, 100));
    report("fallocate 0..12000", fallocate(fd, 0, 0, 12000));
    report("fallocate KEEP_SIZE 0..12000", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 12000));
    report("fallocate 0..9000", fallocate(fd, 0, 0, 9000));
    report("size", size_of(fd));

    int ap = open(name_a, O_WRONLY | O_APPEND);
    report("append 2000 at 9000", write(ap, buf, 2000));
    report("append 1 at the limit", write(ap, buf, 1));
    close(ap);

    int src = open(name_b, O_CREAT | O_RDWR | O_TRUNC, 0600);
    write(src, buf, 5000);
    lseek(src, 0, SEEK_SET);
    int dst = open(name_c, O_CREAT | O_RDWR | O_TRUNC, 0600);
    lseek(dst, 8000, SEEK_SET);
    report("sendfile 5000 to 8000", sendfile(dst, src, NULL, 5000));
    report("sendfile 5000 at the limit", sendfile(dst, src, NULL, 5000));
    loff_t in = 0, out = 9500;
    report("copy_file_range 5000 to 9500", copy_file_range(src, &in, dst, &out, 5000, 0));
    out = 10000;
    report("copy_file_range at the limit", copy_file_range(src, &in, dst, &out, 10, 0));

    signal(SIGXFSZ, SIG_IGN);
    report("write at the limit, ignored", pwrite(fd, buf, 1, 10000));

    /* The default action kills (without a core: RLIMIT_CORE 0). */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit core = {0, 0};
        setrlimit(RLIMIT_CORE, &core);
        signal(SIGXFSZ, SIG_DFL);
        pwrite(fd, buf, 1, 10000);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    printf("child: signaled %d, signal %d, status %#x\n", WIFSIGNALED(status), WTERMSIG(status), status);

    unlink(name_a);
    unlink(name_b);
    unlink(name_c);
    return 0;
}
