/* diskstats.h: the sda (8:0) line of /proc/diskstats, and a checker that prints each
 * counted value with its wanted range, for the guest programs that count block requests. */
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The 17 counters after sda's name (reads, read merges, read sectors, ..., flushes, flush
 * time); the program exits naming who when there is no such line of 20 fields. */
static void diskstats_sda(const char* who, unsigned long long v[17]) {
    FILE* f = fopen("/proc/diskstats", "r");
    char line[512];
    int found = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned major, minor;
        char name[32];
        int n = sscanf(line, "%u %u %31s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
                       &major, &minor, name, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
                       &v[10], &v[11], &v[12], &v[13], &v[14], &v[15], &v[16]);
        if (n == 20 && !strcmp(name, "sda") && major == 8 && minor == 0) {
            found = 1;
            break;
        }
    }
    if (f) fclose(f);
    if (!found) {
        printf("%s: no 8 0 sda line of 20 fields in /proc/diskstats\n", who);
        exit(1);
    }
}

/* How many expect() calls found a value outside its range; main returns 1 when non-zero. */
static int failures;

/* Prints `what`, the value and the wanted range [lo, hi], marking it WRONG when outside. */
static void expect(const char* what, unsigned long long got, unsigned long long lo, unsigned long long hi) {
    int ok = got >= lo && got <= hi;
    if (lo == hi) printf("%-48s %llu (want %llu)%s\n", what, got, lo, ok ? "" : "  WRONG");
    else printf("%-48s %llu (want %llu..%llu)%s\n", what, got, lo, hi, ok ? "" : "  WRONG");
    failures += !ok;
}
