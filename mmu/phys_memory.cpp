#include "mmu/phys_memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>

namespace mmu {

namespace {
constexpr int MADV_POPULATE_WRITE_ = 23;  // Linux 5.14
}  // namespace

ErrorOr<std::unique_ptr<PhysMemory>> PhysMemory::create(uint64_t bytes) {
    if (bytes == 0 || (bytes & (PAGE_SIZE - 1)))
        return Error::from_errno(EINVAL, "RAM size must be a non-zero multiple of 4096");
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return Error::from_errno(errno, "cannot map RAM");
    // prefault backs RAM in 2 MiB blocks: as transparent huge pages where the host has them,
    // one allocation per block instead of 512 page faults (a hint: ignored without THP).
    (void)madvise(p, bytes, MADV_HUGEPAGE);
    return std::unique_ptr<PhysMemory>(new PhysMemory(static_cast<uint8_t*>(p), bytes));
}

void PhysMemory::prefault(PhysAddr pa, uint64_t len) {
    if (!contains(pa, len) || !len) return;
    for (uint64_t b = pa.value / PREFAULT_BLOCK; b <= (pa.value + len - 1) / PREFAULT_BLOCK; ++b) {
        if (backed_[b]) continue;
        backed_[b] = true;
        const uint64_t off = b * PREFAULT_BLOCK;
        (void)madvise(base_ + off, std::min(PREFAULT_BLOCK, size_ - off), MADV_POPULATE_WRITE_);
    }
}

PhysMemory::~PhysMemory() { munmap(base_, size_); }

}  // namespace mmu
