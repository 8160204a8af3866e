// Job control on the controlling terminal (run on a pty, as the session's leader in the
// foreground: tests/cli/jobctl-check runs it under script(1)). What it prints are relations
// and errno values, so a native run and one under emu compare equal:
// tcgetpgrp/tcgetsid and /proc/self/stat's tty_nr and tpgid; a background group's read
// (SIGTTIN: stops, or EIO when ignored), tcsetpgrp (SIGTTOU: stops, allowed when blocked),
// write with TOSTOP; tcsetpgrp's errors; setsid and TIOCNOTTY losing the terminal.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static const char* err(int r) { return r < 0 ? strerror(errno) : "ok"; }

// tty_nr and tpgid from /proc/self/stat (fields 7 and 8).
static void stat_tty(int* tty_nr, int* tpgid) {
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    const char* p = strrchr(buf, ')');
    char state;
    int ppid, pgrp, session;
    *tty_nr = *tpgid = -2;
    if (p) sscanf(p + 1, " %c %d %d %d %d %d", &state, &ppid, &pgrp, &session, tty_nr, tpgid);
}

static void show_terminal(const char* who) {
    struct stat st;
    fstat(0, &st);
    const int want = (minor(st.st_rdev) & 0xff) | (major(st.st_rdev) << 8) | ((minor(st.st_rdev) & ~0xff) << 12);
    int tty_nr, tpgid;
    stat_tty(&tty_nr, &tpgid);
    const pid_t fg = tcgetpgrp(0);
    printf("%s: tcgetpgrp %s, is my group %d; tcgetsid is my session %d; tty_nr is stdin's %d (0: %d); "
           "tpgid is my group %d (-1: %d)\n",
           who, fg < 0 ? strerror(errno) : "ok", fg == getpgrp(), tcgetsid(0) == getsid(0), tty_nr == want,
           tty_nr == 0, tpgid == getpgrp(), tpgid == -1);
    int fd = open("/dev/tty", O_RDWR);
    printf("%s: open /dev/tty: %s\n", who, err(fd));
    if (fd >= 0) close(fd);
}

// Runs fn in a child in a new background process group; reports how it ended.
static void background(const char* what, void (*fn)(void)) {
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        fn();
        _exit(0);
    }
    setpgid(pid, pid);
    int st;
    waitpid(pid, &st, WUNTRACED);
    if (WIFSTOPPED(st)) {
        printf("%s: stopped by %s\n", what, strsignal(WSTOPSIG(st)));
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    } else {
        printf("%s: exited %d\n", what, WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
    }
}

static void read_ignoring_ttin(void) {
    signal(SIGTTIN, SIG_IGN);
    char c;
    printf("  read with SIGTTIN ignored: %s\n", err((int)read(0, &c, 1)));
}
static void read_default(void) {
    char c;
    read(0, &c, 1);
    printf("  read came back\n");
}
static void take_terminal_default(void) {
    tcsetpgrp(0, getpgrp());
    printf("  tcsetpgrp came back\n");
}
static pid_t parent_group;
static void take_terminal_blocked(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGTTOU);
    sigprocmask(SIG_BLOCK, &s, 0);
    printf("  tcsetpgrp with SIGTTOU blocked: %s\n", err(tcsetpgrp(0, getpgrp())));
    printf("  now in the foreground: %d\n", tcgetpgrp(0) == getpgrp());
    printf("  gives it back: %s\n", err(tcsetpgrp(0, parent_group)));
}
static void write_bg(void) { printf("  a background write\n"); }
static void new_session(void) {
    printf("  setsid of a group leader: %s\n", err(setsid()));
    pid_t p = fork();
    if (p == 0) {
        printf("  setsid: %s\n", err(setsid()));
        show_terminal("  new session");
        printf("  TIOCSCTTY: %s\n", err(ioctl(0, TIOCSCTTY, 0)));
        printf("  tcgetsid: %s\n", err(tcgetsid(0)));
        _exit(0);
    }
    waitpid(p, 0, 0);
}
static void notty(void) {
    printf("  TIOCNOTTY: %s\n", err(ioctl(0, TIOCNOTTY)));
    show_terminal("  after TIOCNOTTY");
    printf("  TIOCNOTTY again: %s\n", err(ioctl(0, TIOCNOTTY)));
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    parent_group = getpgrp();
    printf("isatty %d, session leader %d, group leader %d\n", isatty(0), getsid(0) == getpid(),
           getpgrp() == getpid());
    show_terminal("main");

    background("background read, SIGTTIN ignored", read_ignoring_ttin);
    background("background read", read_default);
    background("background tcsetpgrp", take_terminal_default);
    background("background tcsetpgrp, SIGTTOU blocked", take_terminal_blocked);
    printf("main in the foreground again: %d\n", tcgetpgrp(0) == getpgrp());
    background("background write, no TOSTOP", write_bg);
    struct termios t;
    tcgetattr(0, &t);
    t.c_lflag |= TOSTOP;
    tcsetattr(0, TCSANOW, &t);
    background("background write, TOSTOP", write_bg);
    t.c_lflag &= ~TOSTOP;
    tcsetattr(0, TCSANOW, &t);

    printf("tcsetpgrp -1: %s\n", err(tcsetpgrp(0, -1)));
    printf("tcsetpgrp to no group: %s\n", err(tcsetpgrp(0, 2147483000)));
    pid_t other = fork();
    if (other == 0) {  // a group of another session
        setsid();
        pause();
        _exit(0);
    }
    usleep(100000);
    printf("tcsetpgrp to another session's group: %s\n", err(tcsetpgrp(0, other)));
    kill(other, SIGKILL);
    waitpid(other, 0, 0);
    printf("TIOCSCTTY when already the leader with it: %s\n", err(ioctl(0, TIOCSCTTY, 0)));

    background("setsid", new_session);
    background("TIOCNOTTY in a group that does not lead the session", notty);
    show_terminal("main at the end");
    return 0;
}
