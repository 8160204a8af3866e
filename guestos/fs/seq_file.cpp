// seq_file (fs/seq_file.c): a file whose text a show function makes, read in pieces at
// any offset, as /proc files are.
#include "guestos/include/cred.h"
#include "guestos/kernel/time/time.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/fs.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <unistd.h>

#include "guestos/include/filelock.h"
#include "guestos/mm/shmem.h"
#include "guestos/include/page.h"

namespace guestos {

seq_file::seq_file(show_fn show, uint32_t mode, timespec time) : show_(std::move(show)), mode_(mode), time_(time) {
    f_mode &= ~FMODE_PWRITE;  // seq_open: lseek and pread, never pwrite
}

seq_file::show_fn seq_file::single(std::function<std::string()> text) {
    return [text = std::move(text)](int64_t& index) -> std::optional<std::string> {
        if (index != 0) return std::nullopt;
        index = 1;
        return text();
    };
}

void seq_file::traverse(int64_t offset) {
    index_ = 0;
    buf_.clear();
    from_ = 0;
    for (int64_t pos = 0; pos < offset;) {
        auto rec = show_(index_);
        if (!rec) return;
        if (pos + static_cast<int64_t>(rec->size()) > offset) {  // the offset falls inside it
            buf_ = std::move(*rec);
            from_ = static_cast<size_t>(offset - pos);
            return;
        }
        pos += static_cast<int64_t>(rec->size());
    }
}

long seq_file::write(const uint8_t* buf, uint64_t n, int64_t* pos) {
    return write_ ? write_(buf, n) : file::write(buf, n, pos);
}

long seq_file::read(uint8_t* buf, uint64_t n, int64_t* pos) {
    if (*pos < 0) return -EINVAL;
    if (!n) return 0;
    if (*pos == 0) {  // a read from the start begins a new listing
        index_ = 0;
        buf_.clear();
        from_ = 0;
    }
    if (*pos != read_pos_) traverse(*pos);
    read_pos_ = *pos;
    uint64_t copied = 0;
    if (from_ < buf_.size()) {  // the rest of records already made goes first
        copied = std::min<uint64_t>(n, buf_.size() - from_);
        std::memcpy(buf, buf_.data() + from_, copied);
        from_ += copied;
        if (from_ < buf_.size() || copied == n) {
            *pos += static_cast<int64_t>(copied);
            read_pos_ += static_cast<int64_t>(copied);
            return static_cast<long>(copied);
        }
    }
    buf_.clear();
    from_ = 0;
    // One record (the buffer grows until it fits), then more while the reader wants more
    // and they fit the buffer.
    while (auto rec = show_(index_)) {
        if (rec->empty()) continue;
        while (rec->size() >= size_) size_ *= 2;
        buf_ = std::move(*rec);
        for (int64_t next = index_; buf_.size() < n - copied; index_ = next) {
            auto more = show_(next);
            if (!more || buf_.size() + more->size() >= size_) break;
            buf_ += *more;
        }
        break;
    }
    const uint64_t take = std::min<uint64_t>(n - copied, buf_.size());
    std::memcpy(buf + copied, buf_.data(), take);
    from_ = take;
    copied += take;
    *pos += static_cast<int64_t>(copied);
    read_pos_ += static_cast<int64_t>(copied);
    return static_cast<long>(copied);
}

long seq_file::llseek(int64_t offset, int whence) {
    if (whence == SEEK_CUR) offset += f_pos;
    else if (whence != SEEK_SET) return -EINVAL;
    if (offset < 0) return -EINVAL;
    if (offset != read_pos_) {
        traverse(offset);
        read_pos_ = offset;
    }
    return f_pos = offset;
}

long seq_file::getattr(struct stat& st) {
    st = {};
    st.st_mode = mode_;
    st.st_atim = st.st_mtim = st.st_ctim = time_;
    st.st_nlink = 1;
    st.st_blksize = 1024;
    st.st_uid = current_cred().euid;
    st.st_gid = current_cred().egid;
    return 0;
}

}  // namespace guestos
