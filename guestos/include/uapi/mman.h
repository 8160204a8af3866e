// mmap, mprotect, madvise, mremap, msync and mlock numbers (uapi/asm-generic/mman-common.h,
// asm/mman.h).
#pragma once

namespace guestos {

inline constexpr unsigned long PROT_NONE_ = 0x0;
inline constexpr unsigned long PROT_READ_ = 0x1;
inline constexpr unsigned long PROT_WRITE_ = 0x2;
inline constexpr unsigned long PROT_EXEC_ = 0x4;
inline constexpr unsigned long PROT_GROWSDOWN_ = 0x01000000;
inline constexpr unsigned long PROT_GROWSUP_ = 0x02000000;
inline constexpr unsigned long MAP_SHARED_ = 0x01;
inline constexpr unsigned long MAP_PRIVATE_ = 0x02;
inline constexpr unsigned long MAP_SHARED_VALIDATE_ = 0x03;
inline constexpr unsigned long MAP_TYPE_ = 0x0f;
inline constexpr unsigned long MAP_FIXED_ = 0x10;
inline constexpr unsigned long MAP_ANONYMOUS_ = 0x20;
inline constexpr unsigned long MAP_32BIT_ = 0x40;
inline constexpr unsigned long MAP_GROWSDOWN_ = 0x100;
inline constexpr unsigned long MAP_DENYWRITE_ = 0x800;
inline constexpr unsigned long MAP_EXECUTABLE_ = 0x1000;
inline constexpr unsigned long MAP_LOCKED_ = 0x2000;
inline constexpr unsigned long MAP_NORESERVE_ = 0x4000;
inline constexpr unsigned long MAP_POPULATE_ = 0x8000;
inline constexpr unsigned long MAP_NONBLOCK_ = 0x10000;
inline constexpr unsigned long MAP_STACK_ = 0x20000;
inline constexpr unsigned long MAP_HUGETLB_ = 0x40000;
inline constexpr unsigned long MAP_SYNC_ = 0x80000;
inline constexpr unsigned long MAP_FIXED_NOREPLACE_ = 0x100000;

inline constexpr unsigned long MREMAP_MAYMOVE_ = 1, MREMAP_FIXED_ = 2, MREMAP_DONTUNMAP_ = 4;
inline constexpr unsigned long MADV_NORMAL_ = 0, MADV_RANDOM_ = 1, MADV_SEQUENTIAL_ = 2, MADV_WILLNEED_ = 3,
                               MADV_DONTNEED_ = 4, MADV_FREE_ = 8, MADV_REMOVE_ = 9, MADV_DONTFORK_ = 10,
                               MADV_DOFORK_ = 11;
inline constexpr unsigned long MS_ASYNC_ = 1, MS_INVALIDATE_ = 2, MS_SYNC_ = 4;
inline constexpr unsigned long MCL_CURRENT_ = 1, MCL_FUTURE_ = 2, MCL_ONFAULT_ = 4;
inline constexpr unsigned long MLOCK_ONFAULT_ = 1;

}  // namespace guestos
