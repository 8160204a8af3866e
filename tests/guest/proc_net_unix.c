/* /proc/net/unix (unix_seq_show) for this process's AF_UNIX sockets, found by their inode
 * numbers: the header, RefCount, Flags (__SO_ACCEPTCON for a listener), Type, St (the socket
 * state: connected, unconnected; an embryo not yet accepted has no socket), Inode and Path
 * (a filesystem name, an abstract one with '@' for its NULs, none). The Num column is a
 * kernel address and is not compared. /proc/net is a link to self/net. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char table[1 << 16];

static void load(void)
{
    FILE *f = fopen("/proc/net/unix", "r");
    size_t n = f ? fread(table, 1, sizeof table - 1, f) : 0;
    table[n] = 0;
    if (f) fclose(f);
}

static unsigned long ino_of(int fd)
{
    struct stat st;
    return fstat(fd, &st) ? 0 : (unsigned long)st.st_ino;
}

/* The next line of the table after *pos, copied into l (false at the end). */
static int next_line(const char **pos, char *l, size_t size)
{
    const char *p = *pos;
    if (!*p) return 0;
    const char *end = strchr(p, '\n');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n >= size) n = size - 1;
    memcpy(l, p, n);
    l[n] = 0;
    *pos = end ? end + 1 : p + strlen(p);
    return 1;
}

struct rowv {
    unsigned refs, proto, flags, type, st;
    unsigned long ino;
    char path[256];
};

/* A data line without its Num column. */
static int parse(const char *l, struct rowv *r)
{
    const char *colon = strchr(l, ':');
    r->path[0] = 0;
    return colon && sscanf(colon + 1, " %X %X %X %X %X %lu %255[^\n]", &r->refs, &r->proto, &r->flags, &r->type,
                           &r->st, &r->ino, r->path) >= 6;
}

/* The row of the socket with inode ino. */
static char dir[] = "/tmp/proc_net_unix.XXXXXX";

/* A path with the test's directory as DIR. */
static const char *shown(const char *p)
{
    static char out[300];
    const char *d = strstr(p, dir);
    if (!d) return p;
    snprintf(out, sizeof out, "%.*sDIR%s", (int)(d - p), p, d + strlen(dir));
    return out;
}

static void row(const char *what, unsigned long ino)
{
    const char *pos = table;
    char l[512];
    struct rowv r;
    int found = 0;
    next_line(&pos, l, sizeof l); /* the header */
    while (next_line(&pos, l, sizeof l))
        if (parse(l, &r) && r.ino == ino) {
            printf("%s: refs %u proto %u flags %08X type %04X st %02X path '%s'\n", what, r.refs, r.proto, r.flags,
                   r.type, r.st, shown(r.path));
            found++;
        }
    if (!found) printf("%s: no row\n", what);
}

int main(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/net", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("/proc/net -> %s\n", buf);
    struct stat st;
    printf("/proc/self/net is a directory: %d\n", stat("/proc/self/net", &st) == 0 && S_ISDIR(st.st_mode));

    int unbound = socket(AF_UNIX, SOCK_STREAM, 0);
    int dgram = socket(AF_UNIX, SOCK_DGRAM, 0);
    int seq = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    int pair[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
    int dpair[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, dpair);

    char *path = dir;
    if (!mkdtemp(path)) return 1;
    struct sockaddr_un a = {AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s/listener", path);
    int lis = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(lis, (struct sockaddr *)&a, sizeof a);
    listen(lis, 5);
    int cli = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(cli, (struct sockaddr *)&a, sizeof a);
    int cli2 = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(cli2, (struct sockaddr *)&a, sizeof a);
    int acc = accept(lis, NULL, NULL);

    /* The abstract namespace is the host's for a native run, shared by the flavours the
     * suite runs at once: the test directory's name makes this one's name unique. */
    struct sockaddr_un ab = {AF_UNIX};
    size_t ablen = (size_t)snprintf(ab.sun_path, sizeof ab.sun_path, "_abs%s_tract", path);
    ab.sun_path[0] = 0;
    ab.sun_path[4 + strlen(path)] = 0;
    socklen_t abaddr = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + ablen);
    int abs = socket(AF_UNIX, SOCK_DGRAM, 0);
    bind(abs, (struct sockaddr *)&ab, abaddr);
    int dcli = socket(AF_UNIX, SOCK_DGRAM, 0);
    connect(dcli, (struct sockaddr *)&ab, abaddr);
    send(dcli, "x", 1, 0);
    int autob = socket(AF_UNIX, SOCK_DGRAM, 0);
    bind(autob, (struct sockaddr *)&ab, sizeof(sa_family_t)); /* autobind: an abstract 5-hex name */

    load();
    char *nl = strchr(table, '\n');
    if (nl) printf("header: %.*s\n", (int)(nl - table), table);
    row("unbound stream", ino_of(unbound));
    row("unbound dgram", ino_of(dgram));
    row("unbound seqpacket", ino_of(seq));
    row("stream pair 0", ino_of(pair[0]));
    row("stream pair 1", ino_of(pair[1]));
    row("dgram pair 0", ino_of(dpair[0]));
    row("listener", ino_of(lis));
    row("client", ino_of(cli));
    row("client not yet accepted", ino_of(cli2));
    row("accepted", ino_of(acc));
    row("abstract", ino_of(abs));
    row("dgram client", ino_of(dcli));

    /* The autobound name is 5 hex digits: show its form only. The listener's pending
     * connection (an embryo) has no socket: inode 0, state CONNECTING. */
    {
        const char *pos = table;
        char l[512];
        struct rowv r;
        int embryos = 0;
        next_line(&pos, l, sizeof l);
        while (next_line(&pos, l, sizeof l)) {
            if (!parse(l, &r)) continue;
            if (r.ino == ino_of(autob)) printf("autobind: '%c' and %zu more\n", r.path[0], strlen(r.path) - 1);
        }
        pos = table;
        next_line(&pos, l, sizeof l);
        while (next_line(&pos, l, sizeof l)) {
            if (!parse(l, &r)) continue;
            if (r.ino == 0 && strstr(r.path, path))
                printf("embryo %d: refs %u flags %08X type %04X st %02X path %s\n", embryos++, r.refs, r.flags, r.type,
                       r.st, r.path + strlen(path));
        }
    }
    close(pair[1]);
    load();
    row("stream pair 0 after its peer closed", ino_of(pair[0]));
    close(lis);
    load();
    row("client after the listener closed", ino_of(cli2));
    unlink(a.sun_path);
    rmdir(path);
    return 0;
}
