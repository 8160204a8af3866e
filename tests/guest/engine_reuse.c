/* Children that run different code at the same address, one after the other: each must run
 * its own. emu hands the engine of an exited process to the next one (docs/design.md, note
 * 13), so code translated for one child must not answer for the next. The code comes three
 * ways: stores by the child, read(2) into the page (the kernel writes it), and a file mapped
 * at the address whose page (one page-cache frame for every child) is rewritten between
 * children with write(2). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

typedef int (*fn_t)(void);

#define CODE_ADDR ((void *)0x30000000)
#define PAGE 4096

/* mov eax, imm32; ret */
static void emit_return(unsigned char *p, int value) {
    p[0] = 0xb8;
    memcpy(p + 1, &value, 4);
    p[5] = 0xc3;
}

/* The child's code page at CODE_ADDR, holding "return value", made the given way. */
static unsigned char *make_code(int way, int value, const char *path) {
    unsigned char code[8];
    emit_return(code, value);
    if (way == 2) {  /* the shared file: rewritten in place by the parent before the fork */
        int fd = open(path, O_RDONLY);
        void *p = mmap(CODE_ADDR, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fd, 0);
        close(fd);
        return p == MAP_FAILED ? NULL : p;
    }
    unsigned char *p = mmap(CODE_ADDR, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p == MAP_FAILED) return NULL;
    if (way == 0) {
        memcpy(p, code, sizeof code);
    } else {
        int fds[2];
        if (pipe(fds) || write(fds[1], code, sizeof code) != sizeof code || read(fds[0], p, sizeof code) != sizeof code)
            return NULL;
        close(fds[0]);
        close(fds[1]);
    }
    if (mprotect(p, PAGE, PROT_READ | PROT_EXEC)) return NULL;
    return p;
}

int main(int argc, char **argv) {
    (void)argc;
    char path[256];
    snprintf(path, sizeof path, "/tmp/%s.%d", basename(argv[0]), (int)getpid());
    const char *ways[] = {"stores", "read", "file"};
    int failures = 0;
    for (int round = 1; round <= 9; ++round) {
        const int way = round % 3, value = round * 1000 + way;
        if (way == 2) {  /* the same file page each time, new contents */
            unsigned char page[PAGE] = {0};
            emit_return(page, value);
            int fd = open(path, O_RDWR | O_CREAT, 0600);
            if (fd < 0 || pwrite(fd, page, PAGE, 0) != PAGE) return 1;
            close(fd);
        }
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) return 1;
        if (pid == 0) {
            unsigned char *p = make_code(way, value, path);
            if (!p) _exit(2);
            int got = ((fn_t)p)();
            printf("round %d (%s): %d%s\n", round, ways[way], got, got == value ? "" : " (stale code)");
            fflush(stdout);
            _exit(got == value ? 0 : 3);
        }
        int status = 0;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) ++failures;
    }
    unlink(path);
    printf("failures: %d\n", failures);
    return failures != 0;
}
