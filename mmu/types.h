// Strong address types and the error-as-value type shared by every layer.
// A guest virtual address, a physical address and a host pointer never share a type.
#pragma once
#include <compare>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

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

// An error carried as a value: a Linux errno plus a message for humans.
struct Error {
    int errno_value = 0;  // positive errno (ENOMEM, EFAULT, ...)
    std::string message;
    static Error from_errno(int e, std::string msg = {}) { return Error{e, std::move(msg)}; }
};

// ErrorOr<T>: a T or an Error (SerenityOS style; std::expected is C++23).
template <class T>
class [[nodiscard]] ErrorOr {
public:
    ErrorOr(T v) : v_(std::move(v)) {}
    ErrorOr(Error e) : v_(std::move(e)) {}
    bool is_error() const { return std::holds_alternative<Error>(v_); }
    explicit operator bool() const { return !is_error(); }
    T& value() { return std::get<T>(v_); }
    const T& value() const { return std::get<T>(v_); }
    T release_value() { return std::move(std::get<T>(v_)); }
    const Error& error() const { return std::get<Error>(v_); }
    T* operator->() { return &value(); }
    T& operator*() { return value(); }
private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] ErrorOr<void> {
public:
    ErrorOr() = default;
    ErrorOr(Error e) : err_(std::move(e)), has_err_(true) {}
    bool is_error() const { return has_err_; }
    explicit operator bool() const { return !has_err_; }
    const Error& error() const { return err_; }
private:
    Error err_;
    bool has_err_ = false;
};

}  // namespace mmu
