/* tmpfs's size= and nr_inodes= (mm/shmem.c), under emu only: emu's /tmp is a tmpfs of the
 * default size (half of RAM) and inode count, which a native /tmp need not be. statfs shows
 * the limits; writing past the size is ENOSPC (a short write first), and so is touching a
 * page of a shared mapping past it (SIGBUS); creating files or hard links past nr_inodes is
 * ENOSPC; unlinking gives both back; /proc/mounts shows the mount without size= (the default). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "meminfo.h"

static int failures;

static void check(const char *what, int ok) {
    if (!ok) {
        printf("FAIL: %s\n", what);
        ++failures;
    }
}

static sigjmp_buf env;
static void on_sigbus(int sig) { siglongjmp(env, sig); }

int main(void) {
    struct statfs st;
    check("statfs /tmp", statfs("/tmp", &st) == 0);
    const long ram_pages = meminfo_kb("MemTotal") / 4;
    check("tmpfs magic", st.f_type == 0x01021994);
    check("size is half of RAM", (long)st.f_blocks == ram_pages / 2);
    check("nr_inodes is half of RAM's pages", (long)st.f_files == ram_pages / 2);
    check("the root takes one inode", st.f_ffree == st.f_files - 1);
    check("nothing used", st.f_bfree == st.f_blocks && st.f_bavail == st.f_blocks);
    if (failures) { /* not emu's tmpfs (a host /tmp): filling it would fill the host's disk */
        printf("tmpfs limits: %d failures; /tmp is not emu's empty tmpfs, stopping\n", failures);
        return 1;
    }

    /* Blocks: write until the size is reached. */
    static char chunk[1 << 20];
    memset(chunk, 'x', sizeof chunk);
    int fd = open("/tmp/fill", O_CREAT | O_RDWR | O_TRUNC, 0600);
    long total = 0, r;
    while ((r = write(fd, chunk, sizeof chunk)) > 0) total += r;
    check("the write past the size is ENOSPC", r < 0 && errno == ENOSPC);
    check("every page of the size was written", total == (long)st.f_blocks * 4096);
    struct statfs full;
    statfs("/tmp", &full);
    check("statfs shows no block free", full.f_bfree == 0 && full.f_bavail == 0);

    /* A shared mapping of a new file: the first page past the size is SIGBUS. */
    int fd2 = open("/tmp/mapped", O_CREAT | O_RDWR | O_TRUNC, 0600);
    ftruncate(fd2, 1 << 20);
    char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
    signal(SIGBUS, on_sigbus);
    int sig = sigsetjmp(env, 1);
    if (sig == 0) p[0] = 1;
    check("a page fault of a full tmpfs is SIGBUS", sig == SIGBUS);
    munmap(p, 1 << 20);
    close(fd2);
    unlink("/tmp/mapped");

    ftruncate(fd, 4096);
    statfs("/tmp", &full);
    check("truncating gives the blocks back", full.f_bfree == st.f_blocks - 1);
    close(fd);
    unlink("/tmp/fill");
    statfs("/tmp", &full);
    check("unlinking gives the rest back", full.f_bfree == st.f_blocks);

    /* Inodes: create empty files until nr_inodes is reached. */
    long files = 0;
    char name[64];
    for (;; ++files) {
        snprintf(name, sizeof name, "/tmp/f%ld", files);
        int f = open(name, O_CREAT | O_WRONLY, 0600);
        if (f < 0) break;
        close(f);
    }
    check("the file past nr_inodes is ENOSPC", errno == ENOSPC);
    check("every free inode was used", files == (long)st.f_ffree);
    check("a hard link needs an inode too", link("/tmp/f0", "/tmp/link") < 0 && errno == ENOSPC);
    check("a directory too", mkdir("/tmp/dir", 0700) < 0 && errno == ENOSPC);
    unlink("/tmp/f1");
    check("an unlinked file's inode is free again", link("/tmp/f0", "/tmp/link") == 0);
    check("its link took it", open("/tmp/another", O_CREAT | O_WRONLY, 0600) < 0 && errno == ENOSPC);
    unlink("/tmp/link");  /* f0 keeps its own inode; the link's slot goes back */
    int f = open("/tmp/another", O_CREAT | O_WRONLY, 0600);
    check("unlinking a second name frees its slot", f >= 0);
    close(f);
    unlink("/tmp/another");
    for (long i = 0; i < files; ++i) {
        snprintf(name, sizeof name, "/tmp/f%ld", i);
        unlink(name);
    }
    statfs("/tmp", &full);
    check("every inode is back", full.f_ffree == st.f_ffree);

    /* /proc/mounts: the defaults show no size= or nr_inodes=. */
    FILE *m = fopen("/proc/mounts", "r");
    char line[512];
    int tmp_line = 0, shm_line = 0;
    while (m && fgets(line, sizeof line, m)) {
        if (strcmp(line, "tmpfs /tmp tmpfs rw,nosuid,relatime 0 0\n") == 0) tmp_line = 1;
        if (strcmp(line, "tmpfs /dev/shm tmpfs rw,nosuid,nodev,relatime 0 0\n") == 0) shm_line = 1;
    }
    if (m) fclose(m);
    check("/proc/mounts shows /tmp", tmp_line);
    check("/proc/mounts shows /dev/shm", shm_line);
    printf("tmpfs limits: %d failures\n", failures);
    return failures != 0;
}
