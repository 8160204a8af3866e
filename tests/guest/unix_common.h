/* Shared by the named AF_UNIX socket tests (unix_stream, unix_dgram): the run's directory,
 * a result printer, and path and abstract names made unique by the run's pid. */
#pragma once
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char dir[96];

/* Makes the run's directory, PARENT/<basename(argv0)>.<pid>: 0, or -1 with errno. */
static int make_run_dir(const char *parent, const char *argv0)
{
    const char *base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
    snprintf(dir, sizeof dir, "%s/%s.%d", parent, base, getpid());
    return mkdir(dir, 0755);
}

static void result(const char *what, long r)
{
    if (r < 0) printf("%s: %ld %s\n", what, r, strerror(errno));
    else printf("%s: %ld\n", what, r);
    errno = 0;
}

/* A path name in the test's directory, as a sockaddr_un and its length with the NUL. */
static socklen_t path_addr(struct sockaddr_un *a, const char *name)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    snprintf(a->sun_path, sizeof a->sun_path, "%s/%s", dir, name);
    return offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1;
}

/* An abstract name unique to this run: "\0<basename>.<pid>.<name>". */
static socklen_t abstract_addr(struct sockaddr_un *a, const char *name)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "%s.%s", strrchr(dir, '/') + 1, name);
    return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}
