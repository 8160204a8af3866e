/* malloc: many malloc/free/realloc of pseudo-random sizes from a fixed-seed
 * LCG. Every block is filled with a pattern and verified before it is freed or
 * after it is resized; prints counts and a checksum of the data seen. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 1024
#define OPS 30000

static uint32_t rng = 12345u;
static uint32_t lcg(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

static unsigned char *ptr[SLOTS];
static size_t len[SLOTS];
static uint32_t tag[SLOTS];

static size_t pick_size(void)
{
    uint32_t r = lcg() % 1000;
    if (r < 700) return lcg() % 256 + 1;          /* small */
    if (r < 950) return lcg() % 4096 + 1;         /* medium */
    if (r < 998) return lcg() % (32 * 1024) + 1;  /* large */
    return lcg() % (1024 * 1024) + 140000;        /* huge: above the mmap threshold */
}

static void fill(unsigned char *p, size_t n, uint32_t t)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(t + i * 7 + (i >> 8));
}

/* Checks the first n bytes; returns the number of wrong bytes. */
static size_t check(const unsigned char *p, size_t n, uint32_t t, uint32_t *sum)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char want = (unsigned char)(t + i * 7 + (i >> 8));
        bad += p[i] != want;
        *sum = (*sum ^ p[i]) * 16777619u;
    }
    return bad;
}

int main(void)
{
    uint32_t sum = 2166136261u;
    unsigned long mallocs = 0, frees = 0, reallocs = 0, nulls = 0, bad = 0;
    unsigned long long bytes = 0;

    for (int op = 0; op < OPS; op++) {
        int s = (int)(lcg() % SLOTS);
        if (!ptr[s]) {
            size_t n = pick_size();
            ptr[s] = malloc(n);
            mallocs++;
            if (!ptr[s]) { nulls++; continue; }
            len[s] = n;
            tag[s] = lcg();
            fill(ptr[s], n, tag[s]);
            bytes += n;
        } else if (lcg() % 3 == 0) {
            size_t n = pick_size();
            unsigned char *q = realloc(ptr[s], n);
            reallocs++;
            if (!q) { nulls++; continue; }
            size_t keep = n < len[s] ? n : len[s];
            bad += check(q, keep, tag[s], &sum);
            ptr[s] = q;
            len[s] = n;
            tag[s] = lcg();
            fill(q, n, tag[s]);
            bytes += n;
        } else {
            bad += check(ptr[s], len[s], tag[s], &sum);
            free(ptr[s]);
            ptr[s] = NULL;
            frees++;
        }
    }
    /* calloc must return zeroed memory even when it reuses freed blocks. */
    unsigned long callocs_nonzero = 0;
    for (int i = 0; i < 200; i++) {
        size_t n = pick_size();
        unsigned char *c = calloc(n, 1);
        if (!c) { nulls++; continue; }
        for (size_t k = 0; k < n; k++)
            callocs_nonzero += c[k] != 0;
        free(c);
    }
    for (int s = 0; s < SLOTS; s++) {
        if (ptr[s]) {
            bad += check(ptr[s], len[s], tag[s], &sum);
            free(ptr[s]);
            frees++;
        }
    }
    printf("malloc %lu, realloc %lu, free %lu, null %lu\n", mallocs, reallocs, frees, nulls);
    printf("bytes filled %llu, verify errors %lu, calloc nonzero %lu\n", bytes, bad, callocs_nonzero);
    printf("checksum %08x\n", (unsigned)sum);
    return bad || nulls || callocs_nonzero ? 1 : 0;
}
