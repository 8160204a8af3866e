// Signals to a stopped process: SIGKILL ends it at once (one thread or several); SIGTERM
// waits, pending, until SIGCONT lets it act; a stop from the process's own group kill.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static void* spin(void* a) {
    (void)a;
    for (;;) pause();
    return NULL;
}

static void report(const char* what, int st) {
    if (WIFSIGNALED(st)) printf("%s: killed by %d\n", what, WTERMSIG(st));
    else if (WIFSTOPPED(st)) printf("%s: stopped by %d\n", what, WSTOPSIG(st));
    else if (WIFEXITED(st)) printf("%s: exited %d\n", what, WEXITSTATUS(st));
}

// A child that stops itself (how), then gets the parent's signals.
static void stopped_child(const char* what, int threads, int how, int then, int cont) {
    pid_t p = fork();
    if (p == 0) {
        setpgid(0, 0);
        pthread_t t;
        for (int i = 0; i < threads; ++i) pthread_create(&t, NULL, spin, NULL);
        if (how == 1) raise(SIGSTOP);
        else kill(0, SIGTSTP);
        for (;;) pause();
    }
    int st;
    waitpid(p, &st, WUNTRACED);
    report(what, st);
    kill(p, then);
    usleep(100000);
    printf("%s: still there after signal %d: %d\n", what, then, waitpid(p, &st, WNOHANG) == 0);
    if (cont) kill(p, SIGCONT);
    waitpid(p, &st, 0);
    report(what, st);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    stopped_child("SIGKILL, one thread", 0, 1, SIGKILL, 0);
    stopped_child("SIGKILL, three threads", 2, 1, SIGKILL, 0);
    stopped_child("SIGKILL after a group SIGTSTP", 0, 2, SIGKILL, 0);
    stopped_child("SIGTERM, then SIGCONT", 0, 1, SIGTERM, 1);
    stopped_child("SIGTERM, then SIGCONT, three threads", 2, 2, SIGTERM, 1);
    return 0;
}
