/* System V shared memory: shmget's rules (IPC_PRIVATE, IPC_CREAT/IPC_EXCL, sizes), shmat
 * (SHM_RDONLY, SHM_RND, fixed addresses, overlaps), the segment in /proc/self/maps, IPC_STAT's
 * counts and pids through attach, fork, exit and detach, IPC_SET, IPC_RMID of an attached
 * segment (SHM_DEST, the key gone, the memory still there), and shmdt's checks. Ids and keys
 * differ between runs, so only relations are printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }

static struct shmid_ds st(int id)
{
    struct shmid_ds ds;
    memset(&ds, 0, sizeof ds);
    if (shmctl(id, IPC_STAT, &ds) < 0) printf("IPC_STAT failed: %s\n", strerror(errno));
    return ds;
}

/* The maps line of the mapping at addr: its permissions and name, and whether its inode is id. */
static void maps_line(void *addr, int id)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    unsigned long start = (unsigned long)addr;
    while (fgets(line, sizeof line, f)) {
        unsigned long s, e, off, ino;
        char perms[8], dev[16], name[256] = "";
        if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %255[^\n]", &s, &e, perms, &off, dev, &ino, name) < 6) continue;
        if (s != start) continue;
        char *n = name;
        while (*n == ' ') n++;
        printf("maps: %s dev %s inode is the id %d name '%s' pages %lu\n", perms, dev, ino == (unsigned long)id, n,
               (e - s) / 4096);
    }
    fclose(f);
}

int main(void)
{
    int r;
    key_t key = 0x5e000000 | (getpid() & 0xffffff);

    errno = 0;
    printf("size 0: %s\n", err(shmget(IPC_PRIVATE, 0, 0600)));
    errno = 0;
    printf("absent key: %s\n", err(shmget(key, 4096, 0600)));
    int kid = shmget(key, 8192, IPC_CREAT | 0600);
    printf("create by key: %s\n", err(kid));
    printf("same key again: %d\n", shmget(key, 4096, 0) == kid);
    errno = 0;
    printf("IPC_CREAT|IPC_EXCL: %s\n", err(shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600)));
    errno = 0;
    printf("larger than the segment: %s\n", err(shmget(key, 8193, 0)));
    int a1 = shmget(IPC_PRIVATE, 4096, 0600), a2 = shmget(IPC_PRIVATE, 4096, 0600);
    printf("two IPC_PRIVATE differ: %d\n", a1 != a2);
    shmctl(a1, IPC_RMID, NULL);
    shmctl(a2, IPC_RMID, NULL);

    int id = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
    struct shmid_ds ds = st(id);
    printf("new: segsz %lu nattch %lu mode %o cpid ok %d lpid %d uid ok %d atime %ld dtime %ld ctime set %d key %d\n",
           (unsigned long)ds.shm_segsz, (unsigned long)ds.shm_nattch, ds.shm_perm.mode, ds.shm_cpid == getpid(),
           ds.shm_lpid, ds.shm_perm.uid == geteuid(), (long)ds.shm_atime, (long)ds.shm_dtime, ds.shm_ctime > 0,
           ds.shm_perm.__key);

    char *p = shmat(id, NULL, 0);
    printf("shmat: %s aligned %d\n", p == (void *)-1 ? strerror(errno) : "ok", ((uintptr_t)p & 4095) == 0);
    printf("zeroed: %d\n", p[0] == 0 && p[9999] == 0);
    strcpy(p, "hello shm");
    p[9999] = 'z';
    ds = st(id);
    printf("attached: nattch %lu lpid ok %d atime set %d\n", (unsigned long)ds.shm_nattch, ds.shm_lpid == getpid(),
           ds.shm_atime > 0);
    maps_line(p, id);

    char *ro = shmat(id, NULL, SHM_RDONLY);
    printf("read-only attach sees: %s, last %c\n", ro, ro[9999]);
    maps_line(ro, id);
    errno = 0;
    printf("mprotect it writable: %s\n", err(mprotect(ro, 4096, PROT_READ | PROT_WRITE)));
    printf("nattch with two: %lu\n", (unsigned long)st(id).shm_nattch);

    /* fork: the child shares the attaches; its exit drops them. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        printf("child sees: %s, nattch %lu\n", p, (unsigned long)st(id).shm_nattch);
        strcpy(p + 100, "from the child");
        char *extra = shmat(id, NULL, 0);
        printf("child attach: %s\n", extra == (void *)-1 ? strerror(errno) : "ok");
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("parent sees: %s, nattch %lu\n", p + 100, (unsigned long)st(id).shm_nattch);

    /* shmdt's checks. */
    errno = 0;
    printf("shmdt unaligned: %s\n", err(shmdt(p + 1)));
    errno = 0;
    printf("shmdt of no segment: %s\n", err(shmdt(&r)));
    printf("shmdt read-only: %s\n", err(shmdt(ro)));
    ds = st(id);
    printf("detached: nattch %lu dtime set %d\n", (unsigned long)ds.shm_nattch, ds.shm_dtime > 0);
    errno = 0;
    printf("shmdt again: %s\n", err(shmdt(ro)));

    /* shmat's address rules. */
    char *hole = mmap(NULL, 8 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    errno = 0;
    printf("unaligned address: %s\n", (void *)shmat(id, hole + 1, 0) == (void *)-1 ? strerror(errno) : "ok");
    errno = 0;
    printf("over a mapping: %s\n", (void *)shmat(id, hole, 0) == (void *)-1 ? strerror(errno) : "ok");
    char *remap = shmat(id, hole, SHM_REMAP);
    printf("SHM_REMAP over it: %d sees %s\n", remap == hole, remap == hole ? remap : "-");
    shmdt(remap);
    munmap(hole, 8 * 4096);
    char *rnd = shmat(id, hole + 100, SHM_RND);
    printf("SHM_RND: at the page %d sees %s\n", rnd == hole, rnd == hole ? rnd : "-");
    shmdt(rnd);
    errno = 0;
    printf("bad id: %s\n", (void *)shmat(id + 1000000, NULL, 0) == (void *)-1 ? strerror(errno) : "ok");
    errno = 0;
    printf("negative id: %s\n", (void *)shmat(-1, NULL, 0) == (void *)-1 ? strerror(errno) : "ok");

    /* IPC_SET, then IPC_RMID while attached: the segment lives on without its key. */
    ds = st(kid);
    ds.shm_perm.mode = 0640;
    r = shmctl(kid, IPC_SET, &ds);
    printf("IPC_SET: %s mode now %o\n", err(r), st(kid).shm_perm.mode);
    char *kp = shmat(kid, NULL, 0);
    strcpy(kp, "still here");
    printf("IPC_RMID attached: %s\n", err(shmctl(kid, IPC_RMID, NULL)));
    ds = st(kid);
    printf("removed: mode %o key %d nattch %lu\n", ds.shm_perm.mode, ds.shm_perm.__key, (unsigned long)ds.shm_nattch);
    errno = 0;
    printf("key lookup: %s\n", err(shmget(key, 4096, 0)));
    printf("memory: %s\n", kp);
    shmdt(kp);
    errno = 0;
    printf("IPC_STAT after the last detach: %s\n", err(shmctl(kid, IPC_STAT, &ds)));
    errno = 0;
    printf("IPC_RMID again: %s\n", err(shmctl(kid, IPC_RMID, NULL)));

    errno = 0;
    printf("bad cmd: %s\n", err(shmctl(id, 99, &ds)));
    errno = 0;
    printf("negative id stat: %s\n", err(shmctl(-1, IPC_STAT, &ds)));
    errno = 0;
    /* The syscall itself: a C library may copy through a buffer of its own. */
    printf("IPC_STAT bad buffer: %s\n", err(syscall(SYS_shmctl, id, IPC_STAT, (void *)8)));
    struct shminfo info;
    printf("IPC_INFO: %d\n", shmctl(0, IPC_INFO, (struct shmid_ds *)&info) >= 0);
    printf("shmmin %lu\n", (unsigned long)info.shmmin);
    printf("IPC_RMID unattached: %s\n", err(shmctl(id, IPC_RMID, NULL)));
    errno = 0;
    printf("stat while still attached: %s\n", err(shmctl(id, IPC_STAT, &ds)));
    errno = 0;
    char *again = shmat(id, NULL, 0);
    printf("shmat of a removed attached segment: %s\n", again == (void *)-1 ? strerror(errno) : "ok");
    printf("nattch %lu mode %o\n", (unsigned long)st(id).shm_nattch, st(id).shm_perm.mode);
    shmdt(again);
    shmdt(p);
    errno = 0;
    printf("stat after the last detach: %s\n", err(shmctl(id, IPC_STAT, &ds)));
    return 0;
}
