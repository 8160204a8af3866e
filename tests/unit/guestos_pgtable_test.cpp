// pte_t and its accessors (arch/x86/include/asm/pgtable.h): what each reads and changes,
// and that building and re-protecting entries keeps what the CPU recorded.
#include "guestos/arch/x86/include/asm/pgtable.h"

#include <gtest/gtest.h>

#include "guestos/include/swapops.h"

namespace guestos {
namespace {

using mmu::PagingMode;
using mmu::PhysAddr;

constexpr pgprot_t kUserRw = __pgprot(mmu::_PAGE_PRESENT | mmu::_PAGE_RW | mmu::_PAGE_USER | mmu::_PAGE_NX);

TEST(Pgtable, MkPteReadsBackItsFrameAndBits) {
    const pte_t pte = mk_pte(PagingMode::LongMode4, PhysAddr(0x12345000), kUserRw);
    EXPECT_TRUE(pte_present(pte));
    EXPECT_TRUE(pte_hw_present(pte));
    EXPECT_TRUE(pte_write(pte));
    EXPECT_TRUE(pte_user(pte));
    EXPECT_FALSE(pte_exec(pte));
    EXPECT_FALSE(pte_dirty(pte));
    EXPECT_FALSE(pte_young(pte));
    EXPECT_EQ(pte_pfn(pte), 0x12345u);
    EXPECT_EQ(pte_phys(pte), PhysAddr(0x12345000));
    EXPECT_EQ(pte_flags(pte), pgprot_val(kUserRw));
}

TEST(Pgtable, TwoLevelEntriesHaveNoNxAndStay32BitsWide) {
    const pte_t pte = mk_pte(PagingMode::Legacy32, PhysAddr(0xfffff000), kUserRw);
    EXPECT_EQ(pte_val(pte), 0xfffff007u);
    EXPECT_TRUE(pte_exec(pte)) << "2-level paging cannot forbid execution";
    EXPECT_EQ(pte_pfn(pte), 0xfffffu);
}

TEST(Pgtable, MkAndClearHelpersChangeOneBitEach) {
    const pte_t pte = mk_pte(PagingMode::PAE, PhysAddr(0x1000), kUserRw);
    EXPECT_EQ(pte_val(pte_mkdirty(pte)), pte_val(pte) | mmu::_PAGE_DIRTY);
    EXPECT_EQ(pte_mkclean(pte_mkdirty(pte)), pte);
    EXPECT_EQ(pte_val(pte_mkyoung(pte)), pte_val(pte) | mmu::_PAGE_ACCESSED);
    EXPECT_EQ(pte_mkold(pte_mkyoung(pte)), pte);
    EXPECT_FALSE(pte_write(pte_wrprotect(pte)));
    EXPECT_EQ(pte_mkwrite(pte_wrprotect(pte)), pte);
}

TEST(Pgtable, PteModifyKeepsFrameAndCpuBitsAndSwitchesProtnone) {
    const pte_t used = pte_mkyoung(pte_mkdirty(mk_pte(PagingMode::LongMode4, PhysAddr(0x7000), kUserRw)));
    const pte_t none = pte_modify(used, __pgprot(_PAGE_PROTNONE | mmu::_PAGE_USER | mmu::_PAGE_NX));
    EXPECT_TRUE(pte_protnone(none));
    EXPECT_TRUE(pte_present(none)) << "a PROT_NONE page keeps its frame for the OS";
    EXPECT_FALSE(pte_hw_present(none));
    EXPECT_EQ(pte_phys(none), PhysAddr(0x7000));
    EXPECT_TRUE(pte_dirty(none));
    EXPECT_TRUE(pte_young(none));
    const pte_t back = pte_modify(none, kUserRw);
    EXPECT_FALSE(pte_protnone(back));
    EXPECT_EQ(back, used);
}

TEST(Pgtable, SwapEntriesAreNeitherNoneNorPresent) {
    for (PagingMode m : {PagingMode::Legacy32, PagingMode::PAE, PagingMode::LongMode4}) {
        const pte_t pte = swp_entry_to_pte(m, swp_entry(1, 42));
        EXPECT_FALSE(pte_none(pte));
        EXPECT_FALSE(pte_present(pte));
        EXPECT_TRUE(is_swap_pte(pte));
        EXPECT_EQ(swp_offset(pte_to_swp_entry(m, pte)), 42u);
    }
    EXPECT_TRUE(pte_none(pte_t{}));
    EXPECT_FALSE(is_swap_pte(pte_t{}));
}

}  // namespace
}  // namespace guestos
