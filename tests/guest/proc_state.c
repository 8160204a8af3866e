/* proc_state: the State line of /proc/PID/status through a child's life: running (itself),
 * sleeping in pause(), stopped by SIGSTOP, sleeping again after SIGCONT, a zombie after
 * SIGKILL until it is reaped, and gone (ENOENT) after. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The State line's value for pid, or "(none: errno name)". */
static const char *state_of(pid_t pid, char *buf, size_t n) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(buf, n, "(none: %s)", errno == ENOENT ? "ENOENT" : strerror(errno));
        return buf;
    }
    char line[60];
    snprintf(buf, n, "(no State line)");
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "State:\t", 7) == 0) {
            line[strcspn(line, "\n")] = 0;
            snprintf(buf, n, "%s", line + 7);
            break;
        }
    fclose(f);
    return buf;
}

/* Polls until pid's state starts with `want` (up to 5 s), then prints it. */
static void expect_state(const char *when, pid_t pid, char want) {
    char buf[64];
    for (int i = 0; i < 5000 && state_of(pid, buf, sizeof buf)[0] != want; ++i) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    printf("%-28s %s\n", when, state_of(pid, buf, sizeof buf));
}

/* What a zombie's /proc directory still shows: no mm, files or fs any more. */
static void show_zombie(pid_t pid) {
    char path[64], line[60];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    int umask_line = 0, vm_lines = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "Umask:", 6) == 0) umask_line = 1;
        if (strncmp(line, "Vm", 2) == 0) ++vm_lines;
        if (strncmp(line, "FDSize:", 7) == 0 || strncmp(line, "Name:", 5) == 0) printf("zombie status %s", line);
    }
    if (f) fclose(f);
    printf("zombie status Umask line: %s, Vm lines: %d\n", umask_line ? "yes" : "no", vm_lines);
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    f = fopen(path, "r");
    printf("zombie cmdline: %s, %zu bytes\n", f ? "opens" : "fails", f ? fread(line, 1, sizeof line, f) : 0);
    if (f) fclose(f);
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    errno = 0;
    ssize_t n = readlink(path, line, sizeof line);
    printf("zombie exe readlink: %zd %s\n", n, n < 0 && errno == ENOENT ? "ENOENT" : strerror(errno));
}

int main(void) {
    char buf[64];
    printf("%-28s %s\n", "self", state_of(getpid(), buf, sizeof buf));
    pid_t child = fork();
    if (child < 0) return 1;
    if (child == 0) {
        for (;;) pause();
    }
    expect_state("child in pause()", child, 'S');
    kill(child, SIGSTOP);
    int status;
    if (waitpid(child, &status, WUNTRACED) != child || !WIFSTOPPED(status)) return 2;
    expect_state("child after SIGSTOP", child, 'T');
    kill(child, SIGCONT);
    expect_state("child after SIGCONT", child, 'S');
    kill(child, SIGKILL);
    expect_state("child after SIGKILL", child, 'Z');
    show_zombie(child);
    if (waitpid(child, &status, 0) != child) return 3;
    printf("%-28s %s\n", "reaped: killed by", strsignal(WTERMSIG(status)));
    printf("%-28s %s\n", "child after wait", state_of(child, buf, sizeof buf));
    return 0;
}
