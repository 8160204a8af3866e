/* dynlink: a dynamically linked program started through its interpreter (PT_INTERP).
 * It checks what the kernel hands the interpreter (AT_BASE at the interpreter's first
 * mapping, AT_ENTRY at this program's _start, AT_PHDR at its program headers), that the
 * libraries the interpreter loaded are listed by dl_iterate_phdr and mapped in
 * /proc/self/maps, that dlopen works at run time, and then execve's errors for an
 * interpreter that is missing, a directory or not an ELF file (a copy of this program whose
 * PT_INTERP names such a path), before it execs itself once as the child. Nothing printed
 * depends on where ASLR puts things. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char _start[];

static const char* base_name(const char* p) {
    const char* s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The interpreter this program names, from its own PT_INTERP (found through AT_PHDR). */
static const char* own_interp(void) {
    const ElfW(Phdr)* ph = (const ElfW(Phdr)*)getauxval(AT_PHDR);
    unsigned long n = getauxval(AT_PHNUM);
    unsigned long bias = 0;
    for (unsigned long i = 0; i < n; i++)
        if (ph[i].p_type == PT_PHDR) bias = (unsigned long)ph - ph[i].p_vaddr;
    for (unsigned long i = 0; i < n; i++)
        if (ph[i].p_type == PT_INTERP) return (const char*)(bias + ph[i].p_vaddr);
    return NULL;
}

/* Whether /proc/self/maps has a mapping starting at `start` of a file named `name`. */
static int mapped_at(unsigned long start, const char* name) {
    FILE* f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo = strtoul(line, NULL, 16);
        char* path = strchr(line, '/');
        if (!path) continue;
        path[strcspn(path, "\n")] = 0;
        if (lo == start && !strcmp(base_name(path), name)) found = 1;
    }
    if (f) fclose(f);
    return found;
}

static int list_object(struct dl_phdr_info* info, size_t size, void* data) {
    (void)size;
    (void)data;
    printf("  object: %s (%d program headers)\n", info->dlpi_name[0] ? base_name(info->dlpi_name) : "(main)",
           info->dlpi_phnum);
    return 0;
}

static const char* errno_name(int e) {
    switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case ELIBBAD: return "ELIBBAD";
    case ENOEXEC: return "ENOEXEC";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case EIO: return "EIO";
    default: return "another errno";
    }
}

/* Runs argv0-path `prog` in a child and prints how its execve failed (or that it ran). */
static void try_exec(const char* what, const char* prog) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char* args[] = {(char*)prog, "child", NULL};
        execv(prog, args);
        printf("%s: execve fails with %s (%d)\n", what, errno_name(errno), errno);
        fflush(stdout);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
}

/* Writes a copy of this program whose PT_INTERP names `fake` (as long as the original). */
static int write_copy(const char* copy, const char* interp, const char* fake) {
    int in = open("/proc/self/exe", O_RDONLY);
    struct stat st;
    if (in < 0 || fstat(in, &st) != 0) return -1;
    char* buf = malloc(st.st_size);
    if (!buf || read(in, buf, st.st_size) != st.st_size) return -1;
    close(in);
    size_t len = strlen(interp);
    for (off_t i = 0; i + (off_t)len < st.st_size; i++)
        if (!memcmp(buf + i, interp, len + 1)) {
            memcpy(buf + i, fake, len);
            break;
        }
    int out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (out < 0 || write(out, buf, st.st_size) != st.st_size) return -1;
    close(out);
    free(buf);
    return 0;
}

int main(int argc, char** argv) {
    const char* interp = own_interp();
    const int child = argc > 1 && !strcmp(argv[1], "child");
    printf("%s: interpreter %s\n", child ? "child" : "parent", interp ? base_name(interp) : "(none)");
    unsigned long base = getauxval(AT_BASE);
    printf("AT_BASE is the interpreter's first mapping: %d\n", interp && mapped_at(base, base_name(interp)));
    printf("AT_ENTRY is _start: %d\n", getauxval(AT_ENTRY) == (unsigned long)_start);
    printf("loaded objects:\n");
    dl_iterate_phdr(list_object, NULL);
#ifdef __GLIBC__
    void* m = dlopen("libm.so.6", RTLD_NOW);
    double (*cosine)(double) = m ? (double (*)(double))dlsym(m, "cos") : NULL;
    printf("dlopen libm, cos(0) = %.1f\n", cosine ? cosine(0.0) : -1.0);
    printf("libm mapped after dlopen: %d\n", m != NULL);
#endif
    if (child) return 7;
    if (!interp) return 1;

    /* A private directory (pids under emu repeat across runs, so they cannot name files). */
    char dir[] = "/tmp/dlXXXXXX", fake[256], copy[64];
    if (!mkdtemp(dir)) {
        printf("cannot make a directory\n");
        return 1;
    }
    snprintf(copy, sizeof copy, "%s/copy", dir);
    snprintf(fake, sizeof fake, "%s/i", dir);
    while (strlen(fake) < strlen(interp)) strcat(fake, "x");
    fake[strlen(interp)] = 0;
    if (strlen(fake) != strlen(interp) || write_copy(copy, interp, fake) != 0) {
        printf("cannot make the copy\n");
        return 1;
    }
    unlink(fake);
    try_exec("interpreter missing", copy);
    mkdir(fake, 0755);
    try_exec("interpreter a directory", copy);
    rmdir(fake);
    /* Shorter than an ELF header (a short read), then long enough but not ELF. */
    static const char text[] = "#!/bin/sh\necho this is a shell script, not an ELF interpreter, and it is long\n";
    const size_t sizes[] = {18, sizeof text - 1};
    for (int i = 0; i < 2; i++) {
        int fd = open(fake, O_WRONLY | O_CREAT | O_TRUNC, 0755);
        if (fd < 0 || write(fd, text, sizes[i]) != (ssize_t)sizes[i]) return 1;
        close(fd);
        try_exec(i ? "interpreter not ELF, 80 bytes" : "interpreter not ELF, 18 bytes", copy);
    }
    unlink(fake);
    unlink(copy);
    rmdir(dir);

    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char* args[] = {"/proc/self/exe", "child", NULL};
        execv(args[0], args);
        _exit(99);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    printf("child exited with %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
