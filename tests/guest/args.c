/* args: prints argc, every argv[i] and every environment variable in order.
 * The oracle runs it under `env -i` so the environment is fixed. */
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=[%s]\n", i, argv[i]);
    if (argv[argc] != NULL)
        printf("argv[argc] is not NULL!\n");
    int n = 0;
    for (char **e = environ; *e; e++, n++)
        printf("env[%d]=[%s]\n", n, *e);
    printf("envc=%d\n", n);
    return 0;
}
