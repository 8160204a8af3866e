/* timerfd: create's and settime's checks, reads of one-shot and periodic timers (the ticks
 * of missed periods), EAGAIN and short reads, gettime and settime's old value, absolute
 * times, disarming, and readiness through poll and epoll. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }

static struct itimerspec ms(long value_ms, long interval_ms)
{
    struct itimerspec its;
    its.it_value.tv_sec = value_ms / 1000;
    its.it_value.tv_nsec = (value_ms % 1000) * 1000000L;
    its.it_interval.tv_sec = interval_ms / 1000;
    its.it_interval.tv_nsec = (interval_ms % 1000) * 1000000L;
    return its;
}

int main(void)
{
    uint64_t ticks;
    struct itimerspec its, old;
    int r;

    errno = 0;
    printf("CLOCK_PROCESS_CPUTIME_ID: %s\n", err(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0)));
    errno = 0;
    printf("CLOCK_MONOTONIC_RAW: %s\n", err(timerfd_create(CLOCK_MONOTONIC_RAW, 0)));
    errno = 0;
    printf("bad flags: %s\n", err(timerfd_create(CLOCK_MONOTONIC, 1)));
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    printf("create: %s, O_NONBLOCK %d, O_RDWR %d, cloexec %d\n", err(fd), !!(fcntl(fd, F_GETFL) & O_NONBLOCK),
           (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, fcntl(fd, F_GETFD));

    its = ms(10, 0);
    errno = 0;
    printf("settime flags 4: %s\n", err(timerfd_settime(fd, 4, &its, NULL)));
    its.it_value.tv_nsec = 1000000000;
    errno = 0;
    printf("settime nsec 1e9: %s\n", err(timerfd_settime(fd, 0, &its, NULL)));
    its = ms(10, 0);
    errno = 0;
    printf("settime bad fd: %s\n", err(timerfd_settime(999, 0, &its, NULL)));
    int p[2];
    pipe(p);
    errno = 0;
    printf("settime on a pipe: %s\n", err(timerfd_settime(p[0], 0, &its, NULL)));
    errno = 0;
    printf("gettime on a pipe: %s\n", err(timerfd_gettime(p[0], &old)));

    /* Disarmed: nothing to read, nothing to poll. */
    errno = 0;
    printf("read disarmed: %s\n", err(read(fd, &ticks, 8)));
    char small[4];
    errno = 0;
    printf("short read: %s\n", err(read(fd, small, 4)));
    timerfd_gettime(fd, &old);
    printf("gettime disarmed: %ld.%09ld %ld.%09ld\n", (long)old.it_value.tv_sec, old.it_value.tv_nsec,
           (long)old.it_interval.tv_sec, old.it_interval.tv_nsec);

    /* Armed far away: gettime shows the time left; settime returns it as the old value. */
    its = ms(10000, 250);
    timerfd_settime(fd, 0, &its, NULL);
    timerfd_gettime(fd, &old);
    printf("armed: left in (9,10]s %d, interval %ld.%09ld\n",
           old.it_value.tv_sec == 9 || (old.it_value.tv_sec == 10 && old.it_value.tv_nsec == 0),
           (long)old.it_interval.tv_sec, old.it_interval.tv_nsec);
    struct pollfd pfd = {fd, POLLIN, 0};
    printf("poll before expiry: %d\n", poll(&pfd, 1, 0));
    its = ms(5, 0);
    timerfd_settime(fd, 0, &its, &old);
    printf("old value: left in (9,10]s %d, interval %ld.%09ld\n",
           old.it_value.tv_sec == 9 || (old.it_value.tv_sec == 10 && old.it_value.tv_nsec == 0),
           (long)old.it_interval.tv_sec, old.it_interval.tv_nsec);

    /* A one-shot expiry: poll sees it, a read takes one tick, then the timer is spent. */
    r = poll(&pfd, 1, -1);
    printf("poll after expiry: %d revents %#x\n", r, pfd.revents);
    r = read(fd, &ticks, 8);
    printf("read: %d ticks %llu\n", r, (unsigned long long)ticks);
    errno = 0;
    printf("read again: %s\n", err(read(fd, &ticks, 8)));
    timerfd_gettime(fd, &old);
    printf("gettime spent: %ld.%09ld\n", (long)old.it_value.tv_sec, old.it_value.tv_nsec);

    /* Periodic: the periods passed while nobody read are counted. */
    its = ms(1, 1);
    timerfd_settime(fd, 0, &its, NULL);
    struct timespec t30 = {0, 30000000};
    nanosleep(&t30, NULL);
    r = read(fd, &ticks, 8);
    printf("periodic read: %d ticks > 10 %d\n", r, ticks > 10);
    timerfd_gettime(fd, &old);
    printf("periodic gettime: left in (0,1ms] %d\n", old.it_value.tv_sec == 0 && old.it_value.tv_nsec > 0 &&
                                                           old.it_value.tv_nsec <= 1000000);
    its = ms(0, 0);
    timerfd_settime(fd, 0, &its, NULL);
    errno = 0;
    printf("disarmed periodic read: %s\n", err(read(fd, &ticks, 8)));
    close(fd);

    /* A blocking read of an absolute CLOCK_REALTIME timer, and one already in the past. */
    fd = timerfd_create(CLOCK_REALTIME, 0);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    its = ms(0, 0);
    its.it_value = now;
    its.it_value.tv_nsec += 3000000;
    if (its.it_value.tv_nsec >= 1000000000) its.it_value.tv_sec++, its.it_value.tv_nsec -= 1000000000;
    timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL);
    r = read(fd, &ticks, 8);
    printf("abstime read: %d ticks %llu\n", r, (unsigned long long)ticks);
    its.it_value.tv_sec = 1;
    its.it_value.tv_nsec = 0;
    timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL);
    r = read(fd, &ticks, 8);
    printf("past abstime read: %d ticks %llu\n", r, (unsigned long long)ticks);
    close(fd);

    /* epoll wakes for an expiry. */
    fd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 77};
    printf("epoll_ctl: %s\n", err(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)));
    its = ms(5, 0);
    timerfd_settime(fd, 0, &its, NULL);
    struct epoll_event out;
    r = epoll_wait(ep, &out, 1, -1);
    printf("epoll_wait: %d data %u events %#x\n", r, out.data.u32, out.events);
    read(fd, &ticks, 8);
    printf("epoll after read: %d\n", epoll_wait(ep, &out, 1, 0));
    return 0;
}
