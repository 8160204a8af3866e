/* mount and umount2 as Linux does them (fs/namespace.c): tmpfs with options, proc, bind
 * mounts (with MS_REC), MS_REMOUNT of a superblock and MS_REMOUNT|MS_BIND of one mount,
 * MS_RDONLY/MS_NODEV/MS_NOEXEC/MS_NOSUID in effect and in /proc/self/mountinfo and
 * /proc/self/mounts, EBUSY for a mount in use (open file, working directory, submount, a
 * writer when going read-only), MNT_DETACH, MNT_EXPIRE, each call's errno, and EPERM without
 * CAP_SYS_ADMIN. A device node on tmpfs opens the driver of its numbers. Needs root; every
 * mount is under a private directory in /tmp and is unmounted before the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static char base[128];

static const char *ename(int e)
{
    switch (e) {
    case 0: return "0";
    case EACCES: return "EACCES";
    case EAGAIN: return "EAGAIN";
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case ENODEV: return "ENODEV";
    case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR";
    case EPERM: return "EPERM";
    case EROFS: return "EROFS";
    default: return "other";
    }
}

#define SHOW(label, expr)                                                              \
    do {                                                                               \
        errno = 0;                                                                     \
        long r_ = (long)(expr);                                                        \
        printf("%-40s %ld %s\n", label, r_ < 0 ? -1L : r_, ename(r_ < 0 ? errno : 0)); \
    } while (0)

static const char *P(const char *rel)
{
    static char buf[4][256];
    static int n;
    char *b = buf[n++ & 3];
    snprintf(b, 256, "%s/%s", base, rel);
    return b;
}

/* Our mounts in mountinfo: root, mount point (base shown as D), per-mount options, then
 * after the separator the type, source and superblock options (ids and the optional
 * propagation fields differ from host to host). */
static void show_mountinfo(const char *when)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char line[1024];
    printf("mountinfo %s:\n", when);
    while (fgets(line, sizeof line, f)) {
        char root[256], mp[256], opts[256];
        if (sscanf(line, "%*d %*d %*s %255s %255s %255s", root, mp, opts) != 3) continue;
        if (strncmp(mp, base, strlen(base)) != 0) continue;
        const char *sep = strstr(line, " - ");
        printf("  %s D%s %s -%s", root, mp + strlen(base), opts, sep ? sep + 2 : "\n");
    }
    fclose(f);
}

static void show_mounts(void)
{
    FILE *f = fopen("/proc/self/mounts", "r");
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char dev[256], mp[256], rest[512];
        if (sscanf(line, "%255s %255s %511[^\n]", dev, mp, rest) != 3) continue;
        if (strncmp(mp, base, strlen(base)) == 0) printf("mounts: %s D%s %s\n", dev, mp + strlen(base), rest);
    }
    fclose(f);
}

static void tmpfs_basics(void)
{
    SHOW("mount tmpfs size=1m,mode=755", mount("none", P("a"), "tmpfs", 0, "size=1m,mode=0755"));
    show_mountinfo("tmpfs");
    show_mounts();
    struct statfs sf;
    statfs(P("a"), &sf);
    printf("statfs: type %lx blocks %ld\n", (long)sf.f_type, (long)sf.f_blocks);
    struct stat st;
    stat(P("a"), &st);
    printf("root mode %o\n", (unsigned)(st.st_mode & 07777));
    int fd = open(P("a/file"), O_CREAT | O_RDWR, 0644);
    write(fd, "hello", 5);
    SHOW("umount with a file open", umount(P("a")));
    close(fd);
    char cwd[256];
    getcwd(cwd, sizeof cwd);
    chdir(P("a"));
    SHOW("umount from inside", umount(P("a")));
    chdir(cwd);
    mkdir(P("a/sub"), 0755);
    SHOW("mount on top of a subdirectory", mount("inner", P("a/sub"), "tmpfs", MS_NOSUID, NULL));
    SHOW("umount with a submount", umount(P("a")));
    SHOW("umount the submount", umount(P("a/sub")));
    SHOW("umount", umount(P("a")));
    SHOW("file gone with the mount", access(P("a/file"), F_OK));
    SHOW("umount again", umount(P("a")));
}

static void remount(void)
{
    mount("none", P("a"), "tmpfs", MS_NOSUID | MS_NODEV, NULL);
    int w = open(P("a/w"), O_CREAT | O_WRONLY, 0644);
    SHOW("remount ro with a writer", mount(NULL, P("a"), NULL, MS_REMOUNT | MS_RDONLY, NULL));
    close(w);
    SHOW("remount ro", mount(NULL, P("a"), NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID, NULL));
    show_mountinfo("read-only");
    SHOW("create on read-only", open(P("a/x"), O_CREAT | O_WRONLY, 0644));
    SHOW("mkdir on read-only", mkdir(P("a/d"), 0755));
    int r = open(P("a/w"), O_RDONLY);
    SHOW("open for reading", r >= 0);
    close(r);
    SHOW("remount rw", mount(NULL, P("a"), NULL, MS_REMOUNT, NULL));
    show_mountinfo("read-write");
    r = open(P("a/x"), O_CREAT | O_WRONLY, 0644);
    SHOW("create again", r >= 0);
    close(r);
    SHOW("remount of a non-root", mount(NULL, P("a/x"), NULL, MS_REMOUNT, NULL));
    SHOW("make-private", mount(NULL, P("a"), NULL, MS_PRIVATE, NULL));
    SHOW("make-private of a non-root", mount(NULL, P("b"), NULL, MS_PRIVATE, NULL));
    SHOW("umount", umount(P("a")));
}

static void flags_in_effect(void)
{
    mount("none", P("a"), "tmpfs", MS_NODEV | MS_NOEXEC, NULL);
    mount("none", P("b"), "tmpfs", 0, NULL);
    show_mountinfo("nodev,noexec");
    SHOW("mknod /dev/null's numbers (nodev)", mknod(P("a/null"), S_IFCHR | 0666, makedev(1, 3)));
    SHOW("open it (nodev)", open(P("a/null"), O_WRONLY));
    SHOW("mknod /dev/null's numbers", mknod(P("b/null"), S_IFCHR | 0666, makedev(1, 3)));
    SHOW("mknod /dev/zero's numbers", mknod(P("b/zero"), S_IFCHR | 0666, makedev(1, 5)));
    SHOW("mknod a FIFO", mknod(P("b/fifo"), S_IFIFO | 0644, 0));
    SHOW("mknod a socket", mknod(P("b/sock"), S_IFSOCK | 0644, 0));
    int fd = open(P("b/null"), O_RDWR);
    printf("null: write %zd read %zd\n", write(fd, "abc", 3), read(fd, (char[8]){0}, 8));
    close(fd);
    fd = open(P("b/zero"), O_RDONLY);
    char z[4] = {1, 1, 1, 1};
    printf("zero: read %zd bytes %d%d%d%d\n", read(fd, z, 4), z[0], z[1], z[2], z[3]);
    close(fd);
    struct stat st;
    stat(P("b/null"), &st);
    printf("node: chr %d rdev %u:%u\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
    stat(P("b/sock"), &st);
    printf("sock: %d  fifo: ", S_ISSOCK(st.st_mode));
    stat(P("b/fifo"), &st);
    printf("%d\n", S_ISFIFO(st.st_mode));
    const char *script = "#!/nonexistent/interpreter\n";
    for (int i = 0; i < 2; i++) {
        const char *path = P(i ? "b/script" : "a/script");
        fd = open(path, O_CREAT | O_WRONLY, 0755);
        write(fd, script, strlen(script));
        close(fd);
        pid_t pid = fork();
        if (pid == 0) {
            char *argv[] = {(char *)path, NULL};
            execv(path, argv);
            _exit(errno);
        }
        int status;
        waitpid(pid, &status, 0);
        printf("exec on %s: %s\n", i ? "exec mount" : "noexec mount", ename(WEXITSTATUS(status)));
    }
    umount(P("a"));
    umount(P("b"));
}

static void binds(void)
{
    mount("src", P("a"), "tmpfs", 0, NULL);
    mkdir(P("a/sub"), 0755);
    mkdir(P("a/sub/deeper"), 0755);
    int fd = open(P("a/sub/f"), O_CREAT | O_WRONLY, 0644);
    write(fd, "bound", 5);
    close(fd);
    mount("deep", P("a/sub/deeper"), "tmpfs", 0, NULL);
    fd = open(P("a/sub/deeper/g"), O_CREAT | O_WRONLY, 0644);
    close(fd);
    SHOW("bind a/sub on b", mount(P("a/sub"), P("b"), NULL, MS_BIND, NULL));
    SHOW("the file through the bind", access(P("b/f"), F_OK));
    SHOW("no submount without MS_REC", access(P("b/deeper/g"), F_OK));
    show_mountinfo("bind");
    SHOW("bind-remount ro", mount(NULL, P("b"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
    SHOW("write through the ro bind", open(P("b/f"), O_WRONLY));
    SHOW("write through the original", (fd = open(P("a/sub/f"), O_WRONLY)) >= 0);
    close(fd);
    show_mountinfo("bind ro");
    SHOW("umount b", umount(P("b")));
    SHOW("rbind a/sub on b", mount(P("a/sub"), P("b"), NULL, MS_BIND | MS_REC, NULL));
    SHOW("submount with MS_REC", access(P("b/deeper/g"), F_OK));
    show_mountinfo("rbind");
    fd = open(P("b/f"), O_RDONLY);
    SHOW("umount -l with a file open", umount2(P("b"), MNT_DETACH));
    char buf[8] = {0};
    printf("read after detach: %zd '%s'\n", read(fd, buf, sizeof buf - 1), buf);
    close(fd);
    SHOW("b is empty again", access(P("b/f"), F_OK));
    show_mountinfo("detached");
    SHOW("bind a file on a directory", mount(P("a/sub/f"), P("b"), NULL, MS_BIND, NULL));
    SHOW("bind from nowhere", mount(P("nowhere"), P("b"), NULL, MS_BIND, NULL));
    SHOW("umount2 expire", umount2(P("a/sub/deeper"), MNT_EXPIRE));
    SHOW("umount2 expire again", umount2(P("a/sub/deeper"), MNT_EXPIRE));
    SHOW("umount2 expire|detach", umount2(P("a"), MNT_EXPIRE | MNT_DETACH));
    SHOW("umount a", umount(P("a")));
}

static void proc_and_errors(void)
{
    SHOW("mount proc", mount("proc", P("a"), "proc", 0, NULL));
    struct statfs sf;
    statfs(P("a"), &sf);
    printf("proc: type %lx self %d\n", (long)sf.f_type, access(P("a/self/status"), R_OK));
    show_mountinfo("proc");
    SHOW("umount proc", umount(P("a")));
    SHOW("mount an unknown type", mount("x", P("a"), "nosuchfs", 0, NULL));
    SHOW("mount a bad tmpfs option", mount("x", P("a"), "tmpfs", 0, "bogus=1"));
    SHOW("mount a bad tmpfs size", mount("x", P("a"), "tmpfs", 0, "size=lots"));
    SHOW("mount without a type", mount("x", P("a"), NULL, 0, NULL));
    SHOW("mount on a missing directory", mount("x", P("nowhere"), "tmpfs", 0, NULL));
    SHOW("mount with MS_NOUSER", mount("x", P("a"), "tmpfs", 1UL << 31, NULL));
    close(open(P("file"), O_CREAT | O_WRONLY, 0644));
    SHOW("mount a directory on a file", mount("x", P("file"), "tmpfs", 0, NULL));
    SHOW("umount a non-mount", umount(P("a")));
    SHOW("umount2 bad flags", umount2(P("a"), 0x100));
    SHOW("umount a missing path", umount(P("nowhere")));
    mount("x", P("a"), "tmpfs", 0, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setgid(65534);
        setuid(65534);
        errno = 0;
        int m = mount("x", P("b"), "tmpfs", 0, NULL) == -1 ? errno : 0;
        int u = umount(P("a")) == -1 ? errno : 0;
        int n = mount("x", P("nowhere"), "tmpfs", 0, NULL) == -1 ? errno : 0;
        printf("unprivileged: mount %s umount %s missing %s\n", ename(m), ename(u), ename(n));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    SHOW("umount a", umount(P("a")));
}

/* --probe: exit 0 if this host lets the program mount a tmpfs at all, 77 if not (a
 * container without CAP_SYS_ADMIN or with mount filtered), so the oracle can be skipped. */
static int probe(const char *name)
{
    snprintf(base, sizeof base, "/tmp/%s.probe.%d", name, getpid());
    if (mkdir(base, 0700) != 0) return 77;
    const int ok = mount("none", base, "tmpfs", 0, NULL) == 0;
    if (ok) umount(base);
    rmdir(base);
    return ok ? 0 : 77;
}

int main(int argc, char **argv)
{
    const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    if (argc > 1 && strcmp(argv[1], "--probe") == 0) return probe(name);
    snprintf(base, sizeof base, "/tmp/%s.%d", name, getpid());
    setvbuf(stdout, NULL, _IOLBF, 0);
    umask(022);
    mkdir(base, 0755);
    mkdir(P("a"), 0755);
    mkdir(P("b"), 0755);
    tmpfs_basics();
    remount();
    flags_in_effect();
    binds();
    proc_and_errors();
    /* Whatever a failure left mounted goes, then the directory. */
    umount2(P("b"), MNT_DETACH);
    umount2(P("a/sub/deeper"), MNT_DETACH);
    umount2(P("a"), MNT_DETACH);
    unlink(P("file"));
    rmdir(P("a"));
    rmdir(P("b"));
    rmdir(base);
    return 0;
}
