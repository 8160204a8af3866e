/* bigwrite: writes 1 MiB with write(2) and 16 x 64 KiB with fwrite to stdout,
 * then a checksum of everything written. All data is printable text. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define MIB (1024 * 1024)
#define CHUNK (64 * 1024)

static char buf[MIB];
static uint32_t sum = 2166136261u; /* FNV-1a over all bytes written */

static void fill(char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (i % 64 == 63) ? '\n' : (char)('A' + (i * 7 + seed) % 26);
}

static void account(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sum = (sum ^ (unsigned char)p[i]) * 16777619u;
}

int main(void)
{
    /* 1 MiB in one write(2) call, handling short writes. */
    fill(buf, MIB, 0);
    account(buf, MIB);
    size_t done = 0;
    int calls = 0;
    while (done < MIB) {
        ssize_t r = write(1, buf + done, MIB - done);
        if (r <= 0) {
            fprintf(stderr, "write failed\n");
            return 1;
        }
        done += (size_t)r;
        calls++;
    }

    /* 16 chunks of 64 KiB through stdio. */
    size_t items = 0;
    for (unsigned c = 0; c < 16; c++) {
        fill(buf, CHUNK, c + 1);
        account(buf, CHUNK);
        items += fwrite(buf, 1, CHUNK, stdout);
    }
    printf("\nwrite: %zu bytes, fwrite: %zu bytes, checksum %08x\n",
           done, items, (unsigned)sum);
    (void)calls; /* short-write count is not deterministic for pipes */
    return fflush(stdout) == 0 ? 0 : 1;
}
