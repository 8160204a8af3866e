/* stdin: reads stdin to EOF with read(2); prints byte count, line count and
 * an FNV-1a checksum. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    static unsigned char buf[3000]; /* odd size: reads end mid-line */
    unsigned long long bytes = 0, lines = 0;
    uint32_t sum = 2166136261u;
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0) {
            perror("read");
            return 1;
        }
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            sum = (sum ^ buf[i]) * 16777619u;
            lines += buf[i] == '\n';
        }
        bytes += (unsigned long long)n;
    }
    printf("bytes %llu, lines %llu, checksum %08x\n", bytes, lines, (unsigned)sum);
    return 0;
}
