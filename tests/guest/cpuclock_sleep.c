/* clock_nanosleep on CPU-time clocks (posix_cpu_nsleep): a thread clock and an fd clock
 * cannot be slept on, the caller's own thread clock is EINVAL, a past absolute expiry
 * returns at once, and a sleep on the process clock (which a sleeping process never
 * advances) ends only by a signal: EINTR with a handler, death by SIGALRM without (142).
 * emu once slept such a sleep on the host, where the guest's alarm could not end it. */
#define _GNU_SOURCE
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
static void h(int s) { (void)s; }
static void show(const char* w, long r) { printf("%-34s %ld %s\n", w, r, r < 0 ? strerror(errno) : ""); fflush(stdout); errno = 0; }
int main(void) {
    struct timespec ts = {3, 0};
    show("thread clock", syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &ts, 0));
    show("bad cpu clock", syscall(SYS_clock_nanosleep, -5, 0, &ts, 0));
    show("thread clock of self", syscall(SYS_clock_nanosleep, -2, 0, &ts, 0));
    struct timespec past = {0, 0};
    show("abs past", syscall(SYS_clock_nanosleep, -6, TIMER_ABSTIME, &past, 0));
    struct sigaction sa = {0};
    sa.sa_handler = h;
    sigaction(SIGALRM, &sa, 0);
    alarm(1);
    struct timespec rem = {0, 0};
    show("process clock, alarm with handler", syscall(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0, &ts, &rem));
    signal(SIGALRM, SIG_DFL);
    alarm(1);
    show("not reached", syscall(SYS_clock_nanosleep, -6, 0, &ts, 0));
    return 0;
}
