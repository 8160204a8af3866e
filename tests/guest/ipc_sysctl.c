/* /proc/sys/kernel's System V IPC limits (ipc/ipc_sysctl.c), as LTP's shmget03, msgget03
 * and semget05 read them: shmmax, shmall, shmmni, msgmax, msgmni, msgmnb and sem (four
 * tab-separated values), with the kernel's defaults. Only read: a write would change the
 * host's limits in the native run. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    const char *names[] = {"shmmax", "shmall", "shmmni", "msgmax", "msgmni", "msgmnb", "sem"};
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++) {
        char path[64], buf[128] = "";
        snprintf(path, sizeof path, "/proc/sys/kernel/%s", names[i]);
        int fd = open(path, O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        printf("%s: %s", names[i], n > 0 ? buf : "missing\n");
        if (fd >= 0) close(fd);
    }
    return 0;
}
