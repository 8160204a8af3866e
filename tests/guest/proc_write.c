/* The writable /proc/PID files (fs/proc/base.c): oom_score_adj (oom_score_adj_write: at most
 * 12 bytes, stripped, base 0, [-1000, 1000], EINVAL otherwise; a value below
 * oom_score_adj_min needs CAP_SYS_RESOURCE; fork copies both) and comm (comm_write: the
 * first 15 bytes, a newline kept; EINVAL for another process). Read-only entries refuse a
 * write open with EACCES. An unprivileged part runs when started as root. The legacy oom_adj
 * (oom_adj_write: [-16, 15] or -17, scaled to oom_score_adj, 15 to 1000; lowering needs
 * CAP_SYS_RESOURCE; oom_adj_read scales back, at most 15). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* result(long r) { return r >= 0 ? "ok" : strerror(errno); }

static long put(const char* path, const char* text, size_t len) {
    const int fd = open(path, O_WRONLY);
    if (fd < 0) return -1;
    const long r = write(fd, text, len);
    const int e = errno;
    close(fd);
    errno = e;
    return r;
}

static void show(const char* path) {
    char buf[64] = {0};
    const int fd = open(path, O_RDONLY);
    const long n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0) close(fd);
    printf("  %s -> ", path);
    for (long i = 0; i < n; ++i) printf(buf[i] == '\n' ? "\\n" : "%c", buf[i]);
    printf("\n");
}

static void adj(const char* text) {
    const long r = put("/proc/self/oom_score_adj", text, strlen(text));
    printf("write \"");
    for (const char* c = text; *c; ++c) printf(*c == '\n' ? "\\n" : "%c", *c);
    printf("\": %ld %s\n", r, result(r));
}

static void legacy(const char* text) {
    const long r = put("/proc/self/oom_adj", text, strlen(text));
    printf("oom_adj write \"");
    for (const char* c = text; *c; ++c) printf(*c == '\n' ? "\\n" : "%c", *c);
    printf("\": %ld %s\n", r, result(r));
    show("/proc/self/oom_adj");
    show("/proc/self/oom_score_adj");
}

static void legacy_oom_adj(void) {
    const char* scores[] = {"0", "500", "999", "1000", "59", "58"};
    for (size_t i = 0; i < sizeof scores / sizeof *scores; ++i) {
        adj(scores[i]);
        show("/proc/self/oom_adj");
    }
    legacy("15"); /* the maximum is always 1000 */
    legacy("16");
    legacy("-18");
    legacy("abc");
    legacy("1000000000001");
    legacy(" 7\n"); /* lower: 7 * 1000 / 17 = 411, needs CAP_SYS_RESOURCE */
    adj("0");
    legacy("3"); /* higher: 176 */
    legacy("0x4");
    legacy("-17"); /* OOM_DISABLE: -1000 */
}

static void unprivileged(void) {
    /* The last privileged write (300) is the minimum an unprivileged one may set. */
    adj("300");
    if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)) {
        perror("setresuid");
        fflush(stdout);
        _exit(1);
    }
    adj("200");
    adj("400");
    adj("300");
    show("/proc/self/oom_score_adj");
    fflush(stdout);
    _exit(0);
}

int main(void) {
    show("/proc/self/oom_score_adj");
    adj("500");
    show("/proc/self/oom_score_adj");
    adj("  -42 \n");
    show("/proc/self/oom_score_adj");
    adj("0x10");
    adj("010");
    adj("+7");
    show("/proc/self/oom_score_adj");
    adj("1001");
    adj("-1001");
    adj("abc");
    adj("12x");
    adj("0x");
    adj("--5");
    adj("99999999999");
    adj("\n");
    adj("1000000000001"); /* cut to 12 bytes: 100000000000, still out of range */
    adj("000000000000001"); /* cut to 12 bytes: 0 */
    show("/proc/self/oom_score_adj");
    adj("-1000");
    printf("oom_score at -1000: ");
    show("/proc/self/oom_score");

    /* fork copies the value. */
    adj("123");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        show("/proc/self/oom_score_adj");
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);

    /* A child's comm from its parent: EINVAL; its own: fine. */
    int pipefd[2];
    if (pipe(pipefd)) return 1;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        char c;
        close(pipefd[1]);
        if (read(pipefd[0], &c, 1) < 0) _exit(1);
        _exit(0);
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    long r = put(path, "other", 5);
    printf("comm of a child: %ld %s\n", r, result(r));
    close(pipefd[1]);
    waitpid(pid, NULL, 0);

    r = put("/proc/self/comm", "worker", 6);
    printf("comm worker: %ld %s\n", r, result(r));
    show("/proc/self/comm");
    r = put("/proc/self/comm", "a-very-long-process-name", 24);
    printf("comm of 24 bytes: %ld %s\n", r, result(r));
    show("/proc/self/comm");
    char name[17] = {0};
    prctl(PR_GET_NAME, name);
    printf("  PR_GET_NAME -> %s\n", name);
    r = put("/proc/self/comm", "nl\n", 3);
    printf("comm with a newline: %ld %s\n", r, result(r));
    show("/proc/self/comm");
    r = put("/proc/self/comm", "ab\0cd", 5);
    printf("comm with a NUL: %ld %s\n", r, result(r));
    show("/proc/self/comm");

    const char* readonly[] = {"/proc/self/stat", "/proc/self/status", "/proc/self/oom_score", "/proc/self/maps"};
    for (size_t i = 0; i < sizeof readonly / sizeof *readonly; ++i) {
        errno = 0;
        const int fd = open(readonly[i], O_WRONLY);
        printf("open %s for writing: %s", readonly[i], fd >= 0 ? "ok" : strerror(errno));
        if (fd >= 0) {
            const long w = write(fd, "1", 1);
            printf(", write: %s", result(w));
            close(fd);
        }
        printf("\n");
    }
    legacy_oom_adj();

    if (getuid() == 0) {
        fflush(stdout);
        pid = fork();
        if (pid == 0) unprivileged();
        waitpid(pid, NULL, 0);
    }
    return 0;
}
