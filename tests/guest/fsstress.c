/* fsstress DIR SEED OPS [verify]: a seeded random file-operation stress checked against a
 * model. DIR must be an empty (or missing) directory: natively a host temporary directory,
 * under emu a directory of the ext2 disk or of the tmpfs at /tmp.
 *
 * Each operation (create, write at an offset, pwrite past the end leaving a hole, append,
 * truncate, unlink, rename with and without RENAME_NOREPLACE, mkdir, rmdir, link, symlink
 * (fast and slow), fsync/fdatasync of files and directories, sync, a read compared with the
 * model, and writes, ftruncate and close through descriptors held open across unlinks and
 * renames) is chosen from the model alone, its outcome (0 or Linux's errno) is predicted by
 * the model, then made for real; any difference stops the run with a message and status 1.
 * At the end the real tree is walked and compared with the model (names, types, sizes,
 * contents, link targets, link counts, hard links sharing an inode) and a digest of what was
 * read back is printed, so the native and emu runs can be compared (scripts/oracle-run).
 *
 * With "verify" the operations are replayed on the model alone and the existing tree is
 * only checked: the tree written by an earlier run, read back after a new mount. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#endif

enum { T_NONE, T_REG, T_DIR, T_LNK };
enum { MAX_INODES = 20000, MAX_DENTS = 2000, MAX_DIRS = 40, MAX_HELD = 4 };
#define NAMES "abcdefghij"
#define DATA_BUDGET (24u << 20) /* bytes in all files together (holes count) */
#define FILE_MAX (3u << 20)

struct minode {
    int type, nlink, opens, live;
    unsigned char* data;
    size_t size, cap;
    char target[160];
    long long real_ino; /* st_ino seen at the check, -1 before */
};
struct mdent {
    int dir, ino;
    char name[2];
};

static struct minode inodes[MAX_INODES];
static int ninodes = 1; /* inode 0 is DIR */
static struct mdent dents[MAX_DENTS];
static int ndents;
static size_t data_bytes;
static struct {
    int fd, ino;
} held[MAX_HELD];
static int nheld;

static const char* root;
static int doit = 1; /* 0: replay on the model only (verify mode) */
static int opno;
static const char* opname;

static uint64_t rng_state;
static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static unsigned below(unsigned n) { return n ? (unsigned)(rnd() % n) : 0; }

static const char* errname(int e) {
    static char buf[32];
    switch (e) {
    case 0: return "ok";
#define E(x) case x: return #x;
    E(ENOENT) E(EEXIST) E(ENOTDIR) E(EISDIR) E(ENOTEMPTY) E(EINVAL) E(EPERM) E(ENOSPC) E(EBADF) E(EIO)
    E(EROFS) E(ELOOP) E(EMLINK) E(EBUSY) E(EXDEV) E(ENAMETOOLONG)
#undef E
    }
    snprintf(buf, sizeof buf, "errno%d", e);
    return buf;
}

static void die(const char* fmt, const char* a, const char* b) {
    printf("op %d (%s): ", opno, opname ? opname : "check");
    printf(fmt, a, b);
    printf("\n");
    fflush(stdout);
    exit(1);
}

/* ---- the model's tree ---- */

static int lookup(int dir, char name) {
    for (int i = 0; i < ndents; i++)
        if (dents[i].dir == dir && dents[i].name[0] == name) return i;
    return -1;
}
static int dent_of_dir(int ino) {
    for (int i = 0; i < ndents; i++)
        if (dents[i].ino == ino) return i;
    return -1;
}
static int parent_of(int dir) { return dir == 0 ? 0 : dents[dent_of_dir(dir)].dir; }
static int is_ancestor(int a, int d) { /* a is d or above it */
    for (;;) {
        if (d == a) return 1;
        if (d == 0) return 0;
        d = parent_of(d);
    }
}
static int dir_children(int dir, int dirs_only) {
    int n = 0;
    for (int i = 0; i < ndents; i++)
        if (dents[i].dir == dir && (!dirs_only || inodes[dents[i].ino].type == T_DIR)) n++;
    return n;
}
static void dir_path(int dir, char* out, size_t n) {
    if (dir == 0) {
        snprintf(out, n, "%s", root);
        return;
    }
    int d = dent_of_dir(dir);
    char up[3900];
    dir_path(dents[d].dir, up, sizeof up);
    snprintf(out, n, "%s/%s", up, dents[d].name);
}
static void entry_path(int dir, char name, char* out, size_t n) {
    char d[4000];
    dir_path(dir, d, sizeof d);
    snprintf(out, n, "%s/%c", d, name);
}
static int count_dirs(void) {
    int n = 1;
    for (int i = 0; i < ndents; i++) n += inodes[dents[i].ino].type == T_DIR;
    return n;
}
static int random_dir(void) {
    int k = below((unsigned)count_dirs());
    if (k == 0) return 0;
    for (int i = 0; i < ndents; i++)
        if (inodes[dents[i].ino].type == T_DIR && --k == 0) return dents[i].ino;
    return 0;
}
/* A random existing entry of type TYPE (any type with T_NONE), or -1. */
static int random_dent(int type) {
    int n = 0;
    for (int i = 0; i < ndents; i++) n += type == T_NONE || inodes[dents[i].ino].type == type;
    if (n == 0) return -1;
    int k = below((unsigned)n);
    for (int i = 0; i < ndents; i++)
        if ((type == T_NONE || inodes[dents[i].ino].type == type) && k-- == 0) return i;
    return -1;
}
/* Picks a (directory, name) pair: mostly an existing entry of TYPE, else any name. */
static void pick(int type, int* dir, char* name) {
    int d = below(10) < 9 ? random_dent(type) : -1;
    if (d >= 0) {
        *dir = dents[d].dir;
        *name = dents[d].name[0];
    } else {
        *dir = random_dir();
        *name = NAMES[below(sizeof NAMES - 1)];
    }
}

/* Picks a random directory and a random name in it (for creating). */
static void pick_new(int* dir, char* name) {
    *dir = random_dir();
    *name = NAMES[below(sizeof NAMES - 1)];
}

static int new_inode(int type) {
    if (ninodes == MAX_INODES) die("%s%s", "out of model inodes", "");
    int i = ninodes++;
    memset(&inodes[i], 0, sizeof inodes[i]);
    inodes[i].type = type;
    inodes[i].live = 1;
    inodes[i].nlink = 1;
    inodes[i].real_ino = -1;
    return i;
}
static void put_inode(int ino) {
    struct minode* m = &inodes[ino];
    if (m->nlink > 0 || m->opens > 0) return;
    data_bytes -= m->size;
    free(m->data);
    m->data = NULL;
    m->size = m->cap = 0;
    m->live = 0;
}
static void add_dent(int dir, char name, int ino) {
    if (ndents == MAX_DENTS) die("%s%s", "out of model entries", "");
    dents[ndents].dir = dir;
    dents[ndents].name[0] = name;
    dents[ndents].name[1] = 0;
    dents[ndents].ino = ino;
    ndents++;
}
static void drop_dent(int d) {
    int ino = dents[d].ino;
    dents[d] = dents[--ndents];
    if (inodes[ino].type == T_DIR) {
        inodes[ino].nlink = 0;
        inodes[ino].live = 0;
    } else {
        inodes[ino].nlink--;
        put_inode(ino);
    }
}

static void set_size(struct minode* m, size_t size) {
    if (size > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < size) cap *= 2;
        m->data = realloc(m->data, cap);
        if (!m->data) die("%s%s", "out of memory", "");
        m->cap = cap;
    }
    if (size > m->size) memset(m->data + m->size, 0, size - m->size);
    data_bytes = data_bytes - m->size + size;
    m->size = size;
}
static void model_write(int ino, size_t off, const unsigned char* buf, size_t len) {
    struct minode* m = &inodes[ino];
    if (off + len > m->size) set_size(m, off + len);
    memcpy(m->data + off, buf, len);
}
/* Whether a file may grow to SIZE within the budgets. */
static int fits(int ino, size_t size) {
    return size <= FILE_MAX && data_bytes - inodes[ino].size + size <= DATA_BUDGET;
}

/* ---- doing it for real ---- */

static int check(int expect, long r) {
    int got = r < 0 ? errno : 0;
    if (got != expect) die("expected %s, got %s", errname(expect), errname(got));
    return got;
}
/* Outcome counts per operation, printed at the end. */
enum { OP_CREATE, OP_WRITE, OP_HOLE, OP_APPEND, OP_TRUNCATE, OP_UNLINK, OP_RENAME, OP_MKDIR,
       OP_RMDIR, OP_LINK, OP_SYMLINK, OP_FSYNC, OP_READ, OP_HOLD, OP_HELD_WRITE, OP_HELD_TRUNC,
       OP_CLOSE, OP_SYNC, NOPS };
static const char* const op_names[NOPS] = {
    "create", "write", "hole", "append", "truncate", "unlink", "rename", "mkdir", "rmdir",
    "link", "symlink", "fsync", "read", "hold", "held_write", "held_ftruncate", "close", "sync"};
static unsigned outcome[NOPS][8]; /* ok, ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY, EINVAL, EPERM */
static const int outcome_errno[8] = {0, ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY, EINVAL, EPERM};
static void count(int op, int e) {
    for (int i = 0; i < 8; i++)
        if (outcome_errno[i] == e) outcome[op][i]++;
}

/* The expected result of opening (dir, name) for writing, following symbolic links (whose
 * targets never exist). */
static int open_expect(int d) {
    if (d < 0) return ENOENT;
    int t = inodes[dents[d].ino].type;
    return t == T_DIR ? EISDIR : t == T_LNK ? ENOENT : 0;
}

static unsigned char wbuf[65536];
static size_t fill(size_t max) {
    size_t len = 1 + below((unsigned)max);
    uint64_t s = rnd();
    for (size_t i = 0; i < len; i++) {
        if ((i & 7) == 0) s = s * 6364136223846793005ull + 1442695040888963407ull;
        wbuf[i] = (unsigned char)(s >> (8 * (i & 7)));
    }
    return len;
}

static void op_create(void) {
    int dir;
    char name, path[4096];
    pick_new(&dir, &name);
    entry_path(dir, name, path, sizeof path);
    int e = lookup(dir, name) >= 0 ? EEXIST : 0;
    if (doit) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        check(e, fd);
        if (fd >= 0) close(fd);
    }
    if (!e) add_dent(dir, name, new_inode(T_REG));
    count(OP_CREATE, e);
}

/* write (at an offset inside or just past the file), hole (far past the end) or append. */
static void op_write(int kind) {
    int dir;
    char name, path[4096];
    pick(T_REG, &dir, &name);
    entry_path(dir, name, path, sizeof path);
    int d = lookup(dir, name);
    int e = open_expect(d);
    size_t len = fill(kind == OP_HOLE ? 4096 : sizeof wbuf);
    size_t off = 0;
    if (!e) {
        size_t size = inodes[dents[d].ino].size;
        off = kind == OP_APPEND ? size
              : kind == OP_HOLE  ? size + 1 + below(1u << 20)
                                 : below((unsigned)size + 8192);
        if (!fits(dents[d].ino, off + len)) { /* over budget: empty the file instead */
            kind = OP_TRUNCATE;
            off = len = 0;
        }
    }
    if (doit) {
        int fd = open(path, O_WRONLY | (kind == OP_APPEND ? O_APPEND : 0));
        check(e, fd);
        if (fd >= 0) {
            long r = kind == OP_TRUNCATE ? ftruncate(fd, 0)
                     : kind == OP_APPEND ? write(fd, wbuf, len)
                                         : pwrite(fd, wbuf, len, (off_t)off);
            check(0, r);
            if (kind != OP_TRUNCATE && (size_t)r != len) die("short write %s%s", "", "");
            close(fd);
        }
    }
    if (!e) {
        if (kind == OP_TRUNCATE) set_size(&inodes[dents[d].ino], 0);
        else model_write(dents[d].ino, off, wbuf, len);
    }
    count(kind, e);
}

static void op_truncate(void) {
    int dir;
    char name, path[4096];
    pick(T_REG, &dir, &name);
    entry_path(dir, name, path, sizeof path);
    int d = lookup(dir, name);
    int e = open_expect(d);
    size_t len = 0;
    if (!e) {
        size_t size = inodes[dents[d].ino].size;
        len = below(4) == 0 ? size + below(300000) : below((unsigned)size + 1);
        if (!fits(dents[d].ino, len)) len = 0;
    }
    if (doit) check(e, truncate(path, (off_t)len));
    if (!e) set_size(&inodes[dents[d].ino], len);
    count(OP_TRUNCATE, e);
}

static void op_unlink(void) {
    int dir;
    char name, path[4096];
    pick(T_NONE, &dir, &name);
    entry_path(dir, name, path, sizeof path);
    int d = lookup(dir, name);
    int e = d < 0 ? ENOENT : inodes[dents[d].ino].type == T_DIR ? EISDIR : 0;
    if (doit) check(e, unlink(path));
    if (!e) drop_dent(d);
    count(OP_UNLINK, e);
}

static void op_mkdir(void) {
    int dir;
    char name, path[4096];
    pick_new(&dir, &name);
    if (lookup(dir, name) < 0 && count_dirs() >= MAX_DIRS) return; /* keep the tree small */
    entry_path(dir, name, path, sizeof path);
    int e = lookup(dir, name) >= 0 ? EEXIST : 0;
    if (doit) check(e, mkdir(path, 0755));
    if (!e) {
        int ino = new_inode(T_DIR);
        inodes[ino].nlink = 2;
        add_dent(dir, name, ino);
    }
    count(OP_MKDIR, e);
}

static void op_rmdir(void) {
    int dir;
    char name, path[4096];
    pick(T_DIR, &dir, &name);
    for (int i = 0, n = below(2) ? ndents : 0; i < n; i++) /* half the time an empty one */
        if (inodes[dents[i].ino].type == T_DIR && dir_children(dents[i].ino, 0) == 0) {
            dir = dents[i].dir;
            name = dents[i].name[0];
            break;
        }
    entry_path(dir, name, path, sizeof path);
    int d = lookup(dir, name);
    int e = d < 0                                    ? ENOENT
            : inodes[dents[d].ino].type != T_DIR     ? ENOTDIR
            : dir_children(dents[d].ino, 0) > 0      ? ENOTEMPTY
                                                     : 0;
    if (doit) check(e, rmdir(path));
    if (!e) drop_dent(d);
    count(OP_RMDIR, e);
}

static void op_link(void) {
    int odir, ndir;
    char oname, nname, opath[4096], npath[4096];
    pick(below(3) ? T_REG : T_NONE, &odir, &oname);
    pick_new(&ndir, &nname);
    entry_path(odir, oname, opath, sizeof opath);
    entry_path(ndir, nname, npath, sizeof npath);
    int od = lookup(odir, oname);
    int e = od < 0                                 ? ENOENT
            : lookup(ndir, nname) >= 0             ? EEXIST
            : inodes[dents[od].ino].type == T_DIR  ? EPERM
                                                   : 0;
    if (doit) check(e, link(opath, npath));
    if (!e) {
        inodes[dents[od].ino].nlink++;
        add_dent(ndir, nname, dents[od].ino);
    }
    count(OP_LINK, e);
}

static void op_symlink(void) {
    int dir;
    char name, path[4096], target[160];
    pick_new(&dir, &name);
    entry_path(dir, name, path, sizeof path);
    /* Targets never exist ("zz..." is no name of the pool); some are longer than the 60
     * bytes of ext2's fast symbolic links. */
    int n = snprintf(target, sizeof target, "zz%u/", below(1000));
    int extra = below(3) == 0 ? 60 + below(80) : below(20);
    for (int i = 0; i < extra; i++) target[n++] = (char)('k' + below(10));
    target[n] = 0;
    int e = lookup(dir, name) >= 0 ? EEXIST : 0;
    if (doit) check(e, symlink(target, path));
    if (!e) {
        int ino = new_inode(T_LNK);
        strcpy(inodes[ino].target, target);
        add_dent(dir, name, ino);
    }
    count(OP_SYMLINK, e);
}

/* The result of rename(2) as Linux's do_renameat2 and vfs_rename order their checks. */
static int rename_expect(int odir, char oname, int ndir, char nname, int noreplace) {
    int od = lookup(odir, oname), nd = lookup(ndir, nname);
    if (od < 0) return ENOENT;
    if (noreplace && nd >= 0) return EEXIST;
    int src = dents[od].ino;
    int is_dir = inodes[src].type == T_DIR;
    /* The source is an ancestor of the target's directory. */
    if (is_dir && odir != ndir && is_ancestor(src, ndir)) return EINVAL;
    /* The target is an ancestor of the source. */
    if (nd >= 0 && inodes[dents[nd].ino].type == T_DIR && odir != ndir &&
        is_ancestor(dents[nd].ino, odir))
        return ENOTEMPTY;
    if (nd < 0) return 0;
    int dst = dents[nd].ino;
    if (src == dst) return 0;
    int dst_dir = inodes[dst].type == T_DIR;
    if (is_dir && !dst_dir) return ENOTDIR;
    if (!is_dir && dst_dir) return EISDIR;
    if (dst_dir && dir_children(dst, 0) > 0) return ENOTEMPTY;
    return 0;
}

static void op_rename(void) {
    int odir, ndir;
    char oname, nname, opath[4096], npath[4096];
    pick(T_NONE, &odir, &oname);
    pick(T_NONE, &ndir, &nname);
    int noreplace = below(5) == 0;
    entry_path(odir, oname, opath, sizeof opath);
    entry_path(ndir, nname, npath, sizeof npath);
    int e = rename_expect(odir, oname, ndir, nname, noreplace);
    if (doit) {
        long r = noreplace ? syscall(SYS_renameat2, AT_FDCWD, opath, AT_FDCWD, npath, RENAME_NOREPLACE)
                           : rename(opath, npath);
        check(e, r);
    }
    if (!e) {
        int od = lookup(odir, oname), nd = lookup(ndir, nname);
        if (nd < 0 || dents[nd].ino != dents[od].ino) {
            int ino = dents[od].ino;
            if (nd >= 0) {
                drop_dent(nd);
                od = lookup(odir, oname); /* drop_dent moved the last entry */
            }
            dents[od] = dents[ndents - 1];
            ndents--;
            add_dent(ndir, nname, ino);
        }
    }
    count(OP_RENAME, e);
}

static void op_fsync(void) {
    int dir;
    char name, path[4096];
    pick(below(4) ? T_REG : T_DIR, &dir, &name);
    entry_path(dir, name, path, sizeof path);
    int d = lookup(dir, name);
    int e = d < 0 ? ENOENT : inodes[dents[d].ino].type == T_LNK ? ENOENT : 0;
    int data_only = below(2);
    if (doit) {
        int fd = open(path, O_RDONLY);
        check(e, fd);
        if (fd >= 0) {
            check(0, data_only ? fdatasync(fd) : fsync(fd));
            close(fd);
        }
    }
    count(OP_FSYNC, e);
}

static int compare_file(int fd, int ino, const char* path) {
    struct minode* m = &inodes[ino];
    static unsigned char buf[65536];
    size_t at = 0;
    for (;;) {
        ssize_t r = pread(fd, buf, sizeof buf, (off_t)at);
        if (r < 0) die("read %s: %s", path, errname(errno));
        if (r == 0) break;
        if (at + (size_t)r > m->size) die("%s is longer than the model%s", path, "");
        if (memcmp(buf, m->data + at, (size_t)r) != 0) die("%s differs from the model%s", path, "");
        at += (size_t)r;
    }
    if (at != m->size) die("%s is shorter than the model%s", path, "");
    return 0;
}

static void op_read(void) {
    int dir;
    char name, path[4096];
    pick(T_REG, &dir, &name);
    entry_path(dir, name, path, sizeof path);
    int d = lookup(dir, name);
    int e = open_expect(d);
    if (e == EISDIR) e = 0; /* opening a directory read-only works; reading it fails */
    if (doit) {
        int fd = open(path, O_RDONLY);
        check(e, fd);
        if (fd >= 0) {
            if (inodes[dents[d].ino].type == T_DIR) {
                char c;
                check(EISDIR, read(fd, &c, 1));
            } else {
                compare_file(fd, dents[d].ino, path);
            }
            close(fd);
        }
    }
    count(OP_READ, e);
}

/* Descriptors held open across other operations (an unlinked file lives on). */
static void op_hold(void) {
    if (nheld == MAX_HELD) return;
    int d = random_dent(T_REG);
    if (d < 0) return;
    char path[4096];
    entry_path(dents[d].dir, dents[d].name[0], path, sizeof path);
    int fd = -1;
    if (doit) {
        fd = open(path, O_RDWR);
        check(0, fd);
    }
    held[nheld].fd = fd;
    held[nheld].ino = dents[d].ino;
    nheld++;
    inodes[dents[d].ino].opens++;
    count(OP_HOLD, 0);
}

static void op_held(int kind) {
    if (nheld == 0) return;
    int h = below((unsigned)nheld), ino = held[h].ino;
    struct minode* m = &inodes[ino];
    if (kind == OP_CLOSE) {
        if (doit) check(0, close(held[h].fd));
        held[h] = held[--nheld];
        m->opens--;
        put_inode(ino);
    } else if (kind == OP_HELD_TRUNC) {
        size_t len = below((unsigned)m->size + 1);
        if (doit) check(0, ftruncate(held[h].fd, (off_t)len));
        set_size(m, len);
    } else {
        size_t len = fill(sizeof wbuf), off = below((unsigned)m->size + 4096);
        if (!fits(ino, off + len)) return;
        if (doit) {
            long r = pwrite(held[h].fd, wbuf, len, (off_t)off);
            check(0, r);
            if ((size_t)r != len) die("short write %s%s", "", "");
        }
        model_write(ino, off, wbuf, len);
    }
    count(kind, 0);
}

static void one_op(void) {
    static const struct {
        int op, weight;
    } mix[] = {
        {OP_CREATE, 12}, {OP_WRITE, 14}, {OP_HOLE, 4},  {OP_APPEND, 8},      {OP_TRUNCATE, 6},
        {OP_UNLINK, 5},  {OP_RENAME, 10}, {OP_MKDIR, 5}, {OP_RMDIR, 2},      {OP_LINK, 6},
        {OP_SYMLINK, 5}, {OP_FSYNC, 4},  {OP_READ, 6},  {OP_HOLD, 2},       {OP_HELD_WRITE, 3},
        {OP_HELD_TRUNC, 1}, {OP_CLOSE, 2},
    };
    int total = 0;
    for (size_t i = 0; i < sizeof mix / sizeof mix[0]; i++) total += mix[i].weight;
    int k = below((unsigned)total), op = 0;
    for (size_t i = 0; i < sizeof mix / sizeof mix[0]; i++)
        if ((k -= mix[i].weight) < 0) {
            op = mix[i].op;
            break;
        }
    opname = op_names[op];
    switch (op) {
    case OP_CREATE: op_create(); break;
    case OP_WRITE: case OP_HOLE: case OP_APPEND: op_write(op); break;
    case OP_TRUNCATE: op_truncate(); break;
    case OP_UNLINK: op_unlink(); break;
    case OP_RENAME: op_rename(); break;
    case OP_MKDIR: op_mkdir(); break;
    case OP_RMDIR: op_rmdir(); break;
    case OP_LINK: op_link(); break;
    case OP_SYMLINK: op_symlink(); break;
    case OP_FSYNC: op_fsync(); break;
    case OP_READ: op_read(); break;
    case OP_HOLD: op_hold(); break;
    default: op_held(op); break;
    }
}

/* ---- the final check: the real tree against the model ---- */

static uint64_t digest = 0xcbf29ce484222325ull;
static void hash(const void* p, size_t n) {
    const unsigned char* b = p;
    for (size_t i = 0; i < n; i++) digest = (digest ^ b[i]) * 0x100000001b3ull;
}
static int cmp_char(const void* a, const void* b) { return *(const char*)a - *(const char*)b; }
static unsigned nfiles, ndirs, nlinks;
static unsigned long long nbytes;

static void check_dir(int dir, const char* path) {
    char model_names[MAX_DENTS], real_names[MAX_DENTS];
    int nm = 0, nr = 0;
    for (int i = 0; i < ndents; i++)
        if (dents[i].dir == dir) model_names[nm++] = dents[i].name[0];
    DIR* dp = opendir(path);
    if (!dp) die("opendir %s: %s", path, errname(errno));
    struct dirent* de;
    while ((de = readdir(dp)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (strlen(de->d_name) != 1 || nr == MAX_DENTS) die("unexpected entry %s in %s", de->d_name, path);
        real_names[nr++] = de->d_name[0];
    }
    closedir(dp);
    qsort(model_names, (size_t)nm, 1, cmp_char);
    qsort(real_names, (size_t)nr, 1, cmp_char);
    if (nm != nr || memcmp(model_names, real_names, (size_t)nm) != 0) {
        model_names[nm] = real_names[nr] = 0;
        die("names differ: model [%s], real [%s]", model_names, real_names);
    }
    for (int k = 0; k < nm; k++) {
        int ino = dents[lookup(dir, model_names[k])].ino;
        struct minode* m = &inodes[ino];
        char p[4096];
        snprintf(p, sizeof p, "%s/%c", path, model_names[k]);
        struct stat st;
        if (lstat(p, &st) < 0) die("lstat %s: %s", p, errname(errno));
        int type = S_ISREG(st.st_mode) ? T_REG : S_ISDIR(st.st_mode) ? T_DIR : S_ISLNK(st.st_mode) ? T_LNK : T_NONE;
        if (type != m->type) die("%s has the wrong type%s", p, "");
        long long want_nlink = type == T_DIR ? 2 + dir_children(ino, 1) : m->nlink;
        if ((long long)st.st_nlink != want_nlink) die("%s has the wrong link count%s", p, "");
        if (m->real_ino == -1) {
            for (int j = 1; j < ninodes; j++)
                if (inodes[j].live && inodes[j].real_ino == (long long)st.st_ino)
                    die("%s shares an inode with another file%s", p, "");
            m->real_ino = (long long)st.st_ino;
        } else if (m->real_ino != (long long)st.st_ino) {
            die("%s is not the same inode as its other links%s", p, "");
        }
        hash(&model_names[k], 1);
        hash(&type, sizeof type);
        /* (A directory's size is its filesystem's own.) */
        uint64_t links = (uint64_t)st.st_nlink, size = type == T_DIR ? 0 : (uint64_t)st.st_size;
        hash(&links, sizeof links);
        hash(&size, sizeof size);
        if (type == T_REG) {
            if ((size_t)st.st_size != m->size) die("%s has the wrong size%s", p, "");
            int fd = open(p, O_RDONLY);
            if (fd < 0) die("open %s: %s", p, errname(errno));
            compare_file(fd, ino, p);
            close(fd);
            hash(m->data, m->size); /* equal to what was read back */
            nfiles++;
            nbytes += m->size;
        } else if (type == T_LNK) {
            char t[256];
            ssize_t n = readlink(p, t, sizeof t - 1);
            if (n < 0) die("readlink %s: %s", p, errname(errno));
            t[n] = 0;
            if (strcmp(t, m->target) != 0) die("%s points to %s", p, t);
            hash(t, (size_t)n);
            nlinks++;
        } else {
            ndirs++;
            hash("/", 1);
            check_dir(ino, p);
            hash("\\", 1);
        }
    }
}

int main(int argc, char** argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: fsstress DIR SEED OPS [verify]\n");
        return 2;
    }
    root = argv[1];
    rng_state = strtoull(argv[2], NULL, 0);
    int ops = atoi(argv[3]);
    doit = !(argc > 4 && !strcmp(argv[4], "verify"));
    inodes[0].type = T_DIR;
    inodes[0].live = 1;
    inodes[0].real_ino = -1;
    if (doit && mkdir(root, 0755) < 0 && errno != EEXIST) {
        perror(root);
        return 1;
    }
    for (opno = 1; opno <= ops; opno++) {
        one_op();
        if (opno % 1000 == 0) {
            opname = "sync";
            if (doit) sync();
            count(OP_SYNC, 0);
        }
    }
    while (nheld > 0) { /* close what is still held */
        opname = "close";
        if (doit) check(0, close(held[nheld - 1].fd));
        nheld--;
        inodes[held[nheld].ino].opens--;
        put_inode(held[nheld].ino);
    }
    opname = NULL;
    check_dir(0, root);
    printf("fsstress seed %s: %d operations%s\n", argv[2], ops, doit ? "" : " replayed");
    for (int op = 0; op < NOPS; op++) {
        printf("%-15s", op_names[op]);
        for (int i = 0; i < 8; i++)
            if (outcome[op][i]) printf(" %s=%u", errname(outcome_errno[i]), outcome[op][i]);
        printf("\n");
    }
    printf("tree: %u files (%llu bytes), %u directories, %u symbolic links\n", nfiles, nbytes, ndirs, nlinks);
    printf("digest %016llx\n", (unsigned long long)digest);
    return 0;
}
