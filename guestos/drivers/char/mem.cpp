// /dev/null, /dev/zero, /dev/full (memory_fops in drivers/char/mem.c) and /dev/random,
// /dev/urandom (drivers/char/random.c, whose bytes come from the host's getrandom).
#include "guestos/drivers/char/mem.h"

#include <fcntl.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>

#include "guestos/drivers/tty/tty.h"
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

private:
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

}  // namespace guestos
