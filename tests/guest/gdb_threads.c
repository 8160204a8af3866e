/* The gdb thread test's program (tests/gdb): two workers and main meet at a barrier, worker 1
 * calls checkpoint() (where gdb breaks) while worker 2 and main wait at a second barrier, so
 * at the stop all three threads are alive and the other two sleep in futex waits. With the
 * argument "spin" worker 2 spins (runnable, for stepping a thread other than the stopped
 * one) until worker 1 has passed checkpoint(). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_barrier_t meet, leave;
static volatile int spin_mode, checked, spins;

__attribute__((noinline)) void checkpoint(int id) { __asm__ volatile("" : : "r"(id) : "memory"); }

static void* worker(void* arg) {
    int id = (int)(long)arg;
    pthread_barrier_wait(&meet);
    if (id == 1) {
        checkpoint(id);
        checked = 1;
    }
    if (id == 2 && spin_mode)
        while (!checked) spins = spins + 1;
    pthread_barrier_wait(&leave);
    return NULL;
}

int main(int argc, char** argv) {
    pthread_t t[2];
    spin_mode = argc > 1 && !strcmp(argv[1], "spin");
    pthread_barrier_init(&meet, NULL, 3);
    pthread_barrier_init(&leave, NULL, 3);
    for (long i = 0; i < 2; ++i) pthread_create(&t[i], NULL, worker, (void*)(i + 1));
    pthread_barrier_wait(&meet);
    pthread_barrier_wait(&leave);
    for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
    printf("threads met and left\n");
    return 0;
}
