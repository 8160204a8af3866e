/* /proc/PID/io (fs/proc/base.c do_io_accounting): what each read and write syscall adds to
 * rchar/wchar and syscr/syscw as fs/read_write.c counts them (a failed readv/writev counts,
 * a read or write of a bad fd does not), sendfile and copy_file_range, pipes, a thread's I/O
 * in the process's file but not the main thread's, and a reaped child's in its parent's.
 * The files are on /dev/shm (tmpfs natively and under emu), whose pages never count as
 * storage I/O, so read_bytes, write_bytes and cancelled_write_bytes stay 0. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

struct io {
    long long v[7];
};
static const char *names[7] = {"rchar", "wchar", "syscr", "syscw", "read_bytes", "write_bytes", "cancelled_write_bytes"};

/* The counts before this read, and the bytes the read itself took. */
static struct io snap(const char *path, long *len) {
    struct io s = {{0}};
    char buf[4096];
    int fd = open(path, O_RDONLY);
    *len = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[*len > 0 ? *len : 0] = 0;
    char *p = buf;
    for (int i = 0; i < 7; ++i) {
        p = strchr(p, ':');
        if (!p) break;
        s.v[i] = strtoll(p + 1, &p, 10);
    }
    return s;
}

/* What happened between two snapshots, less the first snapshot's own read. */
static struct io delta(struct io a, long a_len, struct io b) {
    struct io d;
    for (int i = 0; i < 7; ++i) d.v[i] = b.v[i] - a.v[i];
    d.v[0] -= a_len;
    d.v[2] -= 1;
    return d;
}

static int file_fd;
static void *thread_main(void *arg) {
    (void)arg;
    char b[77];
    memset(b, 't', sizeof b);
    pwrite(file_fd, b, sizeof b, 5000);
    return NULL;
}

/* Reads the program's own file, so that no page of its code the test runs later comes from
 * the disk (natively a fault on a page the host evicted would add to read_bytes). */
static void warm_own_file(void) {
    static char b[65536];
    int fd = open("/proc/self/exe", O_RDONLY);
    while (fd >= 0 && read(fd, b, sizeof b) > 0) {
    }
    close(fd);
}

int main(void) {
    warm_own_file();
    char path[64], path2[64];
    snprintf(path, sizeof path, "/dev/shm/proc_io.%d", getpid());
    snprintf(path2, sizeof path2, "/dev/shm/proc_io2.%d", getpid());
    struct stat st;
    stat("/proc/self/io", &st);
    const int mode = st.st_mode & 0777;

    long len0, len0t;
    struct io t0 = snap("/proc/thread-self/io", &len0t);
    struct io w0 = snap("/proc/self/io", &len0);
    /* (w0's read happened after t0: the thread-self delta below takes it out too.) */

    static char buf[10000];
    memset(buf, 'x', sizeof buf);
    file_fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    int ro = open(path, O_RDONLY);
    write(file_fd, buf, 1000);
    pwrite(file_fd, buf, 500, 2000);
    struct iovec iov[2] = {{buf, 100}, {buf + 100, 200}};
    writev(file_fd, iov, 2);
    pread(file_fd, buf, 700, 0);
    lseek(file_fd, 0, SEEK_SET);
    read(file_fd, buf, sizeof buf);        /* the whole 2500 bytes */
    read(file_fd, buf, sizeof buf);        /* end of file: 0 bytes, one call */
    preadv(file_fd, iov, 2, 10);           /* 300 */
    read(-1, buf, 10);                     /* EBADF: not counted */
    readv(-1, iov, 2);                     /* EBADF: counted */
    write(ro, buf, 10);                    /* EBADF (read-only): not counted */
    writev(ro, iov, 2);                    /* EBADF: counted */
    int out = open(path2, O_CREAT | O_RDWR | O_TRUNC, 0600);
    off_t off = 0;
    sendfile(out, file_fd, &off, 100);
    loff_t in_off = 0;
    copy_file_range(file_fd, &in_off, out, NULL, 200, 0);
    int p[2];
    pipe(p);
    write(p[1], buf, 50);
    read(p[0], buf, 50);

    pthread_t th;
    pthread_create(&th, NULL, thread_main, NULL);
    pthread_join(th, NULL);

    pid_t child = fork();
    if (child == 0) {
        pread(file_fd, buf, 33, 0);
        pwrite(file_fd, buf, 44, 100);
        _exit(0);
    }
    waitpid(child, NULL, 0);

    long len1, len1t;
    struct io w1 = snap("/proc/self/io", &len1);
    struct io t1 = snap("/proc/thread-self/io", &len1t);
    struct io d = delta(w0, len0, w1);
    struct io dt = delta(t0, len0t, t1);
    dt.v[0] -= len0 + len1;  /* the process snapshots between the thread ones */
    dt.v[2] -= 2;
    printf("/proc/self/io mode %03o\n", mode);
    for (int i = 0; i < 7; ++i) printf("process %s +%lld, main thread +%lld\n", names[i], d.v[i], dt.v[i]);
    close(out);
    close(ro);
    close(file_fd);
    unlink(path);
    unlink(path2);
    return 0;
}
