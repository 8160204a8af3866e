/* The gdb fork/vfork/exec tests' program (tests/gdb): work() runs in the parent and in the
 * children, so a breakpoint there must stop only the process gdb follows.
 *   (no argument) fork: the child runs work(2) and in_child(), exits 7; the parent waits.
 *   vfork: the child execs this program with "exec-child" (work(4), exit 5); the parent waits.
 *   exec: the process itself execs this program with "exec-child". */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) int work(int who) {
    __asm__ volatile("" : : "r"(who) : "memory");
    return who * 2;
}

__attribute__((noinline)) void in_child(void) { __asm__ volatile("" : : : "memory"); }

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IONBF, 0);  // nothing buffered is copied into a child
    const char* mode = argc > 1 ? argv[1] : "fork";
    if (!strcmp(mode, "exec-child")) {
        printf("exec child: work=%d\n", work(4));
        return 5;
    }
    printf("parent: work=%d\n", work(1));
    if (!strcmp(mode, "exec")) {
        execl(argv[0], argv[0], "exec-child", (char*)NULL);
        return 99;
    }
    const int vforked = !strcmp(mode, "vfork");
    pid_t pid = vforked ? vfork() : fork();
    if (pid < 0) return 98;
    if (pid == 0) {
        if (vforked) {
            execl(argv[0], argv[0], "exec-child", (char*)NULL);
            _exit(99);
        }
        printf("child: work=%d\n", work(2));
        in_child();
        _exit(7);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return 97;
    printf("parent: child exited %d\n", WEXITSTATUS(status));
    printf("parent: work=%d\n", work(3));
    return 0;
}
