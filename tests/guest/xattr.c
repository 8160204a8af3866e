// Extended attributes on tmpfs (/dev/shm): the twelve calls, XATTR_CREATE/XATTR_REPLACE,
// size-0 queries, ERANGE, E2BIG, the name limits, namespaces and their permission rules
// (trusted.*, user.* on special files and sticky directories), as root and as nobody.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static void show(const char* what, long r) {
    if (r < 0) printf("%-40s -> -1 %s\n", what, strerror(errno));
    else printf("%-40s -> %ld\n", what, r);
}

static int cmp(const void* a, const void* b) { return strcmp(*(char* const*)a, *(char* const*)b); }

// The names of a list, sorted: the order of a listing is the filesystem's own.
static void show_list(const char* what, const char* buf, long n) {
    if (n < 0) {
        show(what, n);
        return;
    }
    const char* names[64];
    int k = 0;
    for (long i = 0; i < n && k < 64; i += (long)strlen(buf + i) + 1) names[k++] = buf + i;
    qsort(names, k, sizeof names[0], cmp);
    printf("%-40s -> %ld:", what, n);
    for (int i = 0; i < k; ++i) printf(" %s", names[i]);
    printf("\n");
}

static void show_value(const char* what, const char* buf, long n) {
    if (n < 0) show(what, n);
    else printf("%-40s -> %ld \"%.*s\"\n", what, n, (int)n, buf);
}

// An address nothing maps (volatile: the compiler must not see through it).
static void* volatile bad_ptr = (void*)8;

static char file[200], dir[256], link_[256], fifo[256], sticky[256];

static void as_root(void) {
    char buf[512];
    long n;
    show("setxattr user.a", setxattr(file, "user.a", "alpha", 5, 0));
    show("setxattr user.a CREATE", setxattr(file, "user.a", "x", 1, XATTR_CREATE));
    show("setxattr user.b REPLACE", setxattr(file, "user.b", "x", 1, XATTR_REPLACE));
    show("setxattr user.b CREATE", setxattr(file, "user.b", "beta", 4, XATTR_CREATE));
    show("setxattr user.a REPLACE", setxattr(file, "user.a", "ALPHA!", 6, XATTR_REPLACE));
    show("setxattr flags 4", setxattr(file, "user.c", "x", 1, 4));
    show("setxattr user.empty size 0", setxattr(file, "user.empty", "", 0, 0));
    show("getxattr user.empty", getxattr(file, "user.empty", buf, sizeof buf));
    show("getxattr user.a size 0", getxattr(file, "user.a", NULL, 0));
    n = getxattr(file, "user.a", buf, sizeof buf);
    show_value("getxattr user.a", buf, n);
    show("getxattr user.a size 3", getxattr(file, "user.a", buf, 3));
    show("getxattr user.missing", getxattr(file, "user.missing", buf, sizeof buf));
    show("setxattr trusted.t", setxattr(file, "trusted.t", "T", 1, 0));
    show("setxattr security.emu", setxattr(file, "security.emu", "S", 1, 0));
    show("setxattr other.x", setxattr(file, "other.x", "x", 1, 0));
    show("getxattr other.x", getxattr(file, "other.x", buf, sizeof buf));
    show("setxattr user.", setxattr(file, "user.", "x", 1, 0));
    show("getxattr user.", getxattr(file, "user.", buf, sizeof buf));
    show("setxattr \"\"", setxattr(file, "", "x", 1, 0));
    char longname[300];
    memset(longname, 'n', sizeof longname);
    memcpy(longname, "user.", 5);
    longname[255] = 0;
    show("setxattr name of 255", setxattr(file, longname, "x", 1, 0));
    show("removexattr name of 255", removexattr(file, longname));
    longname[255] = 'n';
    longname[256] = 0;
    show("setxattr name of 256", setxattr(file, longname, "x", 1, 0));
    show("getxattr name of 256", getxattr(file, longname, buf, sizeof buf));
    static char big[65537];
    show("setxattr size 65537", setxattr(file, "user.big", big, sizeof big, 0));
    show("setxattr bad value", setxattr(file, "user.bad", bad_ptr, 4, 0));
    show("setxattr bad name", setxattr(file, (char*)bad_ptr, "x", 1, 0));
    show("setxattr missing file", setxattr("/dev/shm/no/such", "user.a", "x", 1, 0));
    show("listxattr size 0", listxattr(file, NULL, 0));
    n = listxattr(file, buf, sizeof buf);
    show_list("listxattr", buf, n);
    show("listxattr size 4", listxattr(file, buf, 4));
    show("removexattr user.b", removexattr(file, "user.b"));
    show("removexattr user.b again", removexattr(file, "user.b"));
    show("removexattr other.x", removexattr(file, "other.x"));
    show("removexattr trusted.t", removexattr(file, "trusted.t"));
    n = listxattr(file, buf, sizeof buf);
    show_list("listxattr after removes", buf, n);

    show("setxattr dir user.d", setxattr(dir, "user.d", "D", 1, 0));
    int fd = open(file, O_RDWR);
    show("fsetxattr user.f", fsetxattr(fd, "user.f", "fd", 2, 0));
    n = fgetxattr(fd, "user.f", buf, sizeof buf);
    show_value("fgetxattr user.f", buf, n);
    n = flistxattr(fd, buf, sizeof buf);
    show_list("flistxattr", buf, n);
    show("fremovexattr user.f", fremovexattr(fd, "user.f"));
    show("fgetxattr bad fd", fgetxattr(-1, "user.f", buf, sizeof buf));
    show("fsetxattr bad fd", fsetxattr(99, "user.f", "x", 1, 0));
    show("flistxattr bad fd", flistxattr(99, buf, sizeof buf));
    show("fremovexattr bad fd", fremovexattr(99, "user.f"));
    show("fgetxattr bad fd bad name", fgetxattr(99, (char*)bad_ptr, buf, sizeof buf));
    show("fsetxattr bad fd bad name", fsetxattr(99, (char*)bad_ptr, "x", 1, 0));
    show("fsetxattr bad fd bad flags", fsetxattr(99, "user.f", "x", 1, 8));
    show("fremovexattr bad fd bad name", fremovexattr(99, (char*)bad_ptr));
    chdir(dir);
    n = fgetxattr(AT_FDCWD, "user.d", buf, sizeof buf);  // AT_FDCWD as the fd: the working directory
    show_value("fgetxattr AT_FDCWD user.d", buf, n);
    n = flistxattr(AT_FDCWD, buf, sizeof buf);
    show_list("flistxattr AT_FDCWD", buf, n);
    show("fsetxattr AT_FDCWD user.e", fsetxattr(AT_FDCWD, "user.e", "E", 1, 0));
    show("fremovexattr AT_FDCWD user.e", fremovexattr(AT_FDCWD, "user.e"));
    chdir("/");
    int opath = open(file, O_PATH);
    show("fgetxattr O_PATH fd", fgetxattr(opath, "user.a", buf, sizeof buf));
    close(opath);
    close(fd);
    int st = stat(file, &(struct stat){0});
    (void)st;

    n = listxattr(dir, buf, sizeof buf);
    show_list("listxattr dir", buf, n);
    show("setxattr fifo user.p", setxattr(fifo, "user.p", "P", 1, 0));
    show("getxattr fifo user.p", getxattr(fifo, "user.p", buf, sizeof buf));
    show("setxattr fifo trusted.p", setxattr(fifo, "trusted.p", "P", 1, 0));
    show("getxattr fifo trusted.p", getxattr(fifo, "trusted.p", buf, sizeof buf));
    show("lsetxattr link user.l", lsetxattr(link_, "user.l", "L", 1, 0));
    show("lgetxattr link user.a", lgetxattr(link_, "user.a", buf, sizeof buf));
    n = getxattr(link_, "user.a", buf, sizeof buf);
    show_value("getxattr via link user.a", buf, n);
    show("lsetxattr link trusted.l", lsetxattr(link_, "trusted.l", "L", 1, 0));
    n = llistxattr(link_, buf, sizeof buf);
    show_list("llistxattr link", buf, n);
    show("lremovexattr link trusted.l", lremovexattr(link_, "trusted.l"));
    show("lremovexattr link user.a", lremovexattr(link_, "user.a"));
    n = listxattr(link_, buf, sizeof buf);
    show_list("listxattr via link", buf, n);
    show("getxattr /proc/self/status user.x", getxattr("/proc/self/status", "user.x", buf, sizeof buf));
    show("listxattr /proc/self/status", listxattr("/proc/self/status", buf, sizeof buf));
    show("setxattr sticky dir user.s", setxattr(sticky, "user.s", "S", 1, 0));
    chmod(file, 0640);
}

// As nobody: trusted.* is hidden and refused, a sticky directory of another's is closed
// to user.* writes, and mode bits apply.
static void as_nobody(void) {
    char buf[512];
    long n;
    n = listxattr(file, buf, sizeof buf);
    show_list("nobody: listxattr", buf, n);
    show("nobody: getxattr trusted.t", getxattr(file, "trusted.t", buf, sizeof buf));
    show("nobody: setxattr trusted.t", setxattr(file, "trusted.t", "x", 1, 0));
    show("nobody: setxattr security.x", setxattr(file, "security.x", "x", 1, 0));
    show("nobody: removexattr security.emu", removexattr(file, "security.emu"));
    n = getxattr(file, "security.emu", buf, sizeof buf);
    show_value("nobody: getxattr security.emu", buf, n);
    show("nobody: getxattr user.a (0640)", getxattr(file, "user.a", buf, sizeof buf));
    show("nobody: setxattr user.a (0640)", setxattr(file, "user.a", "x", 1, 0));
    show("nobody: setxattr sticky user.s", setxattr(sticky, "user.s", "x", 1, 0));
    n = getxattr(sticky, "user.s", buf, sizeof buf);
    show_value("nobody: getxattr sticky user.s", buf, n);
}

int main(int argc, char** argv) {
    const char* base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    (void)argc;
    snprintf(file, sizeof file, "/dev/shm/%s.%d", base, getpid());
    snprintf(dir, sizeof dir, "%s.d", file);
    snprintf(link_, sizeof link_, "%s.l", file);
    snprintf(fifo, sizeof fifo, "%s.p", file);
    snprintf(sticky, sizeof sticky, "%s.s", file);
    close(open(file, O_CREAT | O_RDWR, 0644));
    mkdir(dir, 0755);
    symlink(file, link_);
    mkfifo(fifo, 0666);
    mkdir(sticky, 0777);
    chmod(sticky, 01777);
    as_root();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)) _exit(2);
        as_nobody();
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("child status %d\n", WEXITSTATUS(status));
    unlink(file);
    rmdir(dir);
    unlink(link_);
    unlink(fifo);
    rmdir(sticky);
    return 0;
}
