// syslog(2) (kernel/printk/printk.c do_syslog): emu's kernel log is empty. The actions that
// read it return nothing (SYSLOG_ACTION_READ waits, interruptibly, for a message), its size is the usual log_buf_len, and the rest are refused as
// Linux refuses them without CAP_SYSLOG (with dmesg_restrict, every action needs it).
#include <cstdio>

#include "guestos/include/cred.h"
#include "guestos/lib/host_sysctl.h"
#include "guestos/include/errno.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/signal.h"
#include "guestos/kernel/sched/core.h"

namespace guestos {

namespace {

enum : int {
    SYSLOG_ACTION_CLOSE = 0,
    SYSLOG_ACTION_OPEN = 1,
    SYSLOG_ACTION_READ = 2,
    SYSLOG_ACTION_READ_ALL = 3,
    SYSLOG_ACTION_READ_CLEAR = 4,
    SYSLOG_ACTION_CLEAR = 5,
    SYSLOG_ACTION_CONSOLE_OFF = 6,
    SYSLOG_ACTION_CONSOLE_ON = 7,
    SYSLOG_ACTION_CONSOLE_LEVEL = 8,
    SYSLOG_ACTION_SIZE_UNREAD = 9,
    SYSLOG_ACTION_SIZE_BUFFER = 10,
};
constexpr long LOG_BUF_LEN = 1 << 17;  // CONFIG_LOG_BUF_SHIFT 17

// The host's kernel.dmesg_restrict, which decides whether reading needs CAP_SYSLOG.
bool dmesg_restrict() {
    static const bool r = host_sysctl("kernel/dmesg_restrict", 1) != 0;
    return r;
}

// check_syslog_permissions: the restricted actions need CAP_SYSLOG (or CAP_SYS_ADMIN).
long check_syslog_permissions(int type) {
    const bool restricted = dmesg_restrict() || (type != SYSLOG_ACTION_READ_ALL && type != SYSLOG_ACTION_SIZE_BUFFER);
    if (restricted && !capable(CAP_SYSLOG_) && !capable(CAP_SYS_ADMIN_)) return -EPERM;
    return 0;
}

}  // namespace

long sys_syslog(SysCtx& c, const uint64_t* a) {
    const int type = static_cast<int32_t>(a[0]);
    const int len = static_cast<int32_t>(a[2]);
    if (long e = check_syslog_permissions(type)) return e;
    switch (type) {
    case SYSLOG_ACTION_CLOSE:
    case SYSLOG_ACTION_OPEN: return 0;
    case SYSLOG_ACTION_READ:
    case SYSLOG_ACTION_READ_CLEAR:
    case SYSLOG_ACTION_READ_ALL:
        if (!a[1] || len < 0) return -EINVAL;
        if (!len) return 0;
        if (!access_ok(a[1], static_cast<uint64_t>(len))) return -EFAULT;
        if (type != SYSLOG_ACTION_READ) return 0;                                            // the whole (empty) log
        while (!signal_pending(c.task)) schedule_hrtimeout(c.task, std::nullopt, "syslog");  // no message comes
        return -ERESTARTSYS;
    case SYSLOG_ACTION_CLEAR:
    case SYSLOG_ACTION_CONSOLE_OFF:
    case SYSLOG_ACTION_CONSOLE_ON: return 0;
    case SYSLOG_ACTION_CONSOLE_LEVEL: return len < 1 || len > 8 ? -EINVAL : 0;
    case SYSLOG_ACTION_SIZE_UNREAD: return 0;
    case SYSLOG_ACTION_SIZE_BUFFER: return LOG_BUF_LEN;
    default: return -EINVAL;
    }
}

}  // namespace guestos
