/* eventfd: counter semantics (add, read all, EFD_SEMAPHORE, EAGAIN when empty with
 * EFD_NONBLOCK, EINVAL for short buffers) and a read that sleeps until another process
 * writes. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int fd = eventfd(3, EFD_NONBLOCK);
    uint64_t v = 4;
    write(fd, &v, 8);
    read(fd, &v, 8);
    printf("read all: %llu\n", (unsigned long long)v);
    errno = 0;
    printf("empty read: %d %s\n", (int)read(fd, &v, 8), strerror(errno));
    char small[4];
    errno = 0;
    printf("short read: %d %s\n", (int)read(fd, small, 4), strerror(errno));
    close(fd);

    int sem = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    for (int i = 0; i < 3; i++) {
        errno = 0;
        long r = read(sem, &v, 8);
        printf("semaphore read %d: %ld value %llu %s\n", i, r, r > 0 ? (unsigned long long)v : 0ull, r < 0 ? strerror(errno) : "");
    }
    close(sem);

    int efd = eventfd(0, 0);
    pid_t pid = fork();
    if (pid == 0) {
        usleep(20000);
        uint64_t one = 41;
        write(efd, &one, 8);
        _exit(0);
    }
    read(efd, &v, 8);  /* sleeps until the child writes */
    printf("woken with %llu\n", (unsigned long long)v);
    int st;
    waitpid(pid, &st, 0);
    return 0;
}
