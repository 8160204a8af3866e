// Open files (struct file) and the inodes behind them. A file's operations are virtual
// methods on host buffers; the syscalls copy to and from guest memory around them.
#pragma once
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "guestos/slab_object.h"

namespace guestos {

// An immutable host file image (the executable). The VFS and page cache replace it.
struct inode {
    uint64_t i_ino = 0;
    uint64_t i_dev = 0;
    uint32_t i_mode = 0;
    std::string path;  // as /proc/PID/maps shows it
    std::vector<uint8_t> contents;
    uint64_t i_size() const { return contents.size(); }
};

// An open file description (struct file + its file_operations).
class file {
public:
    explicit file(std::shared_ptr<inode> ino = nullptr) : f_inode(std::move(ino)) {}
    virtual ~file() = default;
    // Reads at *pos and advances it: bytes read or a negative errno (file_operations.read).
    virtual long read(uint8_t* buf, uint64_t n, int64_t* pos);
    virtual long write(const uint8_t* buf, uint64_t n, int64_t* pos);
    virtual long llseek(int64_t offset, int whence);
    virtual long getattr(struct stat& st);
    // ioctl with its argument already copied in; sizes say what to copy in and out.
    virtual long ioctl(unsigned long cmd, uint8_t* arg, size_t& in_len, size_t& out_len);
    virtual bool ioctl_sizes(unsigned long, size_t&, size_t&) const { return false; }
    virtual long status_flags() { return f_flags; }
    virtual long set_status_flags(int flags);

    std::shared_ptr<inode> f_inode;
    int64_t f_pos = 0;
    unsigned f_flags = 0;  // O_RDONLY ... as given to open

    // Its struct file in the filp cache (alloc_empty_file), taken when the file is opened
    // for a task (an fd or a mapping); rewritten at every return from a syscall.
    SlabObject slab;
    // Writes f_count (the references the caller counts), f_flags, f_mode and f_pos.
    void sync_slab(long f_count) const;
};

// An open regular file over an inode's contents (read-only until a filesystem exists).
class inode_file final : public file {
public:
    explicit inode_file(std::shared_ptr<inode> ino) : file(std::move(ino)) {}
    long read(uint8_t* buf, uint64_t n, int64_t* pos) override;
    long llseek(int64_t offset, int whence) override;
};

// A file whose whole content is generated at open (seq_file's single_open).
class seq_file final : public file {
public:
    explicit seq_file(std::string text, uint32_t mode = S_IFREG | 0444) : text_(std::move(text)), mode_(mode) {}
    long read(uint8_t* buf, uint64_t n, int64_t* pos) override;
    long llseek(int64_t offset, int whence) override;
    long getattr(struct stat& st) override;

private:
    std::string text_;
    uint32_t mode_;
};

}  // namespace guestos
