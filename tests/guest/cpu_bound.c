/* cpu_bound: a CPU-bound benchmark kernel (integer hashing, a sieve of
 * Eratosthenes and an integer matrix multiply) printing a checksum.
 * Takes roughly 0.5-1 s natively at scale 1; argv[1] is an optional scale
 * factor (a positive integer; the work grows linearly with it). Only integer
 * arithmetic, so results are identical on every build. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t hash_kernel(uint32_t rounds)
{
    uint32_t h = 0x9e3779b9u, acc = 0;
    for (uint32_t i = 0; i < rounds; i++) {
        uint32_t x = i ^ h;
        x ^= x >> 16;
        x *= 0x7feb352du;
        x ^= x >> 15;
        x *= 0x846ca68bu;
        x ^= x >> 16;
        h = (h << 5 | h >> 27) + x;
        acc += x % 1000003u; /* a division in the loop */
    }
    return h ^ acc;
}

static uint32_t sieve_kernel(uint32_t n)
{
    unsigned char *composite = calloc(n + 1, 1);
    if (!composite)
        exit(2);
    uint32_t count = 0, sum = 0;
    for (uint32_t i = 2; i <= n; i++) {
        if (composite[i])
            continue;
        count++;
        sum += i;
        for (uint64_t j = (uint64_t)i * i; j <= n; j += i)
            composite[j] = 1;
    }
    free(composite);
    return count * 31u + sum;
}

#define N 160
static uint32_t A[N][N], B[N][N], C[N][N];

static uint32_t matmul_kernel(uint32_t seed)
{
    uint32_t s = seed;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            s = s * 1664525u + 1013904223u;
            A[i][j] = s >> 20;
            s = s * 1664525u + 1013904223u;
            B[i][j] = s >> 20;
        }
    memset(C, 0, sizeof C);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++) {
            uint32_t a = A[i][k];
            for (int j = 0; j < N; j++)
                C[i][j] += a * B[k][j];
        }
    uint32_t sum = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            sum = sum * 31u + C[i][j];
    return sum;
}

int main(int argc, char **argv)
{
    int scale = argc > 1 ? atoi(argv[1]) : 1;
    if (scale < 1)
        scale = 1;
    uint32_t total = 0;
    for (int r = 0; r < scale; r++) {
        uint32_t h = hash_kernel(100000000u);
        uint32_t s = sieve_kernel(12000000u);
        uint32_t m = 0;
        for (uint32_t k = 0; k < 40; k++)
            m ^= matmul_kernel(k + (uint32_t)r);
        printf("round %d: hash %08x sieve %08x matmul %08x\n", r, (unsigned)h, (unsigned)s,
               (unsigned)m);
        total = total * 16777619u ^ h ^ s ^ m;
    }
    printf("checksum %08x\n", (unsigned)total);
    return 0;
}
