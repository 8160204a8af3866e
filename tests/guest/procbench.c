/* procbench MODE N [PROGRAM]: the process and thread benchmarks of bench/run-bench.
 *   fork N       fork, the child exits, the parent waits; N times
 *   cow N        fork; the child writes 8 MiB of the parent's memory (copy-on-write); N times
 *   spawn N P    fork + execve of program P + wait; N times
 *   threads N    pthread_create + pthread_join; N times
 *   pingpong N   one byte back and forth between two processes over two pipes; N round trips
 *   mutex N      4 threads add 1 under one mutex, N increments in all
 * Prints one line that is the same on every run. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter, per_thread;

static void *nothing(void *arg) { return arg; }

static void *adder(void *arg)
{
    (void)arg;
    for (long i = 0; i < per_thread; i++) {
        pthread_mutex_lock(&mu);
        counter++;
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

static int wait_child(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: procbench fork|cow|spawn|threads|pingpong|mutex N [PROGRAM]\n");
        return 2;
    }
    const char *mode = argv[1];
    long n = atol(argv[2]), bad = 0;
    if (!strcmp(mode, "fork")) {
        for (long i = 0; i < n; i++) {
            pid_t p = fork();
            if (p == 0) _exit(0);
            bad += wait_child(p) != 0;
        }
    } else if (!strcmp(mode, "cow")) {
        size_t size = 8 << 20;
        char *mem = malloc(size);
        memset(mem, 1, size);
        for (long i = 0; i < n; i++) {
            pid_t p = fork();
            if (p == 0) {
                for (size_t j = 0; j < size; j += 4096) mem[j] = 2;
                _exit(0);
            }
            bad += wait_child(p) != 0;
        }
        bad += mem[4096] != 1;
    } else if (!strcmp(mode, "spawn") && argc > 3) {
        for (long i = 0; i < n; i++) {
            pid_t p = fork();
            if (p == 0) {
                int fd = dup(1);
                close(1);  /* the program's output goes nowhere */
                (void)fd;
                execl(argv[3], argv[3], (char *)NULL);
                _exit(127);
            }
            bad += wait_child(p) != 0;
        }
    } else if (!strcmp(mode, "threads")) {
        for (long i = 0; i < n; i++) {
            pthread_t t;
            void *r;
            pthread_create(&t, NULL, nothing, (void *)i);
            pthread_join(t, &r);
            bad += (long)r != i;
        }
    } else if (!strcmp(mode, "pingpong")) {
        int a[2], b[2];
        pipe(a);
        pipe(b);
        pid_t p = fork();
        char c = 0;
        if (p == 0) {
            for (long i = 0; i < n; i++) {
                read(a[0], &c, 1);
                c++;
                write(b[1], &c, 1);
            }
            _exit(0);
        }
        for (long i = 0; i < n; i++) {
            char out = (char)i, in;
            write(a[1], &out, 1);
            read(b[0], &in, 1);
            bad += in != (char)(out + 1);
        }
        bad += wait_child(p) != 0;
    } else if (!strcmp(mode, "mutex")) {
        pthread_t t[4];
        per_thread = n / 4;
        for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, adder, NULL);
        for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
        bad += counter != per_thread * 4;
    } else {
        fprintf(stderr, "procbench: unknown mode %s\n", mode);
        return 2;
    }
    printf("%s %ld: %s\n", mode, n, bad ? "FAILED" : "ok");
    return bad != 0;
}
