/* O_PATH descriptors as Linux treats them (fdget vs fdget_raw, check_fcntl_cmd,
 * build_open_flags): read, write, pread, lseek, ftruncate, fchmod, fchown, fsync, ioctl,
 * mmap, fallocate, flock, getdents and fcntl's other commands are EBADF; fstat, fchdir, dup,
 * F_GETFL (only O_PATH shows), dirfd use, AT_EMPTY_PATH and /proc/self/fd work. Also
 * fchmodat's bits and a FIFO mknod'ed with S_ISGID. Files in /tmp, named per build and pid. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
static void r(const char* w, long v) { printf("%-28s %ld %s\n", w, v, v < 0 ? strerror(errno) : ""); errno = 0; }
static const char* program_name_of(const char* path) {
    const char* s = strrchr(path, '/');
    return s ? s + 1 : path;
}
int main(int argc, char** argv) {
    (void)argc;
    char name[64], lnk[80], sg[80];
    snprintf(name, sizeof name, "/tmp/%s.%d", program_name_of(argv[0]), getpid());
    snprintf(lnk, sizeof lnk, "%s.link", name);
    snprintf(sg, sizeof sg, "%s.sg", name);
    int f = open(name, O_CREAT | O_RDWR, 0644); write(f, "abcdef", 6); close(f);
    int p = open(name, O_PATH);
    char b[8]; struct stat st;
    r("read", read(p, b, 4)); r("write", write(p, "x", 1)); r("pread", pread(p, b, 4, 0));
    r("lseek", lseek(p, 0, SEEK_END)); r("fstat", fstat(p, &st)); r("ftruncate", ftruncate(p, 0));
    r("fchmod", fchmod(p, 0600)); r("fchown", fchown(p, -1, -1)); r("fsync", fsync(p));
    r("ioctl FIONREAD", ioctl(p, FIONREAD, b)); r("mmap", (long)mmap(0, 4096, PROT_READ, MAP_PRIVATE, p, 0));
    r("dup", dup(p) >= 0); r("F_GETFL", fcntl(p, F_GETFL)); r("F_SETFL", fcntl(p, F_SETFL, O_NONBLOCK));
    r("F_GETFL after", fcntl(p, F_GETFL));
    r("fallocate", fallocate(p, 0, 0, 10)); r("fdatasync", fdatasync(p));
    r("fchdir file", fchdir(p)); r("flock", flock(p, LOCK_SH | LOCK_NB));
    struct flock fl = {F_RDLCK, SEEK_SET, 0, 0, 0}; r("F_SETLK", fcntl(p, F_SETLK, &fl));
    int d = open("/tmp", O_PATH | O_DIRECTORY);
    r("getdents64 dir", syscall(SYS_getdents64, d, b, 8)); r("fchdir dir", fchdir(d)); chdir("/");
    r("openat via O_PATH dir", openat(d, name + 5, O_RDONLY) >= 0);
    r("fstatat AT_EMPTY_PATH", fstatat(p, "", &st, AT_EMPTY_PATH)); r("  size", st.st_size);
    char link[64], tgt[128] = {0}; snprintf(link, sizeof link, "/proc/self/fd/%d", p);
    r("readlink fd", readlink(link, tgt, sizeof tgt) > 0 && !strcmp(tgt, name));
    r("open /proc/self/fd/N rdonly", open(link, O_RDONLY) >= 0);
    r("linkat AT_EMPTY_PATH", linkat(p, "", AT_FDCWD, lnk, AT_EMPTY_PATH)); unlink(lnk);
    r("fchmodat", fchmodat(AT_FDCWD, name, 07777, 0)); stat(name, &st); r("  mode", st.st_mode & 07777);
    r("mknod S_ISGID|S_IXGRP", mknod(sg, S_IFIFO | 02070, 0)); stat(sg, &st); r("  mode", st.st_mode & 07777); unlink(sg);
    unlink(name);
    return 0;
}
