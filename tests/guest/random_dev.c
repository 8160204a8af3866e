/* The random devices and kernel.random (drivers/char/random.c): RNDGETENTCNT on /dev/random
 * and /dev/urandom equals entropy_avail; the privileged pool ioctls answer 0 to root; an
 * unknown random ioctl is EINVAL, and /dev/null has none (ENOTTY); poolsize, entropy_avail,
 * write_wakeup_threshold and urandom_min_reseed_secs; boot_id stays the same across reads,
 * uuid is new on every read, both version 4 UUIDs. Run as root. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "errname.h"

/* uapi/linux/random.h (musl has no kernel headers). */
#define RNDGETENTCNT _IOR('R', 0x00, int)
#define RNDZAPENTCNT _IO('R', 0x04)
#define RNDCLEARPOOL _IO('R', 0x06)
#define RNDRESEEDCRNG _IO('R', 0x07)

static int read_int(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "/proc/sys/kernel/random/%s", name);
    FILE *f = fopen(path, "r");
    int v = -1;
    if (!f || fscanf(f, "%d", &v) != 1) v = -1;
    if (f) fclose(f);
    return v;
}

static void read_uuid(const char *name, char out[64])
{
    char path[128];
    snprintf(path, sizeof path, "/proc/sys/kernel/random/%s", name);
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (!fgets(out, 64, f)) out[0] = 0;
    fclose(f);
}

/* A version 4 UUID in text: 8-4-4-4-12 lowercase hex digits and a newline. */
static int is_uuid4(const char *s)
{
    if (strlen(s) != 37 || s[36] != '\n') return 0;
    for (int i = 0; i < 36; ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return 0;
        } else if (!strchr("0123456789abcdef", s[i])) {
            return 0;
        }
    }
    return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

int main(void)
{
    const char *names[] = {"poolsize", "entropy_avail", "write_wakeup_threshold", "urandom_min_reseed_secs"};
    for (int i = 0; i < 4; ++i) printf("%s: %d\n", names[i], read_int(names[i]));
    const char *devs[] = {"/dev/random", "/dev/urandom"};
    for (int i = 0; i < 2; ++i) {
        int fd = open(devs[i], O_RDONLY);
        int cnt = -1;
        long r = ioctl(fd, RNDGETENTCNT, &cnt);
        printf("%s RNDGETENTCNT: %s, equals entropy_avail: %s\n", devs[i], err(r),
               cnt == read_int("entropy_avail") ? "yes" : "no");
        printf("%s RNDZAPENTCNT: %s\n", devs[i], err(ioctl(fd, RNDZAPENTCNT)));
        printf("%s RNDCLEARPOOL: %s\n", devs[i], err(ioctl(fd, RNDCLEARPOOL)));
        printf("%s RNDRESEEDCRNG: %s\n", devs[i], err(ioctl(fd, RNDRESEEDCRNG)));
        printf("%s unknown 'R' ioctl: %s\n", devs[i], err(ioctl(fd, _IO('R', 0x30))));
        close(fd);
    }
    int null = open("/dev/null", O_RDONLY);
    int cnt = 0;
    printf("/dev/null RNDGETENTCNT: %s\n", err(ioctl(null, RNDGETENTCNT, &cnt)));
    close(null);
    char a[64], b[64], u1[64], u2[64];
    read_uuid("boot_id", a);
    read_uuid("boot_id", b);
    read_uuid("uuid", u1);
    read_uuid("uuid", u2);
    printf("boot_id: a UUID %s, the same twice %s\n", is_uuid4(a) ? "yes" : "no", strcmp(a, b) ? "no" : "yes");
    printf("uuid: a UUID %s, new on each read %s\n", is_uuid4(u1) && is_uuid4(u2) ? "yes" : "no",
           strcmp(u1, u2) ? "yes" : "no");
    int fd = open("/proc/sys/kernel/random/uuid", O_WRONLY);
    printf("open uuid for writing: %s\n", err(fd));
    if (fd >= 0) close(fd);
    return 0;
}
