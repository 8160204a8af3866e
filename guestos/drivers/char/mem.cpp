// /dev/null, /dev/zero, /dev/full (memory_fops in drivers/char/mem.c) and /dev/random,
// /dev/urandom (drivers/char/random.c, whose bytes come from the host's getrandom).
#include "guestos/drivers/char/mem.h"

#include <fcntl.h>
#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "guestos/drivers/tty/tty.h"
#include "guestos/include/cred.h"
#include "guestos/include/sysctl.h"
#include "guestos/include/uapi/fcntl.h"

namespace guestos {

namespace {

enum : unsigned { MINOR_NULL = 3, MINOR_ZERO = 5, MINOR_FULL = 7, MINOR_RANDOM = 8, MINOR_URANDOM = 9 };

// One of the memory devices: reads and writes by minor number, seeks that always succeed.
class mem_file final : public file {
public:
    mem_file(std::shared_ptr<inode> ino, unsigned minor) : file(std::move(ino)), minor_(minor) {}

    // read_null: end of file; read_iter_zero: zeros; random: the host's random bytes.
    long read(uint8_t* buf, uint64_t n, int64_t*) override {
        if (minor_ == MINOR_NULL) return 0;
        if (minor_ == MINOR_RANDOM || minor_ == MINOR_URANDOM) return fill_random(buf, n);
        std::memset(buf, 0, n);
        return static_cast<long>(n);
    }
    // write_null and write_zero swallow everything; write_full has no space; random mixes
    // the bytes into its pool (here: drops them).
    long write(const uint8_t*, uint64_t n, int64_t*) override {
        return minor_ == MINOR_FULL ? -ENOSPC : static_cast<long>(n);
    }
    bool has_splice_read() const override { return true; }
    bool has_splice_write() const override { return true; }  // splice_write_null / _zero
    // null_lseek / full_lseek and memory_lseek: the position is 0 and stays so.
    long llseek(int64_t, int) override { return f_pos = 0; }
    // random_ioctl: the pool's entropy count (always ready: POOL_READY_BITS), and the
    // privileged pool controls, which change nothing now; EINVAL for the rest. The other
    // memory devices have no ioctl.
    bool ioctl_sizes(unsigned long cmd, size_t& in_len, size_t& out_len) const override {
        if (!is_random()) return false;
        in_len = cmd == RNDADDTOENTCNT_ ? sizeof(int) : 0;
        out_len = cmd == RNDGETENTCNT_ ? sizeof(int) : 0;
        return cmd == RNDGETENTCNT_ || cmd == RNDADDTOENTCNT_;
    }
    long ioctl(unsigned long cmd, uint8_t* arg, size_t&, size_t& out_len) override {
        if (!is_random()) return -ENOTTY;
        switch (cmd) {
        case RNDGETENTCNT_: {
            const int bits = POOL_READY_BITS;
            std::memcpy(arg, &bits, sizeof bits);
            out_len = sizeof bits;
            return 0;
        }
        case RNDADDTOENTCNT_:
        case RNDZAPENTCNT_:
        case RNDCLEARPOOL_:
        case RNDRESEEDCRNG_: return capable(CAP_SYS_ADMIN_) ? 0 : -EPERM;
        case RNDADDENTROPY_: return capable(CAP_SYS_ADMIN_) ? 0 : -EPERM;
        default: return -EINVAL;
        }
    }

private:
    // uapi/linux/random.h.
    static constexpr unsigned long RNDGETENTCNT_ = 0x80045200, RNDADDTOENTCNT_ = 0x40045201,
                                   RNDADDENTROPY_ = 0x40085203, RNDZAPENTCNT_ = 0x5204, RNDCLEARPOOL_ = 0x5206,
                                   RNDRESEEDCRNG_ = 0x5207;
    static constexpr int POOL_READY_BITS = 256;
    bool is_random() const { return minor_ == MINOR_RANDOM || minor_ == MINOR_URANDOM; }
    static long fill_random(uint8_t* buf, uint64_t n) {
        uint64_t done = 0;
        while (done < n) {
            const ssize_t r = getrandom(buf + done, n - done, 0);
            if (r < 0) return done ? static_cast<long>(done) : -errno;
            done += static_cast<uint64_t>(r);
        }
        return static_cast<long>(n);
    }
    unsigned minor_;
};

}  // namespace

// /dev/tty, the controlling terminal (tty_open_current_tty): emu's own, if the caller's
// session has it; ENXIO otherwise, as for a process without one.
static long tty_open(std::shared_ptr<inode> ino, unsigned flags, std::shared_ptr<file>& out) {
    const task_struct* t = get_current();
    if (t && !t->signal->tty) return -ENXIO;
    const int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return -ENXIO;
    out = std::make_shared<console_file>(fd, ConsoleOwnsFd::Yes);
    out->f_inode = std::move(ino);
    out->f_flags = flags & ~(O_CREAT_ | O_EXCL_ | O_TRUNC_ | O_NOCTTY_);
    return 0;
}

long chrdev_open(std::shared_ptr<inode> ino, unsigned flags, std::shared_ptr<file>& out) {
    const unsigned maj = major(ino->i_rdev), min = minor(ino->i_rdev);
    if (maj == TTYAUX_MAJOR && min == 0) return tty_open(std::move(ino), flags, out);
    if (maj != MEM_MAJOR ||
        (min != MINOR_NULL && min != MINOR_ZERO && min != MINOR_FULL && min != MINOR_RANDOM && min != MINOR_URANDOM))
        return -ENXIO;
    out = std::make_shared<mem_file>(std::move(ino), min);
    out->f_flags = flags & ~(O_CREAT_ | O_EXCL_ | O_TRUNC_ | O_NOCTTY_);
    out->f_mode |= FMODE_NOWAIT;  // the memory devices never wait
    return 0;
}

namespace {

int random_pool_bits = 256;          // poolsize and entropy_avail (POOL_BITS, a ready pool)
int random_write_wakeup_bits = 256;  // accepted and ignored since 5.18
int random_min_reseed_secs = 60;
char boot_id[37];

// A random version 4 UUID in its text form (generate_random_uuid + %pU).
void random_uuid(char out[37]) {
    uint8_t b[16];
    if (getrandom(b, sizeof b, 0) != sizeof b) std::memset(b, 0x42, sizeof b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    std::snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                  b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

// proc_do_uuid: boot_id is made on its first read and kept; uuid is new on every read.
long proc_do_uuid(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    if (write) return -EPERM;
    char fresh[37];
    char* uuid = static_cast<char*>(table->data);
    if (!uuid) {
        random_uuid(fresh);
        uuid = fresh;
    } else if (!uuid[0]) {
        random_uuid(uuid);
    }
    ctl_table t = *table;
    t.data = uuid;
    t.maxlen = 37;
    return proc_dostring(&t, 0, buffer, lenp, ppos);
}

// proc_do_rointvec: a write is accepted and changes nothing.
long proc_do_rointvec(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    if (write) {
        *ppos += static_cast<int64_t>(*lenp);
        return 0;
    }
    return proc_dointvec(table, write, buffer, lenp, ppos);
}

}  // namespace

void random_sysctl_init(ctl_table_root& root) {
    root.register_sysctl("kernel/random",
                         {
                             {"poolsize", &random_pool_bits, sizeof(int), 0444, proc_dointvec},
                             {"entropy_avail", &random_pool_bits, sizeof(int), 0444, proc_dointvec},
                             {"write_wakeup_threshold", &random_write_wakeup_bits, sizeof(int), 0644, proc_do_rointvec},
                             {"urandom_min_reseed_secs", &random_min_reseed_secs, sizeof(int), 0644, proc_do_rointvec},
                             {"boot_id", boot_id, 37, 0444, proc_do_uuid},
                             {"uuid", nullptr, 37, 0444, proc_do_uuid},
                         });
}

}  // namespace guestos
