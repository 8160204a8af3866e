/* getppid [N]: N getppid system calls (default 2,000,000), made with syscall() so that no
 * libc caches the answer: the cost of a syscall's round trip through the kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
    long first = syscall(SYS_getppid), same = 0;
    for (unsigned long i = 0; i < n; i++) same += syscall(SYS_getppid) == first;
    printf("getppid %lu: %ld the same\n", n, same);
    return 0;
}
