/* hello: the smallest useful guest program (stdio, puts, printf). */
#include <stdio.h>

int main(void)
{
    puts("Hello, world!");
    printf("The answer is %d (hex %#x, long %ld, str %s)\n", 42, 42, 1234567890L, "ok");
    return 0;
}
