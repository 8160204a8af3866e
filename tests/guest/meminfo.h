/* meminfo.h: one /proc/meminfo field in kB, for the guest programs that read it. */
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value of "field:" in /proc/meminfo, or -1 when it is missing. */
static long meminfo_kb(const char *field) {
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') kb = strtol(line + n + 1, NULL, 10);
    if (f) fclose(f);
    return kb;
}
