/* The program tests/gdb's info-proc tests debug (built with -g -O0): it reads its own
 * /proc/self/maps into maps_text with read(2) (nothing is mapped after that), then calls
 * maps_read, where gdb stops and compares `info proc mappings`, read through the stub's
 * vFile packets, with that text (tests/gdb/maps_check.py). */
#include <fcntl.h>
#include <unistd.h>

char maps_text[65536];

__attribute__((noinline)) void maps_read(void) { __asm__ volatile(""); }

int main(void) {
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0) return 1;
    long n, len = 0;
    while ((n = read(fd, maps_text + len, sizeof maps_text - 1 - len)) > 0) len += n;
    close(fd);
    maps_read();
    return 0;
}
