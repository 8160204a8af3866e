#include "mmu/phys_memory.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <sys/mman.h>
#include <unistd.h>

namespace mmu {

ErrorOr<std::unique_ptr<PhysMemory>> PhysMemory::create(uint64_t bytes) {
    if (bytes == 0 || (bytes & (PAGE_SIZE - 1)))
        return Error::from_errno(EINVAL, "RAM size must be a non-zero multiple of 4096");
    int fd = memfd_create("emu-ram", MFD_CLOEXEC);
    if (fd < 0) return Error::from_errno(errno, "memfd_create failed");
    if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
        int e = errno;
        close(fd);
        return Error::from_errno(e, "cannot size RAM memfd");
    }
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        close(fd);
        return Error::from_errno(e, "cannot map RAM");
    }
    return std::unique_ptr<PhysMemory>(new PhysMemory(fd, static_cast<uint8_t*>(p), bytes));
}

void PhysMemory::prefault(PhysAddr pa, uint64_t len) {
    if (!contains(pa, len) || !len) return;
    for (uint64_t b = pa.value / PREFAULT_BLOCK; b <= (pa.value + len - 1) / PREFAULT_BLOCK; ++b) {
        if (backed_[b]) continue;
        backed_[b] = true;
        const uint64_t off = b * PREFAULT_BLOCK;
        (void)fallocate(memfd_, 0, static_cast<off_t>(off), static_cast<off_t>(std::min(PREFAULT_BLOCK, size_ - off)));
    }
}

PhysMemory::~PhysMemory() {
    munmap(base_, size_);
    close(memfd_);
}

}  // namespace mmu
