// Emulated physical RAM: one memfd-backed host buffer; a physical address is an offset into it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "mmu/types.h"

namespace mmu {

class PhysMemory {
public:
    // Creates RAM of `bytes` (a multiple of PAGE_SIZE) backed by a memfd.
    static ErrorOr<std::unique_ptr<PhysMemory>> create(uint64_t bytes);
    ~PhysMemory();
    PhysMemory(const PhysMemory&) = delete;
    PhysMemory& operator=(const PhysMemory&) = delete;

    uint64_t size() const { return size_; }
    uint64_t num_frames() const { return size_ >> PAGE_SHIFT; }
    int memfd() const { return memfd_; }

    // True if [pa, pa+len) lies inside RAM.
    bool contains(PhysAddr pa, uint64_t len = 1) const {
        return pa.value < size_ && len <= size_ - pa.value;
    }
    // Host view of a physical range ("the bus"); null when outside RAM.
    uint8_t* host(PhysAddr pa, uint64_t len = 1) const {
        return contains(pa, len) ? base_ + pa.value : nullptr;
    }
    template <class T>
    T read(PhysAddr pa) const {
        T v;
        std::memcpy(&v, base_ + pa.value, sizeof(T));
        return v;
    }
    template <class T>
    void write(PhysAddr pa, T v) {
        std::memcpy(base_ + pa.value, &v, sizeof(T));
    }
    // Makes the host allocate the memfd pages behind [pa, pa+len) in 2 MiB blocks
    // (fallocate), once per block: far cheaper than the host's page-by-page shmem faults
    // that aliasing and first touches would otherwise take. Best effort (a host without
    // room falls back to faulting pages in one by one).
    void prefault(PhysAddr pa, uint64_t len);
    static constexpr uint64_t PREFAULT_BLOCK = 2ull << 20;

    void zero_frame(PhysAddr frame) { std::memset(base_ + frame.page_base().value, 0, PAGE_SIZE); }
    void copy_frame(PhysAddr dst, PhysAddr src) {
        std::memcpy(base_ + dst.page_base().value, base_ + src.page_base().value, PAGE_SIZE);
    }

private:
    PhysMemory(int fd, uint8_t* base, uint64_t size)
        : memfd_(fd), base_(base), size_(size), backed_((size + PREFAULT_BLOCK - 1) / PREFAULT_BLOCK, false) {}
    int memfd_;
    uint8_t* base_;
    uint64_t size_;
    std::vector<bool> backed_;  // 2 MiB blocks already fallocated
};

}  // namespace mmu
