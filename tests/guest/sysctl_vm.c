/* /proc/sys (kernel/sysctl.c, fs/proc/proc_sysctl.c).
 * No argument (an oracle test, read-only natively): the modes of the vm and kernel entries,
 * drop_caches (0200) refusing a read, a read-only entry refusing a write open, a directory
 * refusing a write, reads that end after the first one, the names /proc/sys/vm lists in
 * order, and the UTS names matching uname.
 * "write" (under emu only: it changes sysctls): each knob's parsing and range, the
 * overcommit policies at mmap (2: CommitLimit, 1: anything), max_map_count at mmap,
 * drop_caches, min_free_kbytes reaching the watermarks, and a non-root writer refused. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "meminfo.h"

static const char *err(int r) { return r >= 0 ? "ok" : strerror(errno); }

static void show_entry(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("%s: %s\n", path, strerror(errno));
        return;
    }
    printf("%s: %s %03o uid %u size %lld\n", path, S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : "other",
           (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (long long)st.st_size);
}

static void read_whole(const char *path, char *buf, size_t n) {
    buf[0] = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return;
    ssize_t r = read(fd, buf, n - 1);
    buf[r > 0 ? r : 0] = 0;
    close(fd);
}

static int oracle(void) {
    const char *entries[] = {"/proc/sys", "/proc/sys/vm", "/proc/sys/kernel", "/proc/sys/vm/overcommit_memory",
                             "/proc/sys/vm/overcommit_ratio", "/proc/sys/vm/overcommit_kbytes",
                             "/proc/sys/vm/swappiness", "/proc/sys/vm/min_free_kbytes", "/proc/sys/vm/drop_caches",
                             "/proc/sys/vm/dirty_ratio", "/proc/sys/vm/dirty_background_ratio",
                             "/proc/sys/vm/dirty_expire_centisecs", "/proc/sys/vm/dirty_writeback_centisecs",
                             "/proc/sys/vm/max_map_count", "/proc/sys/vm/page-cluster",
                             "/proc/sys/kernel/ostype", "/proc/sys/kernel/hostname", "/proc/sys/kernel/pid_max",
                             "/proc/sys/kernel/threads-max", "/proc/sys/kernel/tainted",
                             "/proc/sys/kernel/ngroups_max", "/proc/sys/kernel/cap_last_cap",
                             "/proc/sys/kernel/overflowuid", "/proc/sys/kernel/overflowgid", "/proc/sys/vm/nothing"};
    for (size_t i = 0; i < sizeof entries / sizeof *entries; ++i) show_entry(entries[i]);

    printf("read open of drop_caches: %s\n", err(open("/proc/sys/vm/drop_caches", O_RDONLY)));
    printf("write open of kernel/ostype: %s\n", err(open("/proc/sys/kernel/ostype", O_WRONLY)));
    printf("write open of vm/: %s\n", err(open("/proc/sys/vm", O_WRONLY)));

    int fd = open("/proc/sys/vm/overcommit_memory", O_RDONLY);
    char c[16];
    ssize_t first = read(fd, c, 1), second = read(fd, c + 1, sizeof c - 1);
    printf("one-byte read: %zd then %zd, a digit 0-2: %s\n", first, second, c[0] >= '0' && c[0] <= '2' ? "yes" : "no");
    printf("pread at 1: %zd\n", pread(fd, c, sizeof c, 1));
    lseek(fd, 0, SEEK_SET);
    ssize_t whole = read(fd, c, sizeof c);
    printf("whole read: %zd bytes ending in a newline: %s\n", whole, whole > 0 && c[whole - 1] == '\n' ? "yes" : "no");
    close(fd);

    /* The entries emu has, in the order readdir gives them. */
    const char *want[] = {"dirty_background_bytes", "dirty_background_ratio", "dirty_bytes", "dirty_expire_centisecs",
                          "dirty_ratio", "dirty_writeback_centisecs", "drop_caches", "max_map_count",
                          "min_free_kbytes", "overcommit_kbytes", "overcommit_memory", "overcommit_ratio",
                          "page-cluster", "swappiness"};
    size_t next = 0;
    DIR *d = opendir("/proc/sys/vm");
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (next < sizeof want / sizeof *want && strcmp(e->d_name, want[next]) == 0) {
            if (e->d_type != DT_REG) printf("%s is no DT_REG\n", e->d_name);
            ++next;
        }
    if (d) closedir(d);
    printf("/proc/sys/vm lists the %zu entries in order: %s\n", sizeof want / sizeof *want,
           next == sizeof want / sizeof *want ? "yes" : "no");

    struct utsname u;
    uname(&u);
    char buf[256], expect[256];
    read_whole("/proc/sys/kernel/ostype", buf, sizeof buf);
    printf("kernel/ostype: %s", buf);
    read_whole("/proc/sys/kernel/osrelease", buf, sizeof buf);
    snprintf(expect, sizeof expect, "%s\n", u.release);
    printf("kernel/osrelease is uname's release: %s\n", strcmp(buf, expect) == 0 ? "yes" : "no");
    read_whole("/proc/sys/kernel/hostname", buf, sizeof buf);
    snprintf(expect, sizeof expect, "%s\n", u.nodename);
    printf("kernel/hostname is uname's nodename: %s\n", strcmp(buf, expect) == 0 ? "yes" : "no");

    /* kernel/sysctl.c's and kernel/pid.c's entries (threads-max and tainted depend on the
     * machine: only their form is printed). */
    const char *fixed[] = {"pid_max", "ngroups_max", "cap_last_cap", "overflowuid", "overflowgid"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; ++i) {
        char path[64];
        snprintf(path, sizeof path, "/proc/sys/kernel/%s", fixed[i]);
        read_whole(path, buf, sizeof buf);
        printf("kernel/%s: %s", fixed[i], buf);
    }
    read_whole("/proc/sys/kernel/threads-max", buf, sizeof buf);
    printf("kernel/threads-max is a number above 20: %s\n", atol(buf) > 20 ? "yes" : "no");
    read_whole("/proc/sys/kernel/tainted", buf, sizeof buf);
    printf("kernel/tainted is a number: %s\n", buf[0] >= '0' && buf[0] <= '9' ? "yes" : "no");
    return 0;
}

static int failures;

static void check(const char *what, int ok) {
    if (!ok) {
        printf("FAIL: %s\n", what);
        ++failures;
    }
}

/* Writes text to a sysctl: the write's result, or -errno. */
static long put(const char *name, const char *text) {
    char path[128];
    snprintf(path, sizeof path, "/proc/sys/%s", name);
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -errno;
    ssize_t r = write(fd, text, strlen(text));
    long ret = r < 0 ? -errno : r;
    close(fd);
    return ret;
}

static long get(const char *name) {
    char path[128], buf[64];
    snprintf(path, sizeof path, "/proc/sys/%s", name);
    read_whole(path, buf, sizeof buf);
    return strtol(buf, NULL, 10);
}

static int maps_with(size_t len, int flags) {
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return -errno;
    munmap(p, len);
    return 0;
}

static int maps(size_t len) { return maps_with(len, MAP_PRIVATE); }

/* Writes len bytes into a new memfd: 0, or -errno of the write that failed (a short write
 * is followed by one that reports the error). */
static int memfd_fill(size_t len) {
    static char buf[65536];
    const int fd = (int)syscall(SYS_memfd_create, "fill", 0);
    int r = fd < 0 ? -errno : 0;
    for (size_t done = 0; r == 0 && done < len;) {
        const ssize_t n = write(fd, buf, len - done < sizeof buf ? len - done : sizeof buf);
        if (n < 0) r = -errno;
        else done += (size_t)n;
    }
    close(fd);
    return r;
}

static long zone_min(void) {
    FILE *f = fopen("/proc/zoneinfo", "r");
    char line[256];
    long total = 0, v;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, " min %ld", &v) == 1) total += v;
    if (f) fclose(f);
    return total;
}

static int writes(void) {
    /* Parsing and ranges. */
    check("overcommit_memory 3 is EINVAL", put("vm/overcommit_memory", "3") == -EINVAL);
    check("overcommit_memory -1 is EINVAL", put("vm/overcommit_memory", "-1") == -EINVAL);
    check("overcommit_memory abc is EINVAL", put("vm/overcommit_memory", "abc") == -EINVAL);
    check("overcommit_memory stays 0", get("vm/overcommit_memory") == 0);
    check("swappiness 201 is EINVAL", put("vm/swappiness", "201") == -EINVAL);
    check("swappiness ' 200\\n' takes 5 bytes", put("vm/swappiness", " 200\n") == 5);
    check("swappiness reads 200", get("vm/swappiness") == 200);
    check("swappiness 0x10 is 16", put("vm/swappiness", "0x10") == 4 && get("vm/swappiness") == 16);
    check("dirty_ratio 101 is EINVAL", put("vm/dirty_ratio", "101") == -EINVAL);
    check("dirty_bytes 8192 zeroes dirty_ratio", put("vm/dirty_bytes", "8192") == 4 && get("vm/dirty_ratio") == 0);
    check("dirty_ratio 30 zeroes dirty_bytes", put("vm/dirty_ratio", "30") == 2 && get("vm/dirty_bytes") == 0);
    check("dirty_bytes 4096 is EINVAL (two pages least)", put("vm/dirty_bytes", "4096") == -EINVAL);
    check("dirty_background_ratio 5", put("vm/dirty_background_ratio", "5") == 1 && get("vm/dirty_background_ratio") == 5);
    check("dirty_expire_centisecs -1 is EINVAL", put("vm/dirty_expire_centisecs", "-1") == -EINVAL);
    check("dirty_writeback_centisecs 100", put("vm/dirty_writeback_centisecs", "100") == 3 &&
                                             get("vm/dirty_writeback_centisecs") == 100);
    check("page-cluster 32 is EINVAL", put("vm/page-cluster", "32") == -EINVAL);
    check("drop_caches 0 is EINVAL", put("vm/drop_caches", "0") == -EINVAL);
    check("drop_caches 5 is EINVAL", put("vm/drop_caches", "5") == -EINVAL);
    check("drop_caches 3", put("vm/drop_caches", "3") == 1);
    check("hostname", put("kernel/hostname", "sysctl-test\n") == 12);
    struct utsname u;
    uname(&u);
    check("uname sees the new hostname", strcmp(u.nodename, "sysctl-test") == 0);
    check("ostype is read-only", put("kernel/ostype", "x") == -EACCES);

    /* Overcommit: CommitLimit is overcommit_ratio percent of RAM (no swap here). */
    const long ram_kb = meminfo_kb("MemTotal");
    check("overcommit_memory 2", put("vm/overcommit_memory", "2") == 1 && get("vm/overcommit_memory") == 2);
    check("overcommit_ratio 50", put("vm/overcommit_ratio", "50") == 2);
    check("CommitLimit is half of MemTotal", labs(meminfo_kb("CommitLimit") - ram_kb / 2) <= 4);
    check("mode 2: a mapping of 3/4 of RAM is ENOMEM", maps((size_t)ram_kb * 1024 / 4 * 3) == -ENOMEM);
    check("mode 2: a mapping of 1/8 of RAM is fine", maps((size_t)ram_kb * 1024 / 8) == 0);
    check("mode 2 ignores MAP_NORESERVE", maps_with((size_t)ram_kb * 1024 / 4 * 3, MAP_PRIVATE | MAP_NORESERVE) == -ENOMEM);
    check("mode 2: shared 3/4 of RAM is ENOMEM", maps_with((size_t)ram_kb * 1024 / 4 * 3, MAP_SHARED) == -ENOMEM);
    check("mode 2: shared MAP_NORESERVE too",
          maps_with((size_t)ram_kb * 1024 / 4 * 3, MAP_SHARED | MAP_NORESERVE) == -ENOMEM);
    check("mode 2: shared 1/8 of RAM is fine", maps_with((size_t)ram_kb * 1024 / 8, MAP_SHARED) == 0);
    check("mode 2: a memfd of 3/4 of RAM is ENOSPC", memfd_fill((size_t)ram_kb * 1024 / 4 * 3) == -ENOSPC);
    check("mode 2: a memfd of 1/8 of RAM is fine", memfd_fill((size_t)ram_kb * 1024 / 8) == 0);
    check("overcommit_kbytes zeroes the ratio", put("vm/overcommit_kbytes", "1024") == 4 && get("vm/overcommit_ratio") == 0);
    check("CommitLimit is 1024 kB", meminfo_kb("CommitLimit") == 1024);
    check("mode 2 with 1 MiB: 8 MiB is ENOMEM", maps(8 << 20) == -ENOMEM);
    check("overcommit_ratio zeroes kbytes", put("vm/overcommit_ratio", "100") == 3 && get("vm/overcommit_kbytes") == 0);
    check("mode 2 at 100%: 3/4 of RAM fits", maps((size_t)ram_kb * 1024 / 4 * 3) == 0);
    check("overcommit_memory 1", put("vm/overcommit_memory", "1") == 1);
    check("mode 1: 16 times RAM maps", maps((size_t)ram_kb * 1024 * 16) == 0);
    check("overcommit_memory 0", put("vm/overcommit_memory", "0") == 1);
    check("mode 0: 16 times RAM is ENOMEM", maps((size_t)ram_kb * 1024 * 16) == -ENOMEM);

    /* min_free_kbytes: the zones' min watermarks follow. */
    const long min_before = zone_min();
    const long mfk = get("vm/min_free_kbytes");
    char text[32];
    snprintf(text, sizeof text, "%ld", mfk * 2);
    check("min_free_kbytes doubled", put("vm/min_free_kbytes", text) > 0 && get("vm/min_free_kbytes") == mfk * 2);
    check("the zones' min watermarks grew", zone_min() > min_before);

    /* max_map_count: a mapping past it is ENOMEM. */
    check("max_map_count 200", put("vm/max_map_count", "200") == 3);
    const long page = sysconf(_SC_PAGESIZE);
    static void *pages[1000];
    int n = 0;
    for (; n < 1000; ++n)
        if ((pages[n] = mmap(NULL, page, (n & 1) ? PROT_READ : PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
            break;
    const int stopped = errno;
    for (int i = 0; i < n; ++i) munmap(pages[i], page);
    check("mmap stops with ENOMEM below 200 mappings", n < 200 && stopped == ENOMEM);

    /* kernel.pid_max bounds the pids fork hands out; they wrap to 300. */
    check("pid_max 300 is EINVAL", put("kernel/pid_max", "300") == -EINVAL);
    check("pid_max 4194305 is EINVAL", put("kernel/pid_max", "4194305") == -EINVAL);
    check("pid_max 400 is taken", put("kernel/pid_max", "400") == 3 && get("kernel/pid_max") == 400);
    int below = 1, wrapped = 0;
    pid_t last = getpid();
    for (int i = 0; i < 420; ++i) {
        pid_t p = fork();
        if (p == 0) _exit(0);
        if (p < 0 || p >= 400) below = 0;
        if (p < last) wrapped = p;
        last = p;
        waitpid(p, NULL, 0);
    }
    check("420 forks get pids below pid_max 400", below);
    check("... and wrap to 300", wrapped == 300 || wrapped == 301);
    check("pid_max back to 32768", put("kernel/pid_max", "32768") == 5);
    check("tainted 0 stays 0", put("kernel/tainted", "0") == 1 && get("kernel/tainted") == 0);
    check("tainted 4096 is added", put("kernel/tainted", "4096") == 4 && get("kernel/tainted") == 4096);
    check("tainted 0 leaves it", put("kernel/tainted", "0") == 1 && get("kernel/tainted") == 4096);

    /* A writer without root's uid is refused at open. */
    if (setresuid(1000, 1000, 1000) == 0)
        check("non-root write open is EACCES", put("vm/swappiness", "1") == -EACCES);
    else
        check("setresuid", 0);
    printf("sysctl writes: %d failures\n", failures);
    return failures != 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "write") == 0) return writes();
    return oracle();
}
