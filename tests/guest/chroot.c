/* chroot as Linux does it (fs/open.c, fs/namei.c follow_dotdot, fs/d_path.c): its errors,
 * a jail in which "/" and ".." stop at the new root and getcwd is relative to it, the
 * classic escape of a working directory left outside a nested root ("(unreachable)" from
 * getcwd, then ".." up to the real root), and a child that inherits the root. Needs
 * CAP_SYS_CHROOT: without it every chroot is EPERM, natively and under emu alike. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* This build's name (fifo.x86_64, fifo.i386...): with the pid it keeps the files of runs
 * that share a /tmp apart (the three builds natively, and under emu when it keeps the
 * host's /tmp). */
static const char* program_name_of(const char* path) {
    const char* s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static char base[128];

static void report(const char* what, long r) {
    printf("%-40s %ld %s\n", what, r, r < 0 ? strerror(errno) : "");
    errno = 0;
}

/* The kernel's getcwd string (glibc's getcwd refuses "(unreachable)" ones). */
static const char* raw_cwd(void) {
    static char buf[4096];
    long n = syscall(SYS_getcwd, buf, sizeof buf);
    if (n < 0) snprintf(buf, sizeof buf, "error %s", strerror(errno));
    return buf;
}

static void show_file(const char* what, const char* path) {
    char buf[64] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        report(what, -1);
        return;
    }
    long n = read(fd, buf, sizeof buf - 1);
    close(fd);
    printf("%-40s %ld '%s'\n", what, n, buf);
}

static int jailed(void) {
    if (chdir("jail") != 0 || chroot(".") != 0) {
        report("chroot into the jail", -1);
        return 1;
    }
    printf("getcwd in the jail                       %s\n", raw_cwd());
    show_file("open /hello", "/hello");
    struct stat root, up;
    stat("/", &root);
    stat("/..", &up);
    report("/.. is /", root.st_ino == up.st_ino && root.st_dev == up.st_dev);
    report("chdir /sub", chdir("/sub"));
    printf("getcwd                                   %s\n", raw_cwd());
    show_file("open ../../../../hello", "../../../../hello");
    report("stat /tmp (outside the jail)", stat(base, &up));

    pid_t pid = fork();
    if (pid == 0) {
        printf("child's getcwd                           %s\n", raw_cwd());
        show_file("child opens /hello", "/hello");
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);

    /* A nested root with the working directory left above it. */
    report("chdir /", chdir("/"));
    report("chroot sub, cwd outside it", chroot("sub"));
    printf("getcwd starts with (unreachable)         %d\n", !strncmp(raw_cwd(), "(unreachable)", 13));
    show_file("open /inner (the new root's)", "/inner");
    for (int i = 0; i < 20; ++i) chdir("..");
    report("chroot . after 20 x chdir ..", chroot("."));
    char path[256];
    snprintf(path, sizeof path, "%s/jail/hello", base);
    show_file("the jail's file by its real path", path);
    printf("getcwd                                   %s\n", raw_cwd());
    return 0;
}

int main(int argc, char** argv) {
    (void)argc;
    snprintf(base, sizeof base, "/tmp/%s.%d", program_name_of(argv[0]), (int)getpid());
    char p[256];
    mkdir(base, 0755);
    snprintf(p, sizeof p, "%s/jail", base);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/jail/sub", base);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/jail/hello", base);
    int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    write(fd, "hello from the jail", 19);
    close(fd);
    snprintf(p, sizeof p, "%s/jail/sub/inner", base);
    fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    write(fd, "inner", 5);
    close(fd);
    snprintf(p, sizeof p, "%s/jail/hello", base);

    report("chroot a missing directory", chroot("/nonexistent/dir"));
    report("chroot a file", chroot(p));
    report("chroot a bad pointer", syscall(SYS_chroot, (void*)8));
    char longname[5000];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    report("chroot a name past PATH_MAX", chroot(longname));
    snprintf(p, sizeof p, "%s/loop", base);
    symlink("loop", p);
    report("chroot a symlink loop", chroot(p));
    unlink(p);

    chdir(base);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int r = jailed();
        fflush(stdout);
        _exit(r);
    }
    int status;
    waitpid(pid, &status, 0);
    report("jailed child's status", status);
    printf("parent's root still the real one         %d\n", access(base, F_OK) == 0);

    snprintf(p, sizeof p, "%s/jail/sub/inner", base);
    unlink(p);
    snprintf(p, sizeof p, "%s/jail/hello", base);
    unlink(p);
    snprintf(p, sizeof p, "%s/jail/sub", base);
    rmdir(p);
    snprintf(p, sizeof p, "%s/jail", base);
    rmdir(p);
    rmdir(base);
    return 0;
}
