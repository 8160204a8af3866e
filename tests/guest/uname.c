/* uname: prints sysname and machine (nothing that varies between hosts). */
#include <stdio.h>
#include <sys/utsname.h>

int main(void)
{
    struct utsname u;
    if (uname(&u) != 0) {
        puts("uname failed");
        return 1;
    }
    printf("sysname=%s\nmachine=%s\n", u.sysname, u.machine);
    return 0;
}
