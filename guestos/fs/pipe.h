// Pipes (fs/pipe.c): a ring of page buffers between a read end and a write end. The pages
// are host memory for now, not frames of the emulated RAM (so /proc/meminfo does not count
// them). With one task, a pipe is only ever emptied or filled by that task itself, so a
// read that must wait sleeps until a timer's signal ends the wait.
#pragma once
#include <array>
#include <ctime>
#include <memory>
#include <vector>

#include "guestos/include/fasync.h"
#include "guestos/include/fs.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/wait.h"

namespace guestos {

class ctl_table_root;

inline constexpr unsigned PIPE_DEF_BUFFERS = 16;
inline constexpr size_t PIPE_PAGE_SIZE = 4096;
// pipe_buffer flags.
inline constexpr unsigned PIPE_BUF_FLAG_PACKET = 0x08, PIPE_BUF_FLAG_CAN_MERGE = 0x10;
// pipe2 flags beyond O_CLOEXEC, O_NONBLOCK and O_DIRECT: a notification pipe (O_EXCL).
inline constexpr unsigned O_NOTIFICATION_PIPE = 0200;

// One slot of the ring (struct pipe_buffer): a page and the bytes of it still unread.
struct pipe_buffer {
    std::unique_ptr<std::array<uint8_t, PIPE_PAGE_SIZE>> page;
    unsigned offset = 0, len = 0;
    unsigned flags = 0;
};

// The pipe (struct pipe_inode_info): head and tail run freely, the ring index is them
// modulo ring_size (a power of two), and head - tail slots are in use.
struct pipe_inode_info {
    pipe_inode_info() = default;
    pipe_inode_info(const pipe_inode_info&) = delete;
    pipe_inode_info& operator=(const pipe_inode_info&) = delete;
    ~pipe_inode_info();  // free_pipe_info: its slots leave the user's count
    std::vector<pipe_buffer> bufs;
    unsigned head = 0, tail = 0;
    unsigned max_usage = PIPE_DEF_BUFFERS;  // slots writers may fill (F_SETPIPE_SZ)
    unsigned readers = 0, writers = 0;      // open files with each access
    unsigned r_counter = 1, w_counter = 1;  // opens ever made for each access (a FIFO's partner waits)
    uint64_t i_ino = 0;
    uint32_t user = 0;                           // the real uid whose pipe pages it counts in (pipe->user)
    unsigned long nr_accounted = 0;              // slots counted there
    wait_queue_head rd_wait, wr_wait;            // readers wait for data, writers for room
    fasync_list fasync_readers, fasync_writers;  // ends with O_ASYNC: SIGIO on a write, a read
    timespec i_atime{}, i_mtime{}, i_ctime{};

    unsigned ring_size() const { return static_cast<unsigned>(bufs.size()); }
    pipe_buffer& buf(unsigned index) { return bufs[index & (ring_size() - 1)]; }
    bool empty() const { return head == tail; }
    bool full() const { return head - tail >= max_usage; }
    uint64_t unread_bytes();
};

// An end of a pipe: O_RDONLY reads, O_WRONLY writes, O_RDWR (a FIFO's) both. Closing the
// last descriptor of an end (destroying the file) is pipe_release: the other end then sees
// EOF or EPIPE.
class pipe_file final : public file {
public:
    pipe_file(std::shared_ptr<pipe_inode_info> pipe, unsigned flags);
    ~pipe_file() override;
    long read_iter(kiocb& iocb, uint8_t* buf, uint64_t n) override;
    long write_iter(kiocb& iocb, const uint8_t* buf, uint64_t n) override;
    long getattr(struct stat& st) override;
    bool can_poll() const override { return true; }
    uint32_t poll(poll_table* wait) override;
    long ioctl(unsigned long cmd, uint8_t* arg, size_t& in_len, size_t& out_len) override;
    bool has_fasync() const override { return true; }
    int fasync(int fd, bool on) override;  // pipe_fasync: the list of each end it has
    bool ioctl_sizes(unsigned long cmd, size_t& in_len, size_t& out_len) const override;
    pipe_inode_info& pipe() { return *pipe_; }
    // The writers' count a FIFO reader opened with O_NONBLOCK and no writer saw: poll
    // reports no hang-up until a writer has come and gone (filp->f_pipe).
    unsigned f_pipe = 0;

private:
    long pipe_read(kiocb& iocb, uint8_t* buf, uint64_t n);
    long pipe_write(kiocb& iocb, const uint8_t* buf, uint64_t n);
    bool reads() const { return (f_flags & O_ACCMODE_) != O_WRONLY_; }
    bool writes() const { return (f_flags & O_ACCMODE_) != O_RDONLY_; }
    std::shared_ptr<pipe_inode_info> pipe_;
};

// The pipe behind f, or null when f is no pipe (get_pipe_info).
pipe_inode_info* get_pipe_info(file& f);

// Both ends of a new pipe (create_pipe_files): res[0] reads, res[1] writes; 0 or -errno.
long create_pipe_files(std::shared_ptr<file> res[2], unsigned flags);
// Opens the FIFO at p (fifo_open): its inode's pipe, made on the first open. A reader waits
// for a writer and a writer for a reader, unless O_NONBLOCK (a writer then fails with
// ENXIO); O_RDWR never waits. -ERESTARTSYS when a signal ends the wait.
long fifo_open(const struct path& p, unsigned flags, task_struct& t, std::shared_ptr<file>& out);
// Registers fs.pipe-max-size (a power-of-two size of at least a page: F_SETPIPE_SZ's
// ceiling without CAP_SYS_RESOURCE), fs.pipe-user-pages-hard and fs.pipe-user-pages-soft
// (the pages an unprivileged user's pipes may hold; 0 is no limit).
void pipe_sysctl_init(ctl_table_root& root);
// F_GETPIPE_SZ and F_SETPIPE_SZ (pipe_fcntl): -EBADF when f is no pipe.
long pipe_fcntl(file& f, unsigned cmd, unsigned long arg);

}  // namespace guestos
