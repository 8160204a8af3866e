/* sysvipc_proc: /proc/sysvipc/{shm,msg,sem} as ipc/util.c's sysvipc_proc_show prints them on
 * a 64-bit kernel: the directory and its three files, each header, and the line of each
 * object this program makes (found by its id; other processes' objects are skipped): the
 * fields parsed back and the line re-printed with the kernel's format must be the line.
 * Pids, uids and times are shown as relations (this process, nonzero), since they differ
 * between runs. A segment removed while attached shows key 0 and SHM_DEST in its mode. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

/* The line of /proc/sysvipc/NAME whose second field is id, and the header. */
static int find_line(const char *name, int id, char *header, char *line, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/sysvipc/%s", name);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int found = 0;
    if (!fgets(header, (int)size, f)) header[0] = 0;
    while (!found && fgets(line, (int)size, f)) {
        int key, lid;
        if (sscanf(line, "%d %d", &key, &lid) == 2 && lid == id) found = 1;
    }
    fclose(f);
    return found;
}

static const char *rel_pid(unsigned long pid) { return pid == (unsigned long)getpid() ? "self" : pid ? "other" : "0"; }
static const char *rel_time(unsigned long long t) { return t ? "set" : "0"; }

static void show_shm(int id)
{
    char header[512], line[512], again[512];
    if (!find_line("shm", id, header, line, sizeof header)) { printf("shm: no line\n"); return; }
    int key, sid;
    unsigned mode, cpid, lpid, uid, gid, cuid, cgid;
    unsigned long size, nattch, rss, swp;
    unsigned long long at, dt, ct;
    if (sscanf(line, "%d %d %o %lu %u %u %lu %u %u %u %u %llu %llu %llu %lu %lu", &key, &sid, &mode, &size, &cpid, &lpid,
               &nattch, &uid, &gid, &cuid, &cgid, &at, &dt, &ct, &rss, &swp) != 16) { printf("shm: unparsed\n"); return; }
    snprintf(again, sizeof again, "%10d %10d  %4o %21lu %5u %5u  %5lu %5u %5u %5u %5u %10llu %10llu %10llu %21lu %21lu\n",
             key, sid, mode, size, cpid, lpid, nattch, uid, gid, cuid, cgid, at, dt, ct, rss, swp);
    printf("shm header: %s", header);
    printf("shm key %d mode %o size %lu cpid %s lpid %s nattch %lu uid %s atime %s dtime %s ctime %s rss %lu swap %lu layout %s\n",
           key, mode, size, rel_pid(cpid), rel_pid(lpid), nattch, uid == getuid() && cuid == getuid() ? "mine" : "other",
           rel_time(at), rel_time(dt), rel_time(ct), rss, swp, strcmp(line, again) ? "differs" : "ok");
}

static void show_msg(int id)
{
    char header[512], line[512], again[512];
    if (!find_line("msg", id, header, line, sizeof header)) { printf("msg: no line\n"); return; }
    int key, qid;
    unsigned mode, lspid, lrpid, uid, gid, cuid, cgid;
    unsigned long cbytes, qnum;
    unsigned long long st, rt, ct;
    if (sscanf(line, "%d %d %o %lu %lu %u %u %u %u %u %u %llu %llu %llu", &key, &qid, &mode, &cbytes, &qnum, &lspid, &lrpid,
               &uid, &gid, &cuid, &cgid, &st, &rt, &ct) != 14) { printf("msg: unparsed\n"); return; }
    snprintf(again, sizeof again, "%10d %10d  %4o  %10lu %10lu %5u %5u %5u %5u %5u %5u %10llu %10llu %10llu\n", key, qid,
             mode, cbytes, qnum, lspid, lrpid, uid, gid, cuid, cgid, st, rt, ct);
    printf("msg header: %s", header);
    printf("msg key %d mode %o cbytes %lu qnum %lu lspid %s lrpid %s uid %s stime %s rtime %s ctime %s layout %s\n", key,
           mode, cbytes, qnum, rel_pid(lspid), rel_pid(lrpid), uid == getuid() ? "mine" : "other", rel_time(st),
           rel_time(rt), rel_time(ct), strcmp(line, again) ? "differs" : "ok");
}

static void show_sem(int id)
{
    char header[512], line[512], again[512];
    if (!find_line("sem", id, header, line, sizeof header)) { printf("sem: no line\n"); return; }
    int key, sid;
    unsigned mode, nsems, uid, gid, cuid, cgid;
    unsigned long long ot, ct;
    if (sscanf(line, "%d %d %o %u %u %u %u %u %llu %llu", &key, &sid, &mode, &nsems, &uid, &gid, &cuid, &cgid, &ot,
               &ct) != 10) { printf("sem: unparsed\n"); return; }
    snprintf(again, sizeof again, "%10d %10d  %4o %10u %5u %5u %5u %5u %10llu %10llu\n", key, sid, mode, nsems, uid, gid,
             cuid, cgid, ot, ct);
    printf("sem header: %s", header);
    printf("sem key %d mode %o nsems %u uid %s otime %s ctime %s layout %s\n", key, mode, nsems,
           uid == getuid() ? "mine" : "other", rel_time(ot), rel_time(ct), strcmp(line, again) ? "differs" : "ok");
}

int main(void)
{
    struct stat st;
    printf("/proc/sysvipc is a directory: %d\n", stat("/proc/sysvipc", &st) == 0 && S_ISDIR(st.st_mode));
    DIR *d = opendir("/proc/sysvipc");
    if (d) {
        struct dirent *e;
        char names[64] = "";
        while ((e = readdir(d)))
            if (e->d_name[0] != '.') strcat(names, e->d_name), strcat(names, " ");
        printf("entries: %s\n", names);
        closedir(d);
    }

    int shm = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0640);
    show_shm(shm);
    char *p = shmat(shm, NULL, 0);
    if (p == (void *)-1) return 1;
    p[0] = 1, p[5000] = 2;
    show_shm(shm);
    shmctl(shm, IPC_RMID, NULL);
    show_shm(shm);
    shmdt(p);
    show_shm(shm);

    int msq = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    show_msg(msq);
    struct { long type; char text[32]; } m = {1, "0123456789"};
    msgsnd(msq, &m, 10, 0);
    msgsnd(msq, &m, 20, 0);
    show_msg(msq);
    msgrcv(msq, &m, sizeof m.text, 0, 0);
    show_msg(msq);
    msgctl(msq, IPC_RMID, NULL);
    show_msg(msq);

    int sem = semget(IPC_PRIVATE, 3, IPC_CREAT | 0444);
    show_sem(sem);
    struct sembuf op = {1, 1, 0};
    semop(sem, &op, 1);
    show_sem(sem);
    semctl(sem, 0, IPC_RMID);
    show_sem(sem);
    return 0;
}
