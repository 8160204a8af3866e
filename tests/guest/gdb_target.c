/* The program the gdb tests (tests/gdb) debug: a function to break in with arguments and a
 * local, globals to print and set, a loop to step through, and an exit code gdb reports.
 * "segv" ends in a SIGSEGV at address 16; "sleep" sleeps 2 s first (Ctrl-C while blocked);
 * "spin" computes for a while (Ctrl-C while running). Built with -g -O0. */
#include <stdio.h>
#include <string.h>
#include <time.h>

int counter = 0;
int exit_code = 3;
char message[32] = "hello from the guest";
volatile long spin_sink;

__attribute__((noinline)) int add(int a, int b) {
    int sum = a + b;
    counter += sum;
    return sum;
}

int main(int argc, char** argv) {
    int local = 42;
    if (argc > 1 && strcmp(argv[1], "sleep") == 0) {
        struct timespec ts = {2, 0};
        nanosleep(&ts, NULL);
    }
    if (argc > 1 && strcmp(argv[1], "spin") == 0)
        for (long i = 0; i < 400000000L; ++i) spin_sink += i;
    for (int i = 0; i < 3; ++i) add(i, local);
    printf("counter=%d local=%d message=%s\n", counter, local, message);
    fflush(stdout);
    if (argc > 1 && strcmp(argv[1], "segv") == 0) *(volatile int*)16 = 1;
    return exit_code;
}
