/* tls: __thread variables (initialised .tdata, zeroed .tbss, an over-aligned
 * one) and errno, which itself lives in TLS. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static __thread int counter = 42;
static __thread char name[32] = "initial";
static __thread long zeroed[16];
static __thread int aligned_var __attribute__((aligned(64))) = 7;
__thread unsigned long long big = 0x1122334455667788ULL;

static void bump(void) { counter += 10; }

int main(void)
{
    printf("counter=%d name=%s big=%llx aligned_var=%d\n", counter, name, big, aligned_var);
    long zsum = 0;
    for (int i = 0; i < 16; i++)
        zsum += zeroed[i];
    printf("tbss zero: %s\n", zsum == 0 ? "yes" : "no");
    printf("aligned_var 64-byte aligned: %s\n",
           ((uintptr_t)&aligned_var & 63) == 0 ? "yes" : "no");

    bump();
    bump();
    strcpy(name, "modified");
    for (int i = 0; i < 16; i++)
        zeroed[i] = i * i;
    big ^= 0xffff;
    aligned_var *= 6;
    zsum = 0;
    for (int i = 0; i < 16; i++)
        zsum += zeroed[i];
    printf("counter=%d name=%s big=%llx aligned_var=%d zsum=%ld\n", counter, name, big,
           aligned_var, zsum);

    errno = 0;
    int rc = close(-1);
    printf("close(-1)=%d errno=%s\n", rc, errno == EBADF ? "EBADF" : "other");
    errno = 0;
    rc = open("/nonexistent/emu-test-file", O_RDONLY);
    printf("open(missing)=%d errno=%s\n", rc, errno == ENOENT ? "ENOENT" : "other");
    errno = 0;
    printf("errno reset: %d\n", errno);
    return 0;
}
