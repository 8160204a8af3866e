/* readlink: /proc/self/exe names the program itself (not an emulator); its
 * basename equals the basename of argv[0]. Prints "ok" on success. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

int main(int argc, char **argv)
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n < 0) {
        perror("readlink /proc/self/exe");
        puts("readlink failed");
        return 1;
    }
    buf[n] = '\0';
    if (argc < 1 || strcmp(base(buf), base(argv[0])) != 0) {
        printf("mismatch: exe basename [%s], argv[0] basename [%s]\n", base(buf),
               argc < 1 ? "" : base(argv[0]));
        return 1;
    }
    if (buf[0] != '/') {
        puts("not an absolute path");
        return 1;
    }
    puts("ok");
    return 0;
}
