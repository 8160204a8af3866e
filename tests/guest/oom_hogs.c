// Two memory hogs in one RAM without swap (issue 15's OOM test): the parent forks a small
// hog that holds 8 MiB and waits on a pipe, then grows without bound itself. The OOM killer
// must pick the bigger one (the parent's child that grows), which dies of SIGKILL; the small
// one survives and reports its memory intact. Natively nothing bounds the growing hog, so
// it stops at LIMIT MiB (argv[1]) and kills itself with SIGKILL, as the OOM killer would.
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
    const size_t limit_mib = argc > 1 ? (size_t)atoi(argv[1]) : 1024;
    int go[2], done[2];
    if (pipe(go) || pipe(done)) return 1;
    pid_t small = fork();
    if (small == 0) {  // the small hog: 8 MiB, written, then checked after the big one died
        size_t n = 8u << 20;
        unsigned char* m = malloc(n);
        memset(m, 0x5a, n);
        char c;
        (void)write(done[1], "r", 1);
        (void)read(go[0], &c, 1);
        for (size_t i = 0; i < n; ++i)
            if (m[i] != 0x5a) _exit(2);
        printf("small hog: 8 MiB intact\n");
        fflush(stdout);
        _exit(0);
    }
    char c;
    (void)read(done[0], &c, 1);
    pid_t big = fork();
    if (big == 0) {  // the big hog: 1 MiB at a time, each page written, until killed
        for (size_t mib = 0;; ++mib) {
            if (mib == limit_mib) raise(SIGKILL);  // natively: stop where emu's RAM would
            unsigned char* m = mmap(NULL, 1u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED) _exit(3);
            for (size_t i = 0; i < (1u << 20); i += 4096) m[i] = 1;
        }
    }
    int status = 0;
    waitpid(big, &status, 0);
    printf("big hog: %s %d\n", WIFSIGNALED(status) ? "killed by signal" : "exited", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    (void)write(go[1], "g", 1);
    waitpid(small, &status, 0);
    printf("small hog: exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}
