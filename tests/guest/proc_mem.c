/* The kernel's memory files are well-formed: every /proc/meminfo line is "Name:  N kB" (or
 * a bare count for the HugePages_ lines), MemFree <= MemTotal; buddyinfo lines are
 * "Node 0, zone NAME" and 11 counts; slabinfo starts with "slabinfo - version: 2.1" and
 * lists a kmalloc-64 cache with 16 columns before the colons; zoneinfo names its zones
 * with "pages free"; vmstat is "name value" with pgfault > 0. Prints only yes/no. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char buf[1 << 20];

static int slurp(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return n > 0;
}

static const char *yes_no(int v) { return v ? "yes" : "no"; }

static int meminfo_ok(void) {
    unsigned long total = 0, freek = 0, value;
    char name[64], unit[8];
    int lines = 0;
    for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"), ++lines) {
        int k = sscanf(l, "%63[^:]: %lu %7s", name, &value, unit);
        if (k == 3 && strcmp(unit, "kB")) return 0;
        if (k < 2) return 0;
        if (k == 2 && strncmp(name, "HugePages_", 10)) return 0;
        if (!strcmp(name, "MemTotal")) total = value;
        if (!strcmp(name, "MemFree")) freek = value;
    }
    return lines > 20 && total > 0 && freek <= total;
}

static int buddyinfo_ok(void) {
    int zones = 0;
    for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"), ++zones) {
        char zone[16];
        unsigned long c[11];
        if (sscanf(l, "Node 0, zone %15s %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu", zone, &c[0], &c[1], &c[2],
                   &c[3], &c[4], &c[5], &c[6], &c[7], &c[8], &c[9], &c[10]) != 12)
            return 0;
    }
    return zones >= 1;
}

static int slabinfo_ok(void) {
    if (strncmp(buf, "slabinfo - version: 2.1\n", 24)) return 0;
    char *k = strstr(buf, "\nkmalloc-64 ");
    if (!k) return 0;
    unsigned long v[5];
    return sscanf(k + 1, "kmalloc-64 %lu %lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3], &v[4]) == 5 && v[2] == 64;
}

static int zoneinfo_ok(void) { return strstr(buf, "Node 0, zone") && strstr(buf, "pages free"); }

static int vmstat_ok(void) {
    unsigned long pgfault = 0, value;
    char name[64];
    for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
        if (sscanf(l, "%63s %lu", name, &value) != 2) return 0;
        if (!strcmp(name, "pgfault")) pgfault = value;
    }
    return pgfault > 0;
}

int main(void) {
    printf("meminfo well-formed: %s\n", yes_no(slurp("/proc/meminfo") && meminfo_ok()));
    printf("buddyinfo well-formed: %s\n", yes_no(slurp("/proc/buddyinfo") && buddyinfo_ok()));
    printf("slabinfo well-formed: %s\n", yes_no(slurp("/proc/slabinfo") && slabinfo_ok()));
    printf("zoneinfo well-formed: %s\n", yes_no(slurp("/proc/zoneinfo") && zoneinfo_ok()));
    printf("vmstat well-formed: %s\n", yes_no(slurp("/proc/vmstat") && vmstat_ok()));
    return 0;
}
