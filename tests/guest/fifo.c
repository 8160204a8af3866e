/* FIFOs and mknod as Linux gives them (fs/namei.c do_mknodat, fs/pipe.c fifo_open), in the
 * directory given as argv[1] (default a new one in /tmp): which types mknod makes and refuses, the
 * umask, a FIFO's open rules (a reader waits for a writer and a writer for a reader;
 * O_NONBLOCK readers open at once and writers get ENXIO; O_RDWR never waits), data through
 * it between two processes, poll's hang-up only after a writer came and went, the buffer
 * dropped when the last opener closes, fstat and /proc/self/fd of a FIFO, and an open
 * interrupted by a signal. Every special file is removed at the end (the ext2 variant
 * compares the tree left with the native one). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

/* This build's name (fifo.x86_64, fifo.i386...): with the pid it keeps the files of runs
 * that share a /tmp apart (the three builds natively, and under emu when it keeps the
 * host's /tmp). */
static const char* program_name_of(const char* path) {
    const char* s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static char dir[512];

static const char* at(const char* name) {
    static char buf[4][600];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

static void report(const char* what, long r) {
    printf("%-40s %ld %s\n", what, r, r < 0 ? strerror(errno) : "");
    errno = 0;
}

static void describe(const char* what, const char* path) {
    struct stat st;
    if (lstat(path, &st) != 0) {
        report(what, -1);
        return;
    }
    const char* type = S_ISFIFO(st.st_mode) ? "fifo" : S_ISREG(st.st_mode) ? "regular" : S_ISSOCK(st.st_mode) ? "socket"
                       : S_ISCHR(st.st_mode) ? "char" : "other";
    printf("%-40s %s %04o size %lld rdev %u:%u\n", what, type, st.st_mode & 07777, (long long)st.st_size,
           major(st.st_rdev), minor(st.st_rdev));
}

static short revents(int fd, short events) {
    struct pollfd p = {fd, events, 0};
    return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

static void on_alarm(int sig) { (void)sig; }

int main(int argc, char** argv) {
    /* Natively the three builds' runs share /tmp: each has its own directory there. */
    if (argc > 1) snprintf(dir, sizeof dir, "%s", argv[1]);
    else snprintf(dir, sizeof dir, "/tmp/%s.%d", program_name_of(argv[0]), (int)getpid());
    mkdir(dir, 0755);
    umask(022);

    /* What mknod makes. */
    report("mkfifo 0666", mkfifo(at("f"), 0666));
    describe("  the fifo", at("f"));
    report("mkfifo over it", mkfifo(at("f"), 0666));
    report("mknod S_IFDIR", mknod(at("d"), S_IFDIR | 0755, 0));
    report("mknod of an unknown type", mknod(at("u"), 0170000 | 0644, 0));
    report("mknod type 0 (a regular file)", mknod(at("r0"), 0640, 0));
    describe("  it", at("r0"));
    report("mknod S_IFREG", mknod(at("r1"), S_IFREG | 0604, 0));
    describe("  it", at("r1"));
    report("mknod S_IFSOCK", mknod(at("s"), S_IFSOCK | 0777, 0));
    describe("  it", at("s"));
    report("mknod in a missing directory", mknod(at("none/f"), S_IFIFO | 0600, 0));
    report("mknodat S_IFIFO|S_ISUID 04777", mknodat(AT_FDCWD, at("g"), S_IFIFO | 04777, 0));
    describe("  it", at("g"));
    long cr = mknod(at("c"), S_IFCHR | 0666, makedev(1, 3));
    report("mknod S_IFCHR 1:3 (root only)", cr);
    if (cr == 0) {
        describe("  it", at("c"));
        int n = open(at("c"), O_RDWR);
        report("  write to it", write(n, "abc", 3));
        char b[4];
        report("  read from it", read(n, b, sizeof b));
        close(n);
        report("mknod S_IFCHR 300:70000", mknod(at("c2"), S_IFCHR | 0600, makedev(300, 70000)));
        describe("  it", at("c2"));
        unlink(at("c2"));
        unlink(at("c"));
    }
    report("open a socket node", open(at("s"), O_RDONLY));

    /* Opening without a partner. */
    report("open O_WRONLY|O_NONBLOCK, no reader", open(at("f"), O_WRONLY | O_NONBLOCK));
    int r = open(at("f"), O_RDONLY | O_NONBLOCK);
    report("open O_RDONLY|O_NONBLOCK", r >= 0 ? 0 : -1);
    report("  poll, no writer yet", revents(r, POLLIN));
    char buf[64] = {0};
    report("  read, no writer yet", read(r, buf, sizeof buf));
    int w = open(at("f"), O_WRONLY | O_NONBLOCK);
    report("open O_WRONLY|O_NONBLOCK, a reader", w >= 0 ? 0 : -1);
    report("  write", write(w, "hello", 5));
    report("  poll the reader", revents(r, POLLIN));
    report("  read", read(r, buf, sizeof buf));
    printf("  got '%s'\n", buf);
    report("  read again (empty, a writer)", read(r, buf, sizeof buf));
    close(w);
    report("  poll after the writer left", revents(r, POLLIN));
    report("  read after the writer left", read(r, buf, sizeof buf));

    /* What fstat, lseek and /proc say of it. */
    struct stat a, b;
    fstat(r, &a);
    stat(at("f"), &b);
    report("fstat is the fifo's inode", S_ISFIFO(a.st_mode) && a.st_ino == b.st_ino && a.st_dev == b.st_dev);
    report("lseek on it", lseek(r, 0, SEEK_SET));
    char link[64], target[600] = {0};
    snprintf(link, sizeof link, "/proc/self/fd/%d", r);
    report("/proc/self/fd names its path", readlink(link, target, sizeof target - 1) > 0 && !strcmp(target, at("f")));
    close(r);

    /* O_RDWR never waits; the data goes with the last close. */
    int rw = open(at("f"), O_RDWR);
    report("open O_RDWR", rw >= 0 ? 0 : -1);
    report("  write", write(rw, "kept?", 5));
    report("  poll it", revents(rw, POLLIN | POLLOUT));
    close(rw);
    rw = open(at("f"), O_RDWR | O_NONBLOCK);
    report("  read after every opener closed", read(rw, buf, sizeof buf));
    close(rw);

    /* Two processes: the reader's open waits for the writer's. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        usleep(100000);
        int cw = open(at("f"), O_WRONLY);
        const char* msg = "from the child";
        write(cw, msg, strlen(msg));
        close(cw);
        _exit(0);
    }
    r = open(at("f"), O_RDONLY);
    report("blocking open O_RDONLY (a child writes)", r >= 0 ? 0 : -1);
    memset(buf, 0, sizeof buf);
    long n = 0, k;
    while ((k = read(r, buf + n, sizeof buf - 1 - n)) > 0) n += k;
    report("  read until EOF", n);
    printf("  got '%s'\n", buf);
    int status;
    waitpid(pid, &status, 0);
    report("  child status", status);
    close(r);

    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        usleep(100000);
        int cr2 = open(at("f"), O_RDONLY);
        memset(buf, 0, sizeof buf);
        read(cr2, buf, sizeof buf);
        printf("  child read '%s'\n", buf);
        fflush(stdout);
        _exit(0);
    }
    w = open(at("f"), O_WRONLY);
    report("blocking open O_WRONLY (a child reads)", w >= 0 ? 0 : -1);
    report("  write", write(w, "to the child", 12));
    close(w);
    waitpid(pid, &status, 0);
    report("  child status", status);

    /* A signal ends a waiting open. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    alarm(1);
    report("open O_RDONLY, no writer, SIGALRM", open(at("f"), O_RDONLY));
    signal(SIGPIPE, SIG_IGN);
    int rw2 = open(at("f"), O_RDWR);
    report("open O_RDWR then write after the alarm", write(rw2, "x", 1));
    close(rw2);

    report("unlink the fifo", unlink(at("f")));
    report("unlink the socket node", unlink(at("s")));
    unlink(at("g"));
    unlink(at("r0"));
    unlink(at("r1"));
    if (argc <= 1) rmdir(dir);
    return 0;
}
