// libunicorn's own (qemu-internal) functions that emu calls directly, beyond the public
// uc_* API. They are exported by Debian's libunicorn.so.2 (2.0.1) with the target suffix
// _x86_64; docs/unicorn.md lists them and says how emu checks each one at start-up
// (Cpu::verify_tlb_flush, the fill interposer's call count). A `cpu` is qemu's CPUState*.
#pragma once
#include <cstdint>

extern "C" {

// uc->cpu when its cpu_index is `index` (Unicorn's x86 CPU keeps UNASSIGNED_CPU_INDEX, -1),
// else null: how emu finds the CPUState of an engine.
void* qemu_get_cpu_x86_64(void* uc, int index);
// Drops every entry of the CPU's software TLB, in every MMU mode, and its jump cache
// (qemu's tlb_flush; a flush that finds the TLB over 70% used may also resize it).
void tlb_flush_x86_64(void* cpu);
// Drops the entries for the page holding vaddr in every MMU mode, its victim-TLB copies
// and the jump-cache entries of that page and the one before (qemu's tlb_flush_page).
void tlb_flush_page_x86_64(void* cpu, uint64_t vaddr);
// Marks the CPU's entry for vaddr dirty: stores to it skip the not-dirty slow path.
void tlb_set_dirty_x86_64(void* cpu, uint64_t vaddr);
// Makes the CPU's entries that write host range [host_start, +length) take the slow path.
void tlb_reset_dirty_x86_64(void* cpu, uintptr_t host_start, uint64_t length);
// Drops every translated block whose code lies in Unicorn's RAM range [start, end) (ram_addr
// offsets, as tlb_protect_code reports them).
void tb_invalidate_phys_range_x86_64(void* uc, uint64_t start, uint64_t end);
// The host address of RAM offset ram_addr (ram_block null: look it up).
void* qemu_map_ram_ptr_x86_64(void* uc, void* ram_block, uint64_t ram_addr);

}  // extern "C"
