/* exec: execve of #! scripts (with an interpreter argument, and nested), and the errno of
 * failing execs: a missing file, a file without execute permission, a directory, garbage
 * bytes, an over-long argument list; the caller goes on after each. Files live in /tmp. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static void make(const char *name, const char *text, int mode)
{
    char path[128];
    snprintf(path, sizeof path, "%s%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    write(fd, text, strlen(text));
    close(fd);
}

static void run(const char *what, const char *name, char **argv)
{
    char path[128];
    snprintf(path, sizeof path, "%s%s", name[0] == '/' ? "" : dir, name);
    pid_t pid = fork();
    if (pid == 0) {
        char *envp[] = {"EMU_EXEC_TEST=1", NULL};
        execve(path, argv, envp);
        printf("%s: exec failed: %s\n", what, strerror(errno));
        fflush(stdout);
        _exit(100);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("%s: status %d\n", what, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

int main(int argc, char **argv)
{
    (void)argc;
    setvbuf(stdout, NULL, _IONBF, 0);
    /* A directory of its own (parallel runs, natively and under emu, share the host's /tmp
     * when emu runs from inside it); names end in "-NAME" as the scripts expect. */
    char base[] = "/tmp/emu-exec-XXXXXX";
    if (!mkdtemp(base)) return 1;
    snprintf(dir, sizeof dir, "%s/e-", base);
    make("script", "#!/bin/busybox sh\necho \"script says ${1##*-} $EMU_EXEC_TEST\"\nexit 4\n", 0755);
    make("argscript", "#!/bin/busybox  echo   one-arg  \n", 0755);
    char nested_text[256];
    snprintf(nested_text, sizeof nested_text, "#!%sscript\n", dir);
    make("nested", nested_text, 0755);
    make("noexec", "#!/bin/busybox sh\necho never\n", 0644);
    make("garbage", "\x01\x02\x03 this is no program\n", 0755);
    char *a1[] = {"script", "hello", NULL};
    run("script", "script", a1);
    char *a2[] = {"argscript", "x", NULL};
    run("interpreter argument", "argscript", a2);
    run("nested script", "nested", a1);
    run("no execute permission", "noexec", a1);
    run("garbage", "garbage", a1);
    run("missing", "missing", a1);
    run("directory", "/tmp", a1);

    /* An argument list larger than the stack limit allows: E2BIG. */
    size_t n = 64 * 1024;
    char **big = calloc(n + 2, sizeof *big);
    char *s = malloc(4096);
    memset(s, 'a', 4095);
    s[4095] = 0;
    big[0] = "script";
    for (size_t i = 1; i <= n; i++) big[i] = s;
    char path[128];
    snprintf(path, sizeof path, "%sscript", dir);
    execve(path, big, NULL);
    printf("huge argv: %s\n", strerror(errno));

    const char *names[] = {"script", "argscript", "nested", "noexec", "garbage"};
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s%s", dir, names[i]);
        unlink(path);
    }
    rmdir(base);
    (void)argv;
    return 0;
}
