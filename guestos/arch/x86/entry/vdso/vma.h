// The kernel side of the vDSO (arch/x86/entry/vdso/vma.c): the two images built at build
// time, the reserved frames that hold the text and the [vvar] data page, and their mapping
// into each new program (arch_setup_additional_pages -> map_vdso), 6.18's layout: [vvar]
// (4 pages), [vvar_vclock] (2 pages), then [vdso] (2 pages), found top-down like an mmap.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "base/error.h"
#include "guestos/include/mm_types.h"

namespace mmu {
class PhysMemory;
}

namespace guestos {

class BuddyAllocator;

// One vDSO image (struct vdso_image): its bytes (a whole number of pages) and the offsets
// of the entry points the kernel itself uses.
struct vdso_image {
    std::span<const uint8_t> data;
    uint64_t sym___kernel_vsyscall = 0;   // AT_SYSINFO (i386)
    uint64_t sym___kernel_sigreturn = 0;  // i386's default sa_restorer
    uint64_t sym___kernel_rt_sigreturn = 0;
};
const vdso_image& vdso_image_64();
const vdso_image& vdso_image_32();

inline constexpr uint64_t VVAR_PAGES = 4, VVAR_VCLOCK_PAGES = 2;

// The kernel's vDSO: the image's text in reserved frames, the [vvar] data page, and the
// special mappings that hand them out.
struct vdso_pages {
    const vdso_image* image = nullptr;
    std::vector<PhysAddr> text;
    PhysAddr vvar;
    PhysAddr zero_page;            // what [vvar_vclock] shows
    uint8_t* vvar_host = nullptr;  // where emu writes the time data
    vm_special_mapping vdso_mapping{}, vvar_mapping{}, vvar_vclock_mapping{};
};

// Allocates and fills the frames for the image of one ABI (init_vdso_image) and registers
// the data page with the timekeeper.
mmu::ErrorOr<void> init_vdso(BuddyAllocator& buddy, mmu::PhysMemory& ram, bool is64, PhysAddr zero_page,
                             vdso_pages& out);
// Unregisters the data page (before the RAM goes).
void release_vdso(vdso_pages& v);

// Maps [vvar], [vvar_vclock] and [vdso] into mm at a free range found top-down (map_vdso):
// the text's address (also mm.context_vdso), or a negative errno.
long map_vdso(mm_struct& mm, const vdso_pages& v);

}  // namespace guestos
