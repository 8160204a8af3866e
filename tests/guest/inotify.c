// inotify on tmpfs (/dev/shm): the events of creating, writing, reading, closing, changing,
// linking, renaming and removing files and directories as a directory's watch and a file's
// watch hear them; watch flags (IN_MASK_ADD, IN_MASK_CREATE, IN_ONLYDIR, IN_DONT_FOLLOW,
// IN_ONESHOT), rm_watch and IN_IGNORED, read's record format and EINVAL, merging, FIONREAD,
// poll and epoll readiness, a blocking read woken by a child, IN_Q_OVERFLOW.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char* what, long r) {
    if (r < 0) printf("%-44s -> -1 %s\n", what, strerror(errno));
    else printf("%-44s -> %ld\n", what, r);
}

static const char* const names[] = {"ACCESS",      "MODIFY",   "ATTRIB",  "CLOSE_WRITE", "CLOSE_NOWRITE",
                                    "OPEN",        "MOVED_FROM", "MOVED_TO", "CREATE",    "DELETE",
                                    "DELETE_SELF", "MOVE_SELF"};

static void print_mask(uint32_t m) {
    for (int i = 0; i < 12; ++i)
        if (m & (1u << i)) printf(" %s", names[i]);
    if (m & IN_UNMOUNT) printf(" UNMOUNT");
    if (m & IN_Q_OVERFLOW) printf(" Q_OVERFLOW");
    if (m & IN_IGNORED) printf(" IGNORED");
    if (m & IN_ISDIR) printf(" ISDIR");
    uint32_t rest = m & ~(0xfffu | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ISDIR);
    if (rest) printf(" 0x%x", rest);
}

static uint32_t last_cookie;

// Reads what is queued (without blocking) and prints each event; cookies as "same as the
// one before" (their values are the kernel's global counter).
static int drain(int fd, const char* what) {
    char buf[8192] __attribute__((aligned(8)));
    int count = 0;
    printf("%s:\n", what);
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 0) != 1) break;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) {
            printf("  read -> %zd %s\n", n, n < 0 ? strerror(errno) : "");
            break;
        }
        for (char* p2 = buf; p2 < buf + n;) {
            struct inotify_event* ev = (struct inotify_event*)p2;
            printf("  wd %d", ev->wd);
            print_mask(ev->mask);
            if (ev->cookie) printf(" cookie %s", ev->cookie == last_cookie ? "=" : "new");
            last_cookie = ev->cookie ? ev->cookie : last_cookie;
            if (ev->len) {
                size_t l = strlen(ev->name);
                int pad_ok = 1;
                for (size_t i = l; i < ev->len; ++i) pad_ok &= ev->name[i] == 0;
                printf(" len %u \"%s\"%s", ev->len, ev->name, pad_ok ? "" : " (bad padding)");
            }
            printf("\n");
            p2 += sizeof *ev + ev->len;
            ++count;
        }
    }
    return count;
}

static char dir[200], file_a[300], file_b[300], sub[300], lnk[300], hard[300];

static void write_file(const char* path, const char* s, int flags) {
    int fd = open(path, O_WRONLY | flags, 0644);
    if (write(fd, s, strlen(s)) < 0) perror("write");
    close(fd);
}

static void events_of_a_directory(int in) {
    int wd = inotify_add_watch(in, dir, IN_ALL_EVENTS);
    show("add_watch dir IN_ALL_EVENTS", wd);
    drain(in, "nothing yet");
    write_file(file_a, "hello", O_CREAT);
    drain(in, "create, write, close");
    int fd = open(file_a, O_RDONLY);
    char b[16];
    if (read(fd, b, sizeof b) < 0) perror("read");
    if (read(fd, b, sizeof b) < 0) perror("read");  // at the end: nothing read, no event
    close(fd);
    drain(in, "open, read, read at end, close");
    chmod(file_a, 0600);
    truncate(file_a, 2);
    drain(in, "chmod, truncate");
    rename(file_a, file_b);
    drain(in, "rename a -> b");
    mkdir(sub, 0755);
    rmdir(sub);
    drain(in, "mkdir, rmdir");
    symlink("b", lnk);
    link(file_b, hard);
    unlink(hard);
    unlink(lnk);
    drain(in, "symlink, link, unlink, unlink");
    fd = open(dir, O_RDONLY | O_DIRECTORY);
    char dents[4096];
    syscall(SYS_getdents64, fd, dents, sizeof dents);
    close(fd);
    drain(in, "opendir, getdents, close");
    write_file(file_b, "x", O_TRUNC);
    drain(in, "open O_TRUNC, write, close");
    show("rm_watch dir", inotify_rm_watch(in, wd));
    show("rm_watch dir again", inotify_rm_watch(in, wd));
    drain(in, "after rm_watch");
}

static void events_of_a_file(int in) {
    int wd = inotify_add_watch(in, file_b, IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE);
    show("add_watch file MODIFY|ATTRIB|CLOSE_WRITE", wd);
    show("add_watch file again, IN_MASK_CREATE", inotify_add_watch(in, file_b, IN_OPEN | IN_MASK_CREATE));
    show("add_watch file, IN_MASK_ADD OPEN", inotify_add_watch(in, file_b, IN_OPEN | IN_MASK_ADD));
    int dwd = inotify_add_watch(in, dir, IN_CREATE | IN_DELETE | IN_MODIFY);
    show("add_watch dir CREATE|DELETE|MODIFY", dwd);
    int fd = open(file_b, O_WRONLY | O_APPEND);
    for (int i = 0; i < 3; ++i)
        if (write(fd, "y", 1) != 1) perror("write");
    close(fd);
    drain(in, "three writes (merged), both watches");
    fd = open(file_b, O_RDONLY);
    unlink(file_b);
    drain(in, "unlink while open");
    close(fd);
    drain(in, "close the last reference");
    show("rm_watch the gone file's wd", inotify_rm_watch(in, wd));
    show("rm_watch dir", inotify_rm_watch(in, dwd));
    drain(in, "after rm_watch dir");
}

static void watch_flags(int in) {
    write_file(file_a, "a", O_CREAT);
    symlink(file_a, lnk);
    show("add_watch mask 0", inotify_add_watch(in, file_a, 0));
    show("add_watch bad bit 0x800000", inotify_add_watch(in, file_a, IN_MODIFY | 0x800000));
    show("add_watch MASK_ADD|MASK_CREATE", inotify_add_watch(in, file_a, IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE));
    show("add_watch bad fd", inotify_add_watch(99, file_a, IN_MODIFY));
    show("add_watch not inotify fd", inotify_add_watch(1, file_a, IN_MODIFY));
    show("add_watch missing path", inotify_add_watch(in, "/dev/shm/no/such", IN_MODIFY));
    show("add_watch IN_ONLYDIR file", inotify_add_watch(in, file_a, IN_MODIFY | IN_ONLYDIR));
    show("add_watch bad path pointer", inotify_add_watch(in, (char*)8, IN_MODIFY));
    int w1 = inotify_add_watch(in, lnk, IN_ATTRIB | IN_DONT_FOLLOW);
    int w2 = inotify_add_watch(in, lnk, IN_ATTRIB);
    show("add_watch link IN_DONT_FOLLOW", w1);
    show("add_watch link (followed) differs", w2 != w1);
    chmod(file_a, 0640);
    drain(in, "chmod the target");
    inotify_rm_watch(in, w1);
    inotify_rm_watch(in, w2);
    drain(in, "rm both");
    int w3 = inotify_add_watch(in, file_a, IN_ATTRIB | IN_ONESHOT);
    show("add_watch IN_ONESHOT (new wd)", w3 > w2);
    chmod(file_a, 0600);
    chmod(file_a, 0644);
    drain(in, "oneshot: one event, then IGNORED");
    show("rm_watch oneshot's wd", inotify_rm_watch(in, w3));
    show("rm_watch -1", inotify_rm_watch(in, -1));
    show("rm_watch bad fd", inotify_rm_watch(99, 1));
    show("rm_watch not inotify fd", inotify_rm_watch(0, 1));
    unlink(lnk);
}

// The watched inode itself removed, moved, or replaced by a rename.
static void self_events(int in) {
    write_file(file_a, "a", O_CREAT);
    int dwd = inotify_add_watch(in, dir, IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO);
    int wd = inotify_add_watch(in, file_a, IN_DELETE_SELF | IN_ATTRIB | IN_MOVE_SELF);
    printf("wds %d %d\n", dwd - dwd, wd - dwd);
    rename(file_a, file_b);
    drain(in, "rename the watched file");
    write_file(file_a, "new", O_CREAT);
    rename(file_a, file_b);
    drain(in, "rename another file over it");
    mkdir(sub, 0755);
    int swd = inotify_add_watch(in, sub, IN_DELETE_SELF | IN_ATTRIB);
    printf("sub wd %d\n", swd - dwd);
    rmdir(sub);
    drain(in, "rmdir a watched directory");
    wd = inotify_add_watch(in, file_b, IN_DELETE_SELF | IN_ATTRIB);
    unlink(file_b);
    drain(in, "unlink a watched file");
    inotify_rm_watch(in, dwd);
    drain(in, "rm");
}

static void reading(int in) {
    int wd = inotify_add_watch(in, dir, IN_CREATE | IN_DELETE);
    close(open(file_b, O_CREAT | O_WRONLY, 0644));
    unlink(file_b);
    int avail = -1;
    show("FIONREAD", ioctl(in, FIONREAD, &avail));
    printf("FIONREAD bytes %d\n", avail);
    struct pollfd p = {in, POLLIN, 0};
    show("poll", poll(&p, 1, 0));
    printf("revents 0x%x\n", p.revents);
    int ep = epoll_create1(0);
    struct epoll_event ee = {.events = EPOLLIN, .data.u32 = 7}, out;
    show("epoll_ctl add", epoll_ctl(ep, EPOLL_CTL_ADD, in, &ee));
    show("epoll_wait", epoll_wait(ep, &out, 1, 0));
    char buf[256] __attribute__((aligned(8)));
    show("read 15 bytes", read(in, buf, 15));
    show("read 16 bytes (record without room for name)", read(in, buf, 16));
    show("read 40 bytes (one record of two)", read(in, buf, 40));
    show("read the other", read(in, buf, sizeof buf));
    show("read empty, O_NONBLOCK", read(in, buf, sizeof buf));
    show("poll empty", poll(&p, 1, 0));
    show("epoll_wait empty", epoll_wait(ep, &out, 1, 0));
    close(ep);
    // A blocking read, woken by a child's create.
    int blk = inotify_init();
    int bwd = inotify_add_watch(blk, dir, IN_CREATE);
    unlink(file_a);
    drain(in, "unlink a");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        usleep(100000);
        close(open(file_a, O_CREAT | O_WRONLY, 0644));
        _exit(0);
    }
    ssize_t n = read(blk, buf, sizeof buf);
    struct inotify_event* ev = (struct inotify_event*)buf;
    printf("blocking read -> %zd wd %d", n, ev->wd - bwd);
    print_mask(ev->mask);
    printf(" \"%s\"\n", ev->name);
    waitpid(pid, NULL, 0);
    close(blk);
    inotify_rm_watch(in, wd);
    drain(in, "rm");
}

static void overflow(int in) {
    int fd = open(file_a, O_RDWR | O_CREAT | O_TRUNC, 0644);
    int wd = inotify_add_watch(in, file_a, IN_MODIFY | IN_ACCESS);
    char c = 'z';
    for (int i = 0; i < 9000; ++i) {  // alternating, so nothing merges
        if (pwrite(fd, &c, 1, 0) != 1) perror("pwrite");
        if (pread(fd, &c, 1, 0) != 1) perror("pread");
    }
    int avail = 0;
    ioctl(in, FIONREAD, &avail);
    printf("queued bytes %d\n", avail);
    static char buf[1 << 16];
    long total = 0, overflows = 0, last_wd = 0;
    uint32_t last_mask = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n <= 0) break;
        for (char* p = buf; p < buf + n;) {
            struct inotify_event* ev = (struct inotify_event*)p;
            ++total;
            if (ev->mask & IN_Q_OVERFLOW) ++overflows;
            last_wd = ev->wd;
            last_mask = ev->mask;
            p += sizeof *ev + ev->len;
        }
    }
    printf("events %ld, overflows %ld, last wd %ld mask", total, overflows, last_wd);
    print_mask(last_mask);
    printf("\n");
    if (pwrite(fd, &c, 1, 0) != 1) perror("pwrite");
    drain(in, "after the overflow was read");
    inotify_rm_watch(in, wd);
    close(fd);
    unlink(file_a);
    drain(in, "rm");
}

int main(int argc, char** argv) {
    const char* base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    (void)argc;
    snprintf(dir, sizeof dir, "/dev/shm/%s.%d", base, getpid());
    snprintf(file_a, sizeof file_a, "%s/a", dir);
    snprintf(file_b, sizeof file_b, "%s/b", dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    snprintf(lnk, sizeof lnk, "%s/lnk", dir);
    snprintf(hard, sizeof hard, "%s/hard", dir);
    mkdir(dir, 0755);
    show("inotify_init1 bad flags", inotify_init1(1));
    int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    show("inotify_init1 NONBLOCK|CLOEXEC", in >= 0);
    show("O_NONBLOCK in F_GETFL", (fcntl(in, F_GETFL) & O_NONBLOCK) != 0);
    show("FD_CLOEXEC", fcntl(in, F_GETFD));
    char link[64], target[64] = {0};
    snprintf(link, sizeof link, "/proc/self/fd/%d", in);
    if (readlink(link, target, sizeof target - 1) < 0) perror("readlink");
    printf("fd link %s\n", target);
    char buf[64];
    show("write to inotify fd", write(in, "x", 1));
    show("lseek inotify fd", lseek(in, 0, SEEK_SET));
    show("pread inotify fd", pread(in, buf, sizeof buf, 0));
    (void)buf;
    events_of_a_directory(in);
    events_of_a_file(in);
    watch_flags(in);
    self_events(in);
    reading(in);
    overflow(in);
    unlink(file_a);
    rmdir(dir);
    FILE* f = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
    int v = 0;
    if (f && fscanf(f, "%d", &v) == 1) printf("max_queued_events %d\n", v);
    if (f) fclose(f);
    f = fopen("/proc/sys/fs/inotify/max_user_instances", "r");
    if (f && fscanf(f, "%d", &v) == 1) printf("max_user_instances %d\n", v);
    if (f) fclose(f);
    f = fopen("/proc/sys/fs/inotify/max_user_watches", "r");
    printf("max_user_watches readable %d\n", f != NULL);
    if (f) fclose(f);
    return 0;
}
