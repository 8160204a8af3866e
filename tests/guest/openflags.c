/* The open flags F_GETFL reports, as the kernel keeps them: a 64-bit process always opens
 * with O_LARGEFILE (force_o_largefile), memfd_create sets it on both ABIs, pipes never
 * have it, and F_SETFL changes only O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT and O_NOATIME. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

static void show(const char* what, int fd) { printf("%-28s %o\n", what, fcntl(fd, F_GETFL)); }

int main(void) {
    int m = memfd_create("flags", 0);
    show("memfd", m);
    int t = open("/tmp/openflags.tmp", O_CREAT | O_RDWR | O_TRUNC, 0600);
    show("tmpfs O_RDWR", t);
    int w = open("/tmp/openflags.tmp", O_WRONLY | O_APPEND);
    show("tmpfs O_WRONLY|O_APPEND", w);
    fcntl(t, F_SETFL, O_NONBLOCK | O_APPEND | O_CREAT | O_TRUNC);
    show("after F_SETFL", t);
    int p[2];
    if (pipe2(p, O_CLOEXEC) == 0) {
        show("pipe read end", p[0]);
        show("pipe write end", p[1]);
    }
    unlink("/tmp/openflags.tmp");
    return 0;
}
