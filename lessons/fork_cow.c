/* Lesson: fork and copy-on-write. The parent fills 1 MiB, forks, and the child writes to every
 * fourth page: each such write is a COW fault that copies the page (wp_page_copy), while the
 * pages nobody writes stay shared by both processes (_mapcount 1: two mappers). After the
 * child exits, the parent's writes find each page mapped once and reuse it (wp_page_reuse):
 * no copy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { PAGE = 4096, PAGES = 256 };

int main(void) {
    char *buf = malloc(PAGES * PAGE);
    if (!buf) return 1;
    memset(buf, 'p', PAGES * PAGE);  /* the parent's pages, one anonymous fault each */
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        for (int i = 0; i < PAGES; i += 4) buf[i * PAGE] = 'c';  /* COW: a copy per page */
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    for (int i = 0; i < PAGES; i += 4) buf[i * PAGE] = 'P';  /* mapped once again: reuse */
    unsigned long sum = 0;
    for (int i = 0; i < PAGES; ++i) sum += (unsigned char)buf[i * PAGE];
    printf("child exited %d, sum %lu\n", WEXITSTATUS(status), sum);
    return 0;
}
