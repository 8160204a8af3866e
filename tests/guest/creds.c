/* creds: the task credentials as Linux keeps them. Every change happens in a forked child
 * (the host is never changed): set[res][ug]id, setfs[ug]id, setgroups/getgroups, capget/
 * capset, prctl's capability options; their EPERM/EINVAL/EFAULT rules; how capabilities follow
 * uid changes (cap_emulate_setxuid) and fsuid changes; /proc/self/status's Uid, Gid, Groups and
 * Cap lines; file permission checks by fsuid; kill permission by uid; fork inheritance and the
 * exec rules (root keeps bset caps, others lose them; saved ids follow the effective ones).
 * Run as root, it exercises the privileged paths; as a user, the refusals. On i386 it also
 * calls the 16-bit syscalls directly. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* linux/capability.h (musl has no kernel headers) */
struct __user_cap_header_struct { unsigned version; int pid; };
struct __user_cap_data_struct { unsigned effective, permitted, inheritable; };
#define _LINUX_CAPABILITY_VERSION_1 0x19980330
#define _LINUX_CAPABILITY_VERSION_3 0x20080522
enum { CAP_CHOWN = 0, CAP_DAC_OVERRIDE = 1, CAP_DAC_READ_SEARCH = 2, CAP_SETUID = 7, CAP_SYS_BOOT = 22,
       CAP_SYS_RESOURCE = 24 };
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_IS_SET 1
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_LOWER 3
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

static void result(const char *what, long r) {
    if (r < 0) printf("%s: -1 %s\n", what, strerror(errno));
    else printf("%s: %ld\n", what, r);
}

static void status_lines(const char *tag) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    if (!f) {
        printf("%s: no status\n", tag);
        return;
    }
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "Uid:", 4) || !strncmp(line, "Gid:", 4) || !strncmp(line, "Groups:", 7) ||
            !strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs:", 11))
            printf("%s %s", tag, line);
    fclose(f);
}

static void ids(const char *tag) {
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    printf("%s: uid %u %u %u fsuid %d gid %u %u %u fsgid %d\n", tag, r, e, s, setfsuid(-1), gr, ge, gs, setfsgid(-1));
}

static void groups(const char *tag) {
    gid_t g[64];
    int n = getgroups(64, g);
    printf("%s: %d groups:", tag, n);
    for (int i = 0; i < n; ++i) printf(" %u", g[i]);
    printf("\n");
}

static unsigned long long caps_eff(void) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d)) return ~0ull;
    return d[0].effective | ((unsigned long long)d[1].effective << 32);
}

/* Runs fn in a child and waits: every change stays in the child. */
static void in_child(const char *name, void (*fn)(void)) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        printf("== %s\n", name);
        fn();
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st)) printf("%s: child status %#x\n", name, st);
}

static char dir[64], secret[96], shared[96];
static int root;  /* started with CAP_SETUID (root) */

static void t_inherit(void) {
    ids("child");
    status_lines("child");
}

static void t_errors(void) {
    gid_t g[1];
    result("setuid(-1)", setuid(-1));
    result("setgid(-1)", setgid(-1));
    result("getgroups(-1)", syscall(SYS_getgroups, -1, g));
    int n = getgroups(0, NULL);
    if (n > 1) result("getgroups too small", getgroups(1, g));
    result("setresuid(-1,-1,-1)", setresuid(-1, -1, -1));
    result("setreuid(-1,-1)", setreuid(-1, -1));
    result("getresuid fault", syscall(SYS_getresuid, (void *)8, (void *)8, (void *)8));
    result("getgroups fault", n > 0 ? syscall(SYS_getgroups, n, (void *)8) : 0);
    ids("after no-ops");
}

static void t_setgroups(void) {
    gid_t g[3] = {50, 3, 20};
    result("setgroups(3)", setgroups(3, g));
    groups("sorted");
    status_lines("grp");
    gid_t bad[2] = {7, (gid_t)-1};
    result("setgroups(-1 entry)", setgroups(2, bad));
    groups("unchanged");
    result("setgroups(65537)", setgroups(65537, g));
    result("setgroups(fault)", syscall(SYS_setgroups, 2, (void *)8));
    gid_t two[2];
    result("getgroups(2) of 3", getgroups(2, two));
    result("setgroups(0)", setgroups(0, NULL));
    groups("none");
}

static void t_setresuid(void) {
    result("setresuid(1000,1001,1002)", setresuid(1000, 1001, 1002));
    ids("res");
    status_lines("res");
    result("setuid(0)", setuid(0));
    result("setuid(1001)", setuid(1001));          /* neither real nor saved: EPERM */
    result("setuid(1002)", setuid(1002));          /* the saved one */
    ids("setuid saved");
    result("setreuid(1002,1000)", setreuid(1002, 1000));
    ids("setreuid");
    result("setreuid(5,-1)", setreuid(5, -1));
    result("setresuid(1000,1000,1000)", setresuid(1000, 1000, 1000));
    result("setresuid(-1,1001,-1)", setresuid(-1, 1001, -1));
    result("setfsuid(7)", setfsuid(7));             /* refused: answers the old one */
    result("setfsuid(-1)", setfsuid(-1));
    result("setgroups", setgroups(0, NULL));
    result("setgid(1)", setgid(1));
    result("setregid(-1,-1)", setregid(-1, -1));
    result("kill(parent,0)", kill(getppid(), 0));
    result("kill(self,0)", kill(getpid(), 0));
    result("prctl(GET_DUMPABLE)", prctl(PR_GET_DUMPABLE));
    ids("final");
}

static void t_seteuid_caps(void) {
    result("setresuid(-1,1000,0)", setresuid(-1, 1000, 0));
    status_lines("euid1000");
    result("open 0600 as euid 1000", open(secret, O_RDONLY));
    result("open 0644 rdonly", open(shared, O_RDONLY) >= 0 ? 0 : -1);
    result("open 0644 wronly", open(shared, O_WRONLY));
    result("access(W_OK) by real uid 0", access(shared, W_OK));
    result("seteuid(0)", seteuid(0));
    status_lines("back");
    result("open 0600 as root", open(secret, O_RDONLY) >= 0 ? 0 : -1);
}

static void t_fsuid(void) {
    result("setfsuid(1000)", setfsuid(1000));
    status_lines("fsuid1000");
    result("open 0600 as fsuid 1000", open(secret, O_RDONLY));
    result("mkdir as fsuid 1000", mkdir(dir, 0700));
    result("setfsuid(0)", setfsuid(0));
    result("setfsuid(-1)", setfsuid(-1));
    status_lines("fsuid0");
    result("open 0600 as fsuid 0", open(secret, O_RDONLY) >= 0 ? 0 : -1);
    result("setfsgid(77)", setfsgid(77));
    result("setfsgid(-1)", setfsgid(-1));
}

static void t_setgid_family(void) {
    result("setresgid(10,20,30)", setresgid(10, 20, 30));
    ids("resgid");
    result("setregid(30,-1)", setregid(30, -1));
    ids("regid");
    result("setgid(40)", setgid(40));
    ids("setgid");
    result("setresuid(1000,1000,1000)", setresuid(1000, 1000, 1000));
    result("setgid(20)", setgid(20));  /* neither real (40) nor saved (40) */
    result("setgid(40)", setgid(40));
    result("setresgid(40,40,41)", setresgid(40, 40, 41));
    result("setregid(40,40)", setregid(40, 40));
}

static void t_capget(void) {
    struct __user_cap_header_struct h = {0x12345678, 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    result("capget(bad version)", syscall(SYS_capget, &h, d));
    printf("version written back: %#x\n", h.version);
    h.version = 0x12345678;
    result("capget(bad version, NULL data)", syscall(SYS_capget, &h, NULL));
    printf("version written back: %#x\n", h.version);
    h.version = _LINUX_CAPABILITY_VERSION_3;
    h.pid = -1;
    result("capget(pid -1)", syscall(SYS_capget, &h, d));
    h.pid = 999999;
    result("capget(pid none)", syscall(SYS_capget, &h, d));
    h.pid = getppid();
    result("capget(parent)", syscall(SYS_capget, &h, d));
    printf("parent eff %08x %08x\n", d[0].effective, d[1].effective);
    h.pid = 0;
    h.version = _LINUX_CAPABILITY_VERSION_1;
    memset(d, 0, sizeof d);
    result("capget(v1)", syscall(SYS_capget, &h, d));
    printf("v1 eff %08x second word %08x\n", d[0].effective, d[1].effective);
    h.version = _LINUX_CAPABILITY_VERSION_3;
    h.pid = getppid();
    result("capset(other pid)", syscall(SYS_capset, &h, d));
    h.pid = 0;
    result("capget", syscall(SYS_capget, &h, d));
    struct __user_cap_data_struct n[2];
    memcpy(n, d, sizeof n);
    n[0].permitted |= 1u << CAP_SYS_RESOURCE;  /* maybe not permitted at all */
    n[1].permitted = 0xffffffff;
    result("capset(raise permitted)", syscall(SYS_capset, &h, n));
    memcpy(n, d, sizeof n);
    n[0].effective &= ~(1u << CAP_DAC_OVERRIDE | 1u << CAP_DAC_READ_SEARCH);
    result("capset(drop dac from effective)", syscall(SYS_capset, &h, n));
    status_lines("capset");
    if (root) result("open 0600 without dac caps", open(secret, O_RDONLY) >= 0 ? 0 : -1);
    memcpy(n, d, sizeof n);
    n[0].effective = n[0].permitted = 0;
    n[1].effective = n[1].permitted = 0;
    n[0].inheritable = 1u << CAP_CHOWN;
    result("capset(inheritable without permitted)", syscall(SYS_capset, &h, n));
    n[0].inheritable = 0;
    result("capset(all zero)", syscall(SYS_capset, &h, n));
    status_lines("nocaps");
    result("setuid(1) without caps", setuid(1));
    memcpy(n, d, sizeof n);
    result("capset(back)", syscall(SYS_capset, &h, n));
}

static void t_prctl_caps(void) {
    result("CAPBSET_READ(CHOWN)", prctl(PR_CAPBSET_READ, CAP_CHOWN));
    result("CAPBSET_READ(99)", prctl(PR_CAPBSET_READ, 99));
    result("GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS));
    result("SET_KEEPCAPS(2)", prctl(PR_SET_KEEPCAPS, 2));
    result("SET_KEEPCAPS(1)", prctl(PR_SET_KEEPCAPS, 1));
    result("GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS));
    result("GET_SECUREBITS", prctl(PR_GET_SECUREBITS));
    result("CAP_AMBIENT IS_SET(CHOWN)", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0));
    result("CAP_AMBIENT RAISE(CHOWN)", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0));
    result("CAP_AMBIENT bad", prctl(PR_CAP_AMBIENT, 9, CAP_CHOWN, 0, 0));
    result("CAP_AMBIENT CLEAR_ALL", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
    result("CAPBSET_DROP(SYS_BOOT)", prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT));
    result("CAPBSET_READ(SYS_BOOT)", prctl(PR_CAPBSET_READ, CAP_SYS_BOOT));
    result("setresuid(1000,1000,1000) with keepcaps", setresuid(1000, 1000, 1000));
    status_lines("keepcaps");
}

static char self_path[512];

static void t_exec_nonroot(void) {
    if (setresuid(1000, 1000, 1000) < 0) return;
    fflush(stdout);
    execl(self_path, self_path, "exec-report", (char *)NULL);
    printf("exec failed: %s\n", strerror(errno));
}

static void t_exec_euid(void) {
    if (setresuid(1000, 0, 1000) < 0) return;
    fflush(stdout);
    execl(self_path, self_path, "exec-report", (char *)NULL);
    printf("exec failed: %s\n", strerror(errno));
}

static void t_kill_peers(void) {
    /* A child of uid 1000 signals a sibling of uid 1000 and one of uid 1001. */
    int pipefd[2], ready[2];
    if (pipe(pipefd) || pipe(ready)) return;
    pid_t a = fork();
    if (a == 0) {
        setresuid(1000, 1000, 1000);
        char c;
        write(ready[1], "a", 1);
        read(pipefd[0], &c, 1);
        _exit(0);
    }
    pid_t b = fork();
    if (b == 0) {
        setresuid(1001, 1001, 1001);
        char c;
        write(ready[1], "b", 1);
        read(pipefd[0], &c, 1);
        _exit(0);
    }
    char got[2];
    for (int i = 0; i < 2;) {  /* both have their uids */
        ssize_t r = read(ready[0], got, 2 - i);
        if (r <= 0) break;
        i += r;
    }
    pid_t k = fork();
    if (k == 0) {
        setresuid(1000, 1000, 1000);
        printf("kill same uid: %d\n", kill(a, 0));
        int r = kill(b, 0);
        printf("kill other uid: %d %s\n", r, r ? strerror(errno) : "");
        r = kill(b, SIGCONT);
        printf("SIGCONT other uid in session: %d\n", r);
        fflush(stdout);
        _exit(0);
    }
    waitpid(k, NULL, 0);
    write(pipefd[1], "xx", 2);
    waitpid(a, NULL, 0);
    waitpid(b, NULL, 0);
}

#if defined(__i386__)
static void t_uid16(void) {
    unsigned short r = 1, e = 1, s = 1;
    result("setresuid32(70000,70000,0)", syscall(SYS_setresuid32, 70000, 70000, 0));
    result("getresuid16", syscall(SYS_getresuid, &r, &e, &s));
    printf("16-bit ids %u %u %u\n", r, e, s);
    result("getuid16", syscall(SYS_getuid));
    result("getuid32", syscall(SYS_getuid32));
    result("setresuid16(-1,0xffff,-1)", syscall(SYS_setresuid, 0xffff, 0xffff, 0xffff));
    result("setreuid16(0xffff,0)", syscall(SYS_setreuid, 0xffff, 0));
    ids("16");
    unsigned short g16[3] = {9, 8, 0xffff};
    result("setgroups16 with 0xffff", syscall(SYS_setgroups, 3, g16));
    result("setgroups16", syscall(SYS_setgroups, 2, g16));
    unsigned short out[4] = {0};
    result("getgroups16", syscall(SYS_getgroups, 4, out));
    printf("groups16 %u %u\n", out[0], out[1]);
    result("setfsuid16(5)", syscall(SYS_setfsuid, 5));
    result("setfsuid16(0xffff)", syscall(SYS_setfsuid, 0xffff));
    result("setuid16(0xffff)", syscall(SYS_setuid, 0xffff));
}
#endif

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && !strcmp(argv[1], "exec-report")) {
        ids("after exec");
        status_lines("exec");
        return 0;
    }
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n > 0) self_path[n] = 0;
    root = geteuid() == 0 && (caps_eff() >> CAP_SETUID & 1);
    printf("root: %d\n", root);
    ids("start");
    status_lines("start");
    snprintf(dir, sizeof dir, "/tmp/emu-creds-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    chmod(dir, 0755);
    snprintf(secret, sizeof secret, "%s/secret", dir);
    snprintf(shared, sizeof shared, "%s/shared", dir);
    close(open(secret, O_CREAT | O_WRONLY, 0600));
    close(open(shared, O_CREAT | O_WRONLY, 0644));
    chmod(secret, 0600);
    chmod(shared, 0644);
    snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/sub");  /* mkdir target */

    in_child("inherit", t_inherit);
    in_child("errors", t_errors);
    in_child("capget", t_capget);
    in_child("prctl caps", t_prctl_caps);
    in_child("setresuid", t_setresuid);
    in_child("setgid family", t_setgid_family);
    if (root) {
        in_child("setgroups", t_setgroups);
        in_child("seteuid caps", t_seteuid_caps);
        in_child("fsuid", t_fsuid);
        in_child("kill peers", t_kill_peers);
        if (n > 0) {
            in_child("exec as user", t_exec_nonroot);
            in_child("exec with euid 0", t_exec_euid);
        }
#if defined(__i386__)
        in_child("uid16", t_uid16);
#endif
    } else {
        in_child("setgroups", t_setgroups);
    }
    unlink(secret);
    unlink(shared);
    rmdir(dir);
    *strrchr(dir, '/') = 0;
    rmdir(dir);
    return 0;
}
