/* proc_field(PATH, KEY): the number after KEY at the start of a line of the /proc file at
 * PATH ("VmSwap:", "pswpout ", "Cached:"), or -1. Shared by the swap benchmarks' programs. */
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long long proc_field(const char* path, const char* key) {
    FILE* f = fopen(path, "r");
    if (!f) return -1;
    char line[256];
    long long v = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, n)) {
            v = strtoll(line + n, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}
