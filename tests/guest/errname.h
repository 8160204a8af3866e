/* A syscall's result as the oracle tests print it: the value when it succeeded, else the
 * name of errno (or "errno N" for one not listed). One buffer: use one result per printf
 * argument list. */
#pragma once
#include <errno.h>
#include <stdio.h>

static const char *err(long r)
{
    static char buf[32];
    if (r >= 0) {
        snprintf(buf, sizeof buf, "%ld", r);
        return buf;
    }
    static const struct {
        int e;
        const char *name;
    } names[] = {
        {EPERM, "EPERM"},   {ENOENT, "ENOENT"},   {ESRCH, "ESRCH"},         {EINTR, "EINTR"},
        {EIO, "EIO"},       {ENXIO, "ENXIO"},     {E2BIG, "E2BIG"},         {ENOEXEC, "ENOEXEC"},
        {EBADF, "EBADF"},   {ECHILD, "ECHILD"},   {EAGAIN, "EAGAIN"},       {ENOMEM, "ENOMEM"},
        {EACCES, "EACCES"}, {EFAULT, "EFAULT"},   {EBUSY, "EBUSY"},         {EEXIST, "EEXIST"},
        {EXDEV, "EXDEV"},   {ENODEV, "ENODEV"},   {ENOTDIR, "ENOTDIR"},     {EISDIR, "EISDIR"},
        {EINVAL, "EINVAL"}, {ENFILE, "ENFILE"},   {EMFILE, "EMFILE"},       {ENOTTY, "ENOTTY"},
        {ETXTBSY, "ETXTBSY"}, {EFBIG, "EFBIG"},   {ENOSPC, "ENOSPC"},       {ESPIPE, "ESPIPE"},
        {EROFS, "EROFS"},   {EMLINK, "EMLINK"},   {EPIPE, "EPIPE"},         {EDOM, "EDOM"},
        {ERANGE, "ERANGE"}, {EDEADLK, "EDEADLK"}, {ENAMETOOLONG, "ENAMETOOLONG"}, {ENOLCK, "ENOLCK"},
        {ENOSYS, "ENOSYS"}, {ENOTEMPTY, "ENOTEMPTY"}, {ELOOP, "ELOOP"},     {ENOMSG, "ENOMSG"},
        {EIDRM, "EIDRM"},   {ENODATA, "ENODATA"}, {ETIME, "ETIME"},         {EOVERFLOW, "EOVERFLOW"},
        {EOPNOTSUPP, "EOPNOTSUPP"}, {ETIMEDOUT, "ETIMEDOUT"}, {EOWNERDEAD, "EOWNERDEAD"},
        {ENOTRECOVERABLE, "ENOTRECOVERABLE"}, {ECANCELED, "ECANCELED"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i)
        if (names[i].e == errno) return names[i].name;
    snprintf(buf, sizeof buf, "errno %d", errno);
    return buf;
}
