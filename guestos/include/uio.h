// Where a read puts its bytes (include/linux/uio.h, lib/iov_iter.c): a kernel buffer
// (ITER_KVEC) or a task's user buffers (ITER_IOVEC). A regular file's read copies each
// cached page out through it, so user memory gets the page cache's bytes in one copy.
#pragma once
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "guestos/include/kmap.h"

namespace guestos {

struct mm_struct;

class iov_iter {
public:
    virtual ~iov_iter() = default;
    // Copies n bytes of one frame, from pa (seen through km), to the destination's next n
    // bytes (copy_page_to_iter): the bytes copied, fewer when the destination faulted or
    // the frame had no kernel mapping (short_errno() says which).
    virtual uint64_t copy_page_to_iter(const kernel_mem& km, PhysAddr pa, uint64_t n) = 0;
    // Writes n zero bytes (iov_iter_zero), with the same count.
    virtual uint64_t zero(uint64_t n) = 0;
    // What a copy that moved nothing answers: EFAULT for user memory, ENOMEM for a frame
    // without a kernel mapping.
    int short_errno() const { return short_errno_; }

protected:
    int short_errno_ = EFAULT;
};

// A kernel buffer (iov_iter_kvec).
class kvec_iter final : public iov_iter {
public:
    explicit kvec_iter(uint8_t* buf) : buf_(buf) {}
    uint64_t copy_page_to_iter(const kernel_mem& km, PhysAddr pa, uint64_t n) override {
        if (!with_kernel_mapping(km, pa, n, [&](uint8_t* src) { std::memcpy(buf_, src, n); })) {
            short_errno_ = ENOMEM;
            return 0;
        }
        buf_ += n;
        return n;
    }
    uint64_t zero(uint64_t n) override {
        std::memset(buf_, 0, n);
        buf_ += n;
        return n;
    }

private:
    uint8_t* buf_;
};

// A task's user buffers, (address, length) segments in order (import_iovec's ITER_IOVEC):
// each destination page is faulted in for writing as copy_to_user does, then the copy goes
// from the source frame's kernel mapping straight to it (guestos/mm/memory.cpp).
class user_iter final : public iov_iter {
public:
    user_iter(mm_struct& mm, const std::vector<std::pair<uint64_t, uint64_t>>& iov) : mm_(mm), iov_(iov) {}
    uint64_t copy_page_to_iter(const kernel_mem& km, PhysAddr pa, uint64_t n) override;
    uint64_t zero(uint64_t n) override;

private:
    // Runs fn(user frame, bytes) on the next user bytes, at most n and within one page and
    // one segment; 0 when they cannot be faulted in or none are left.
    template <class Fn>
    uint64_t next_piece(uint64_t n, Fn fn);
    mm_struct& mm_;
    const std::vector<std::pair<uint64_t, uint64_t>>& iov_;
    size_t seg_ = 0;
    uint64_t seg_off_ = 0;
};

}  // namespace guestos
