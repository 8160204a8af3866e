/* The guest side of the ELF mutation test (scripts/fuzz-inputs elf): execs PROG in a child
 * of the program's own ABI and ends it after SECONDS by the guest's own timer, so a mutant
 * that runs and loops is not taken for a hang of emu.
 *
 * usage: exec_timeout SECONDS PROG
 *   prints "can't execute 'PROG': ERROR" on stderr when execve fails (what Linux's
 *   binfmt_elf says, as errno), else "status N" or "signal N" of the child on stdout. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child;

static void on_alarm(int sig) {
    (void)sig;
    kill(child, SIGKILL);
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) return 2;
    child = fork();
    if (child < 0) return 2;
    if (child == 0) {
        char *args[] = {argv[2], NULL};
        char *env[] = {NULL};
        execve(argv[2], args, env);
        int e = errno;
        (void)!write(pipefd[1], &e, sizeof e);  /* the parent reports it */
        _exit(127);
    }
    close(pipefd[1]);
    int e = 0;
    if (read(pipefd[0], &e, sizeof e) == sizeof e) {
        waitpid(child, NULL, 0);
        fprintf(stderr, "can't execute '%s': %s\n", argv[2], strerror(e));
        return 126;
    }
    signal(SIGALRM, on_alarm);
    alarm((unsigned)atoi(argv[1]));
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    if (WIFSIGNALED(status)) printf("signal %d\n", WTERMSIG(status));
    else printf("status %d\n", WEXITSTATUS(status));
    return 0;
}
