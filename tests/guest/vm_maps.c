/* vm_maps: the format and read semantics of /proc/self/maps. Every line parses as
 * "start-end perms offset major:minor inode[ name]" with lines sorted and disjoint, the name
 * padded to column 73 (a 64-bit kernel's width); the executable's lines (perms, file offsets,
 * layout relative to the first one, inode and device the same as stat gives) and the bss
 * after them; [heap] follows brk up and down; [stack] holds the locals. Reading in 1-byte and
 * 7-byte pieces, after EOF, after lseek and with pread gives the same text; /proc/self,
 * /proc/PID and /proc/thread-self agree. 300 alternating-protection VMAs (a text far longer
 * than a page) and their merge. Addresses are printed relative only. */
#include "vm_common.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

struct line {
    unsigned long long start, end, offset, inode;
    unsigned major, minor;
    char perms[5];
    const char *name; /* inside the text; "" if none */
    int name_column;
};

#define MAX_LINES 1000
static struct line lines[MAX_LINES];
static int nlines, bad_lines;

static int hexlen(const char *s)
{
    int n = 0;
    while ((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')) n++;
    return n;
}

/* Strict parse of one line (no newline). Returns 0 if it is malformed. */
static int parse_line(char *s, struct line *l)
{
    char *p = s, *q;
    int n;
    memset(l, 0, sizeof *l);
    if ((n = hexlen(p)) < 8) return 0;
    l->start = strtoull(p, NULL, 16);
    p += n;
    if (*p++ != '-' || (n = hexlen(p)) < 8) return 0;
    l->end = strtoull(p, NULL, 16);
    p += n;
    if (*p++ != ' ') return 0;
    if (!strchr("r-", p[0]) || !strchr("w-", p[1]) || !strchr("x-", p[2]) || !strchr("ps", p[3])) return 0;
    memcpy(l->perms, p, 4);
    p += 4;
    if (*p++ != ' ' || (n = hexlen(p)) < 8) return 0;
    l->offset = strtoull(p, NULL, 16);
    p += n;
    if (*p++ != ' ' || (n = hexlen(p)) < 2) return 0;
    l->major = (unsigned)strtoul(p, NULL, 16);
    p += n;
    if (*p++ != ':' || (n = hexlen(p)) < 2) return 0;
    l->minor = (unsigned)strtoul(p, NULL, 16);
    p += n;
    if (*p++ != ' ' || *p < '0' || *p > '9') return 0;
    l->inode = strtoull(p, &q, 10);
    p = q;
    if (*p++ != ' ') return 0; /* a space follows the inode even without a name */
    if (*p == 0) {
        l->name = "";
        return 1;
    }
    while (*p == ' ') p++;
    if (*p == 0) return 0;
    l->name = p;
    l->name_column = (int)(p - s);
    return l->start < l->end;
}

static void parse_maps(void)
{
    nlines = bad_lines = 0;
    read_maps();
    for (char *s = maps_text; *s && nlines < MAX_LINES;) {
        char *nl = strchr(s, '\n');
        if (!nl) { /* the text must end with a newline */
            bad_lines++;
            break;
        }
        *nl = 0;
        if (parse_line(s, &lines[nlines])) nlines++;
        else bad_lines++;
        s = nl + 1;
    }
}

static struct line *find_named(const char *name)
{
    for (int i = 0; i < nlines; i++)
        if (!strcmp(lines[i].name, name)) return &lines[i];
    return NULL;
}

static char text2[sizeof maps_text];

/* Reads fd to EOF in pieces of `piece` bytes into text2; returns the length. */
static size_t read_pieces(int fd, size_t piece)
{
    size_t n = 0;
    ssize_t r;
    while (n + piece < sizeof text2 && (r = read(fd, text2 + n, piece)) > 0) n += (size_t)r;
    text2[n] = 0;
    return n;
}

static const char *same_as_maps(const char *path, size_t piece)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return en(errno);
    size_t n = read_pieces(fd, piece);
    close(fd);
    read_maps();
    return n == strlen(maps_text) && !memcmp(text2, maps_text, n) ? "yes" : "no";
}

int main(void)
{
    reserve();

    /* 1. Format, order. */
    parse_maps();
    printf("malformed lines: %d\n", bad_lines);
    int sorted = 1, named_columns_ok = 1;
    for (int i = 0; i < nlines; i++) {
        if (i && lines[i].start < lines[i - 1].end) sorted = 0;
        if (lines[i].name[0] && lines[i].name_column != 73) named_columns_ok = 0;
    }
    printf("sorted and disjoint: %s\n", sorted ? "yes" : "no");
    printf("every name at column 73: %s\n", named_columns_ok ? "yes" : "no");

    /* 2. The executable. */
    static char exe[4096];
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[el > 0 ? el : 0] = 0;
    struct stat st;
    int st_ok = stat(exe, &st) == 0;
    int first = -1, last = -1, same_file = 1;
    for (int i = 0; i < nlines; i++) {
        if (strcmp(lines[i].name, exe)) continue;
        if (first < 0) first = i;
        last = i;
        printf("exe line: +%07llx-+%07llx %s %08llx\n", lines[i].start - lines[first].start,
               lines[i].end - lines[first].start, lines[i].perms, lines[i].offset);
        if (!st_ok || lines[i].inode != (unsigned long long)st.st_ino || lines[i].major != major(st.st_dev) ||
            lines[i].minor != minor(st.st_dev))
            same_file = 0;
    }
    printf("exe lines found: %s\n", first >= 0 ? "yes" : "no");
    printf("exe lines show the inode and device stat gives: %s\n", first >= 0 && same_file ? "yes" : "no");
    if (last >= 0 && last + 1 < nlines && lines[last + 1].start == lines[last].end && !lines[last + 1].name[0])
        printf("after them: +%07llx-+%07llx %s %08llx %02x:%02x %llu (bss)\n",
               lines[last + 1].start - lines[first].start, lines[last + 1].end - lines[first].start,
               lines[last + 1].perms, lines[last + 1].offset, lines[last + 1].major, lines[last + 1].minor,
               lines[last + 1].inode);
    else
        printf("after them: no anonymous line\n");
    extern char etext[], edata[], end[];
    int text_in = 0, data_in = 0, end_in = 0;
    for (int i = 0; i < nlines; i++) {
        uintptr_t t = (uintptr_t)&main, d = (uintptr_t)edata - 1, e = (uintptr_t)end - 1;
        if (t >= lines[i].start && t < lines[i].end) text_in = lines[i].perms[2] == 'x' && !strcmp(lines[i].name, exe);
        if (d >= lines[i].start && d < lines[i].end) data_in = lines[i].perms[1] == 'w';
        if (e >= lines[i].start && e < lines[i].end) end_in = lines[i].perms[1] == 'w';
    }
    (void)etext;
    printf("main in an executable line of the exe: %s\n", text_in ? "yes" : "no");
    printf("edata-1 and end-1 in writable lines: %s %s\n", data_in ? "yes" : "no", end_in ? "yes" : "no");

    /* 3. [heap] follows brk. */
    uintptr_t b0 = (uintptr_t)syscall(SYS_brk, 0);
    uintptr_t b1 = (uintptr_t)syscall(SYS_brk, b0 + 3 * PAGE + 5);
    printf("brk grown by 3 pages + 5: %s\n", b1 == b0 + 3 * PAGE + 5 ? "yes" : "no");
    parse_maps();
    struct line *h = find_named("[heap]");
    uintptr_t rounded = (b1 + PAGE - 1) & ~(PAGE - 1);
    printf("[heap]: %s, perms %s, offset %08llx, ends at the page-rounded brk: %s\n", h ? "yes" : "no",
           h ? h->perms : "?", h ? h->offset : 0, h && h->end == rounded ? "yes" : "no");
    uintptr_t b2 = (uintptr_t)syscall(SYS_brk, b1 - 2 * PAGE);
    parse_maps();
    h = find_named("[heap]");
    rounded = (b2 + PAGE - 1) & ~(PAGE - 1);
    printf("brk shrunk by 2 pages: %s; [heap] ends at the page-rounded brk: %s\n",
           b2 == b1 - 2 * PAGE ? "yes" : "no", h && h->end == rounded ? "yes" : "no");

    /* 4. [stack]. */
    volatile char local = 0;
    struct line *sk = find_named("[stack]");
    printf("[stack]: %s, perms %s, offset %08llx, holds a local: %s\n", sk ? "yes" : "no", sk ? sk->perms : "?",
           sk ? sk->offset : 0,
           sk && (uintptr_t)&local >= sk->start && (uintptr_t)&local < sk->end ? "yes" : "no");

    /* 5. Read semantics. */
    printf("1-byte reads give the same text: %s\n", same_as_maps("/proc/self/maps", 1));
    printf("7-byte reads give the same text: %s\n", same_as_maps("/proc/self/maps", 7));
    printf("4096-byte reads give the same text: %s\n", same_as_maps("/proc/self/maps", 4096));
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)getpid());
    printf("/proc/PID/maps gives the same text: %s\n", same_as_maps(path, 1000));
    printf("/proc/thread-self/maps gives the same text: %s\n", same_as_maps("/proc/thread-self/maps", 1000));
    int fd = open("/proc/self/maps", O_RDONLY);
    size_t n = read_pieces(fd, 1 << 16);
    char c;
    printf("read at EOF: %zd\n", read(fd, &c, 1));
    printf("lseek to 0: %ld\n", (long)lseek(fd, 0, SEEK_SET));
    size_t n2 = read_pieces(fd, 1 << 16);
    printf("read again after lseek: %s\n", n2 == n ? "same length" : "other length");
    char pbuf[32];
    memset(pbuf, 0, sizeof pbuf);
    ssize_t pr = pread(fd, pbuf, 20, 10);
    read_maps();
    printf("pread of 20 bytes at offset 10: %zd, %s\n", pr, pr == 20 && !memcmp(pbuf, maps_text + 10, 20) ? "matches" : "differs");
    errno = 0;
    ssize_t wr = write(fd, "x", 1);
    printf("write to the read-only descriptor: %zd %s\n", wr, en(errno));
    close(fd);

    /* 6. Many VMAs: 300 pages alternating rw- and r--, then all rw- again. */
    fixed(16, 300, PROT_READ | PROT_WRITE);
    for (int i = 0; i < 300; i++) pg(16 + i)[0] = 1;
    for (int i = 1; i < 300; i += 2) sys_mprotect(pg(16 + i), PAGE, PROT_READ);
    read_maps();
    printf("maps text longer than 8 KiB: %s\n", strlen(maps_text) > 8192 ? "yes" : "no");
    printf("300 alternating pages, 1-byte reads give the same text: %s\n", same_as_maps("/proc/self/maps", 1));
    printf("300 alternating pages, 4000-byte reads give the same text: %s\n", same_as_maps("/proc/self/maps", 4000));
    show("300 alternating pages");
    sys_mprotect(pg(16), 300 * PAGE, PROT_READ | PROT_WRITE);
    show("all rw again");
    sys_munmap(pg(16), 300 * PAGE);
    show("unmapped");
    return 0;
}
