/* execveat: a path relative to a directory fd, AT_EMPTY_PATH on an O_PATH fd and on an
 * O_CLOEXEC fd, an absolute path that ignores the fd, AT_SYMLINK_NOFOLLOW on a link, the
 * errors (EINVAL flags, ENOTDIR, EBADF, ENOENT, EACCES for a directory, ELOOP), and a #!
 * script named "/dev/fd/N[/name]" (ENOENT when the fd is close-on-exec). The new program
 * reports its arguments, AT_EXECFN and /proc/self/comm. Files live in a mkdtemp directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

static char self[4096];

static int sys_execveat(int dfd, const char *path, char **argv, char **envp, int flags)
{
    return (int)syscall(SYS_execveat, dfd, path, argv, envp, flags);
}

/* The path the program runs from and the temporary directory's name say nothing. */
static const char *shown(const char *s)
{
    static char buf[4200];
    if (strcmp(s, self) == 0) return "SELF";
    if (strncmp(s, "/tmp/execveat-", 14) == 0 && strlen(s) >= 20) {
        snprintf(buf, sizeof buf, "TMP%s", s + 20);
        return buf;
    }
    return s;
}

static int child(int argc, char **argv)
{
    char comm[64] = "";
    int fd = open("/proc/self/comm", O_RDONLY);
    ssize_t n = read(fd, comm, sizeof comm - 1);
    if (n > 0) comm[n - 1] = 0;
    close(fd);
    printf("  child:");
    for (int i = 1; i < argc; i++) printf(" [%s]", shown(argv[i]));
    printf(" execfn=%s comm=%s\n", shown((const char *)getauxval(AT_EXECFN)), comm);
    return 7;
}

/* Runs one execveat in a child; the parent prints its status or the child its errno. */
static void run(const char *what, int dfd, const char *path, int flags)
{
    printf("%s:\n", what);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"argv0", "one", NULL};
        char *envp[] = {"EXECVEAT_CHILD=1", NULL};
        sys_execveat(dfd, path, argv, envp, flags);
        printf("  %s\n", strerror(errno));
        fflush(stdout);
        _exit(100);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("  status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* Moves fd to number n, keeping close-on-exec: fd numbers show in "/dev/fd/N", and the
 * test's runner may have left low ones open. */
static int at(int fd, int n)
{
    int cloexec = fcntl(fd, F_GETFD) & FD_CLOEXEC;
    if (dup3(fd, n, cloexec ? O_CLOEXEC : 0) < 0) return -1;
    close(fd);
    return n;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return 1;
    self[n] = 0;
    if (getenv("EXECVEAT_CHILD")) return child(argc, argv);

    char dirbuf[4096], namebuf[4096];
    strcpy(dirbuf, self);
    strcpy(namebuf, self);
    const char *dir = dirname(dirbuf), *name = basename(namebuf);
    char tmp[] = "/tmp/execveat-XXXXXX";
    if (!mkdtemp(tmp)) return 1;
    char path[4200];

    int dirfd = at(open(dir, O_RDONLY | O_DIRECTORY), 20);
    run("relative to a directory fd", dirfd, name, 0);
    int opath = at(open(self, O_PATH), 21);
    run("AT_EMPTY_PATH on an O_PATH fd", opath, "", AT_EMPTY_PATH);
    int cloexec = at(open(self, O_RDONLY | O_CLOEXEC), 22);
    run("AT_EMPTY_PATH on an O_CLOEXEC fd", cloexec, "", AT_EMPTY_PATH);
    run("absolute path, bad fd", 9999, self, 0);
    run("AT_EMPTY_PATH with a name", dirfd, name, AT_EMPTY_PATH);

    run("unknown flag", dirfd, name, 0x1);
    run("AT_EMPTY_PATH and an unknown flag", opath, "", AT_EMPTY_PATH | 0x2);
    run("empty path without AT_EMPTY_PATH", opath, "", 0);
    run("relative to a file fd", cloexec, name, 0);
    run("relative to a bad fd", 9999, name, 0);
    run("AT_EMPTY_PATH on a bad fd", -1, "", AT_EMPTY_PATH);
    run("AT_EMPTY_PATH on a directory", dirfd, "", AT_EMPTY_PATH);
    run("AT_EMPTY_PATH on AT_FDCWD", AT_FDCWD, "", AT_EMPTY_PATH);
    run("missing name", dirfd, "no-such-program", 0);

    snprintf(path, sizeof path, "%s/link", tmp);
    symlink(self, path);
    int tmpfd = at(open(tmp, O_RDONLY | O_DIRECTORY), 23);
    run("symbolic link", tmpfd, "link", 0);
    run("symbolic link, AT_SYMLINK_NOFOLLOW", tmpfd, "link", AT_SYMLINK_NOFOLLOW);
    int linkfd = at(open(path, O_PATH | O_NOFOLLOW), 24);
    run("AT_EMPTY_PATH on an O_PATH fd of a link", linkfd, "", AT_EMPTY_PATH);

    /* A #! script whose interpreter is this program. */
    snprintf(path, sizeof path, "%s/script", tmp);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    char text[4200];
    snprintf(text, sizeof text, "#!%s\n", self);
    write(fd, text, strlen(text));
    close(fd);
    int script = at(open(path, O_RDONLY), 25);
    run("script by AT_EMPTY_PATH", script, "", AT_EMPTY_PATH);
    run("script relative to a directory fd", tmpfd, "script", 0);
    int script_cloexec = at(open(path, O_RDONLY | O_CLOEXEC), 26);
    run("script by AT_EMPTY_PATH, O_CLOEXEC", script_cloexec, "", AT_EMPTY_PATH);
    int tmpfd_cloexec = at(open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC), 27);
    run("script relative to an O_CLOEXEC directory fd", tmpfd_cloexec, "script", 0);
    run("script by its absolute path, O_CLOEXEC fd", tmpfd_cloexec, path, 0);

    unlink(path);
    snprintf(path, sizeof path, "%s/link", tmp);
    unlink(path);
    rmdir(tmp);
    return 0;
}
