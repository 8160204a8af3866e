/* getpid: process identity calls; prints booleans only. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *yesno(int b) { return b ? "yes" : "no"; }

int main(void)
{
    pid_t pid = getpid(), ppid = getppid();
    long tid = syscall(SYS_gettid);
    printf("getpid() > 0: %s\n", yesno(pid > 0));
    printf("getppid() > 0: %s\n", yesno(ppid > 0));
    printf("getpid() != getppid(): %s\n", yesno(pid != ppid));
    printf("getpid() stable: %s\n", yesno(getpid() == pid));
    printf("gettid() == getpid(): %s\n", yesno(tid == (long)pid));
    printf("getuid() == geteuid(): %s\n", yesno(getuid() == geteuid()));
    printf("getgid() == getegid(): %s\n", yesno(getgid() == getegid()));
    printf("getpgrp() > 0: %s\n", yesno(getpgrp() > 0));
    printf("getsid(0) > 0: %s\n", yesno(getsid(0) > 0));
    printf("getpgrp() == getpid(): %s\n", yesno(getpgrp() == pid));
    printf("getsid(0) == getpid(): %s\n", yesno(getsid(0) == pid));
    printf("getsid(getpid()) == getsid(0): %s\n", yesno(getsid(pid) == getsid(0)));
    return 0;
}
