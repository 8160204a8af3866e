/* fcntl F_CREATED_QUERY (Linux 6.12, f_created_query): 1 for a descriptor whose open created
 * the file (O_CREAT of a missing name), 0 for one that found it (with or without O_CREAT),
 * for a dup of it as for the file itself, 0 for a pipe. In a mkdtemp directory. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "errname.h"

#ifndef F_CREATED_QUERY
#define F_CREATED_QUERY 1028
#endif

static void query(const char *what, int fd) { printf("%-40s %s\n", what, err(fcntl(fd, F_CREATED_QUERY, 0))); }

int main(void)
{
    char dir[] = "/tmp/createdXXXXXX";
    if (!mkdtemp(dir)) return 1;
    char path[64];
    snprintf(path, sizeof path, "%s/f", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    query("O_CREAT|O_EXCL of a new name", fd);
    int dup_fd = dup(fd);
    query("its dup", dup_fd);
    close(dup_fd);
    close(fd);
    fd = open(path, O_RDWR | O_CREAT, 0600);
    query("O_CREAT of an existing name", fd);
    close(fd);
    fd = open(path, O_RDONLY);
    query("a plain open", fd);
    close(fd);
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    query("O_CREAT again after unlink", fd);
    close(fd);
    int p[2];
    if (pipe(p)) return 1;
    query("a pipe", p[0]);
    query("a closed descriptor", 99);
    unlink(path);
    rmdir(dir);
    return 0;
}
