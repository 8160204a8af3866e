/* /proc/config.gz: a read-only regular file holding one gzip member as the kernel's build
 * makes it (gzip -n -9: deflate, no flags, mtime 0, maximum compression, Unix), with the
 * 8-byte trailer whose size field is that of a non-empty text. The text itself differs
 * (emu's describes emu), so only its form is compared. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
    struct stat st;
    if (stat("/proc/config.gz", &st) != 0) {
        printf("no /proc/config.gz\n");
        return 0;
    }
    printf("regular: %s, mode %o\n", S_ISREG(st.st_mode) ? "yes" : "no", (unsigned)(st.st_mode & 07777));
    int fd = open("/proc/config.gz", O_RDONLY);
    size_t cap = 1 << 20, len = 0;
    unsigned char *buf = malloc(cap);
    for (ssize_t n; (n = read(fd, buf + len, cap - len)) > 0;) {
        len += (size_t)n;
        if (len == cap) buf = realloc(buf, cap *= 2);
    }
    close(fd);
    printf("header:");
    for (size_t i = 0; i < 10 && i < len; i++) printf(" %02x", buf[i]);
    printf("\n");
    unsigned isize = len >= 18 ? buf[len - 4] | buf[len - 3] << 8 | buf[len - 2] << 16 | (unsigned)buf[len - 1] << 24 : 0;
    printf("a trailer with a text of over 512 bytes: %s\n", isize > 512 ? "yes" : "no");
    return 0;
}
