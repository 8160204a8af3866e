// Signals from outside (a kill of the process, a terminal's Ctrl-C or Ctrl-Z): the program
// and a child in its process group report what each got and with which si_code. Driven by
// tests/cli/host-signals-check, natively and under emu (where emu passes them on).
//   host_signals: prints "ready", then waits for one signal (INT, QUIT, TERM, HUP, USR1);
//   on SIGTSTP's default stop and SIGCONT it reports "continued".
//   host_signals epipe|sigpipe: writes to stdout (a pipe whose reader leaves) until it
//   fails: exit 3 on EPIPE with SIGPIPE ignored; sigpipe dies of SIGPIPE.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got, code, cont, usr2;
static void on_sig(int s, siginfo_t* si, void* u) {
    (void)u;
    if (!got) got = s, code = si->si_code;
}
static void on_cont(int s) { (void)s, cont = 1; }
static void on_usr2(int s) { (void)s, usr2 = 1; }

static void handle(int sig, int siginfo) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    if (siginfo) {
        sa.sa_sigaction = on_sig;
        sa.sa_flags = SA_SIGINFO;
    } else {
        sa.sa_handler = sig == SIGCONT ? on_cont : on_usr2;
    }
    sigaction(sig, &sa, 0);
}

static void say(const char* who) {
    if (got) printf("%s got %s (si_code %d)\n", who, strsignal(got), code);
    else printf("%s got nothing before SIGUSR2\n", who);
    fflush(stdout);
}

static int write_until_broken(int ignore) {
    static char buf[65536];
    memset(buf, 'x', sizeof buf);
    if (ignore) signal(SIGPIPE, SIG_IGN);
    for (;;)
        if (write(1, buf, sizeof buf) < 0) return errno == EPIPE ? 3 : 4;
}

int main(int argc, char** argv) {
    if (argc > 1) return write_until_broken(!strcmp(argv[1], "epipe"));
    const int sigs[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1};
    for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; ++i) handle(sigs[i], 1);
    handle(SIGCONT, 0);
    handle(SIGUSR2, 0);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    sigprocmask(SIG_BLOCK, &block, &old);
    pid_t child = fork();
    if (child == 0) {  // waits for a signal from outside or its parent's SIGUSR2
        while (!got && !usr2) sigsuspend(&old);
        say("child");
        _exit(0);
    }
    printf("ready\n");
    fflush(stdout);
    while (!got) sigsuspend(&old);
    if (cont) printf("continued\n");
    kill(child, SIGUSR2);  // a child that got nothing ends now
    int st;
    waitpid(child, &st, 0);
    say("parent");
    return 0;
}
