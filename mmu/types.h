// Strong address types shared by every layer (and base's error types under mmu::).
// A guest virtual address, a physical address and a host pointer never share a type.
#pragma once
#include <compare>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

#include "base/error.h"

namespace mmu {

inline constexpr uint64_t PAGE_SHIFT = 12;
inline constexpr uint64_t PAGE_SIZE = 1ull << PAGE_SHIFT;
inline constexpr uint64_t PAGE_MASK = ~(PAGE_SIZE - 1);

constexpr uint64_t page_align_down(uint64_t v) { return v & PAGE_MASK; }
constexpr uint64_t page_align_up(uint64_t v) { return (v + PAGE_SIZE - 1) & PAGE_MASK; }

// An address in a guest's (or the guest kernel's) virtual address space.
struct VirtAddr {
    uint64_t value = 0;
    constexpr VirtAddr() = default;
    constexpr explicit VirtAddr(uint64_t v) : value(v) {}
    constexpr VirtAddr page_base() const { return VirtAddr(value & PAGE_MASK); }
    constexpr uint64_t page_offset() const { return value & (PAGE_SIZE - 1); }
    constexpr uint64_t vpn() const { return value >> PAGE_SHIFT; }
    constexpr VirtAddr operator+(uint64_t d) const { return VirtAddr(value + d); }
    constexpr VirtAddr operator-(uint64_t d) const { return VirtAddr(value - d); }
    constexpr uint64_t operator-(VirtAddr o) const { return value - o.value; }
    constexpr auto operator<=>(const VirtAddr&) const = default;
};

// An offset into emulated physical RAM (or, for shadow tables, into Unicorn's physical space).
struct PhysAddr {
    uint64_t value = 0;
    constexpr PhysAddr() = default;
    constexpr explicit PhysAddr(uint64_t v) : value(v) {}
    constexpr uint64_t pfn() const { return value >> PAGE_SHIFT; }
    constexpr PhysAddr page_base() const { return PhysAddr(value & PAGE_MASK); }
    constexpr static PhysAddr from_pfn(uint64_t pfn) { return PhysAddr(pfn << PAGE_SHIFT); }
    constexpr PhysAddr operator+(uint64_t d) const { return PhysAddr(value + d); }
    constexpr auto operator<=>(const PhysAddr&) const = default;
};

// The error types of every layer (base/error.h), under the names mmu has always used.
using base::Error;
using base::ErrorOr;

}  // namespace mmu
