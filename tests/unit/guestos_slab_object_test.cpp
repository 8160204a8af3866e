// The OS's own objects as slab objects (guestos/mm/slab_object.h): each live vm_area_struct,
// mm_struct, task_struct and struct file owns exactly one object of its Linux cache, the
// object holds the struct's fields at Linux's offsets, /proc/slabinfo counts exactly the
// live objects, and running out of memory for them fails the operation with ENOMEM and
// changes nothing.
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "guestos/include/kernel.h"
#include "guestos/mm/memory.h"
#include "guestos/mm/mmap.h"
#include "guestos/mm/page_alloc.h"
#include "guestos/fs/proc/meminfo.h"
#include "guestos/mm/slab_object.h"
#include "guestos/mm/slub.h"
#include "guestos/include/sched.h"
#include "tests/unit/guestos_test_util.h"

namespace guestos {
namespace {

constexpr uint64_t P = PAGE_SIZE;

// RAM, the buddy allocator, SLUB and the kernel object caches of one guest kernel. Objects
// made from it must die before it.
struct Machine {
    std::unique_ptr<mmu::PhysMemory> ram;
    std::unique_ptr<BuddyAllocator> buddy;
    std::unique_ptr<SlabAllocator> slab;
    std::unique_ptr<KernelCaches> caches;
    explicit Machine(uint64_t ram_bytes, KernelArch arch = KernelArch::X86_64) {
        ram = mmu::PhysMemory::create(ram_bytes).release_value();
        BuddyConfig cfg;
        cfg.arch = arch;
        buddy = std::make_unique<BuddyAllocator>(*ram, cfg);
        slab = std::make_unique<SlabAllocator>(*buddy);
        caches = KernelCaches::create(*slab).release_value();
    }
    uint64_t active(const ObjectCache* c) const { return slab->get_slabinfo(*c->cachep()).active_objs; }
    // A user mm (x86-64 geometry) with its mm_struct and a pgd, no kernel half.
    std::unique_ptr<mm_struct> new_mm() {
        auto mm = mm_alloc(caches.get());
        if (!mm) return nullptr;
        mm->ram = ram.get();
        mm->page_alloc = buddy.get();
        mm->task_size = 0x7ffffffff000ull;
        mm->mmap_base = 0x7fff00000000ull;
        if (!pgd_alloc(*mm)) return nullptr;
        return mm;
    }
};

// Every free page of every zone, the reserves included, taken out of the allocator.
std::vector<PhysAddr> take_every_page(PageAllocator& buddy) {
    std::vector<PhysAddr> pages;
    while (auto p = buddy.alloc_page(GFP_KERNEL | __GFP_NOFAIL)) pages.push_back(*p);
    return pages;
}

// Offsets as gcc lays out Linux 5.10's structs (pahole), for the members the images write.
TEST(GuestosSlabObjectTest, VmAreaStructMembersSitAtLinuxOffsets) {
    Machine m64(8 * MiB), m32(8 * MiB, KernelArch::I386);
    const ObjectCache& c64 = *m64.caches->vm_area_cachep;
    const ObjectCache& c32 = *m32.caches->vm_area_cachep;
    struct Want {
        VmaField f;
        unsigned off64, off32;
    };
    for (Want w : {Want{VmaField::vm_start, 0, 0},
                   {VmaField::vm_end, 8, 4},
                   {VmaField::vm_next, 16, 8},
                   {VmaField::vm_prev, 24, 12},
                   {VmaField::vm_rb, 32, 16},
                   {VmaField::rb_subtree_gap, 56, 28},
                   {VmaField::vm_mm, 64, 32},
                   {VmaField::vm_page_prot, 72, 36},
                   {VmaField::vm_flags, 80, 44},
                   {VmaField::anon_vma, 136, 72},
                   {VmaField::vm_pgoff, 152, 80},
                   {VmaField::vm_file, 160, 84}}) {
        const unsigned i = static_cast<unsigned>(w.f);
        EXPECT_EQ(c64.slot(i).offset, w.off64) << vm_area_struct_layout.fields[i].name;
        EXPECT_EQ(c32.slot(i).offset, w.off32) << vm_area_struct_layout.fields[i].name;
    }
    EXPECT_EQ(c64.object_size(), 200u);
    EXPECT_EQ(c32.object_size(), 100u);
    EXPECT_EQ(c64.slot(static_cast<unsigned>(VmaField::vm_policy)).size, 8u);  // CONFIG_NUMA on x86-64 only
    EXPECT_EQ(c32.slot(static_cast<unsigned>(VmaField::vm_policy)).size, 0u);
}

TEST(GuestosSlabObjectTest, OtherStructsPutTheirExactMembersAtLinuxOffsets) {
    Machine m(8 * MiB);
    const KernelCaches& k = *m.caches;
    auto off = [](const ObjectCache* c, auto f) { return c->slot(static_cast<unsigned>(f)).offset; };
    EXPECT_EQ(off(k.mm_cachep, MmField::pgd), 80u);
    EXPECT_EQ(off(k.mm_cachep, MmField::map_count), 112u);
    EXPECT_EQ(off(k.mm_cachep, MmField::total_vm), 192u);
    EXPECT_EQ(off(k.mm_cachep, MmField::start_code), 256u);
    EXPECT_EQ(off(k.mm_cachep, MmField::env_end), 336u);
    EXPECT_EQ(off(k.filp_cachep, FileField::f_count), 56u);
    EXPECT_EQ(off(k.filp_cachep, FileField::f_flags), 64u);
    EXPECT_EQ(off(k.filp_cachep, FileField::f_pos), 104u);
    EXPECT_EQ(off(k.anon_vma_cachep, AnonVmaField::parent), 56u);
    EXPECT_EQ(k.anon_vma_cachep->object_size(), 80u);
    EXPECT_EQ(off(k.anon_vma_chain_cachep, AnonVmaChainField::rb_subtree_last), 56u);
    EXPECT_EQ(k.anon_vma_chain_cachep->object_size(), 64u);
    // Every layout's fields end within its declared size, on both arches.
    Machine m32(8 * MiB, KernelArch::I386);
    for (const Machine* mm : {&m, &m32})
        for (const ObjectCache* c : mm->caches->all()) {
            const FieldSlot last = c->slot(static_cast<unsigned>(c->layout().fields.size() - 1));
            const bool x64 = c->word_size() == 8;
            EXPECT_LE(last.offset + last.size, x64 ? c->layout().size64 : c->layout().size32) << c->layout().name;
            EXPECT_EQ(c->object_size(), x64 ? c->layout().size64 : c->layout().size32) << c->layout().name;
        }
}

// The caches' slabinfo lines: Linux's names, object sizes and slab shapes on x86-64.
TEST(GuestosSlabObjectTest, SlabinfoListsTheCachesWithLinuxsShapes) {
    Machine m(8 * MiB);
    const std::string text = proc_slabinfo(*m.slab);
    auto line = [&](const std::string& name) {
        std::istringstream in(text);
        for (std::string l; std::getline(in, l);)
            if (l.rfind(name + " ", 0) == 0) return l;
        return std::string();
    };
    auto fields = [&](const std::string& name) {  // objsize objperslab pagesperslab
        std::istringstream in(line(name));
        std::string n;
        uint64_t active, num, size, per, pages;
        in >> n >> active >> num >> size >> per >> pages;
        return std::vector<uint64_t>{size, per, pages};
    };
    EXPECT_EQ(fields("vm_area_struct"), (std::vector<uint64_t>{200, 20, 1}));
    EXPECT_EQ(fields("task_struct"), (std::vector<uint64_t>{9024, 3, 8}));
    EXPECT_EQ(fields("mm_struct")[0], 1088u);  // 1,064 bytes, cache-line aligned
    EXPECT_EQ(fields("filp")[0], 256u);
    EXPECT_EQ(fields("anon_vma")[0], 88u);  // the SLAB_TYPESAFE_BY_RCU free pointer follows the object
    EXPECT_EQ(fields("anon_vma_chain")[0], 64u);
}

TEST(GuestosSlabObjectTest, AnObjectIsAllocatedCopiedMovedAndFreedOneForOne) {
    Machine m(8 * MiB);
    ObjectCache* c = m.caches->anon_vma_cachep;
    {
        SlabObject a(c);
        ASSERT_TRUE(a.backed());
        EXPECT_EQ(c->nr_objects(), 1u);
        EXPECT_EQ(m.active(c), 1u);
        a.set(AnonVmaField::degree, 7);
        a.set_ptr(AnonVmaField::root, &a);
        SlabObject b(a);  // a new object with the same bytes
        ASSERT_TRUE(b.backed());
        EXPECT_NE(b.phys(), a.phys());
        EXPECT_EQ(b.get(AnonVmaField::degree), 7u);
        EXPECT_EQ(b.get(AnonVmaField::root), a.kernel_address());
        EXPECT_EQ(a.kernel_address(), PAGE_OFFSET_X86_64 + a.phys().value);
        EXPECT_EQ(m.active(c), 2u);
        SlabObject moved(std::move(b));  // handed over, not copied
        EXPECT_FALSE(b.backed());
        EXPECT_EQ(m.active(c), 2u);
        b = moved;  // copy-assignment takes a fresh object
        EXPECT_EQ(m.active(c), 3u);
        moved = SlabObject();  // its object is freed
        EXPECT_EQ(m.active(c), 2u);
        EXPECT_EQ(c->nr_objects(), 2u);
    }
    EXPECT_EQ(c->nr_objects(), 0u);
    EXPECT_EQ(m.active(c), 0u);
    SlabObject unbacked;  // no cache: nothing held, writes ignored, copies unbacked
    unbacked.set(AnonVmaField::degree, 1);
    SlabObject copy(unbacked);
    EXPECT_FALSE(copy.backed() || copy.failed());
    EXPECT_TRUE(copy.alloc(nullptr));
    EXPECT_CONSISTENT(*m.slab);
}

TEST(GuestosSlabObjectTest, AllocationWithoutMemoryFailsAndHoldsNothing) {
    Machine m(8 * MiB);
    ObjectCache* c = m.caches->vm_area_cachep;
    SlabObject first(c);
    ASSERT_TRUE(first.backed());
    std::vector<PhysAddr> pages = take_every_page(*m.buddy);
    std::vector<SlabObject> rest;  // the first slab's other objects
    for (SlabObject o(c); o.backed(); o = SlabObject(c)) rest.push_back(std::move(o));
    const uint64_t live = c->nr_objects();
    EXPECT_EQ(live, 1 + rest.size());
    SlabObject none(c);
    EXPECT_TRUE(none.failed());
    EXPECT_FALSE(none.backed());
    SlabObject copy(first);
    EXPECT_TRUE(copy.failed());
    EXPECT_EQ(c->nr_objects(), live);
    EXPECT_EQ(m.active(c), live);
    rest.clear();
    for (PhysAddr p : pages) m.buddy->free_page(p);
    EXPECT_TRUE(none.alloc(c));
    EXPECT_CONSISTENT(*m.slab);
}

TEST(GuestosSlabObjectTest, ObjectsOutlivingTheirCachesBecomeUnbacked) {
    auto m = std::make_unique<Machine>(8 * MiB);
    SlabObject survivor(m->caches->filp_cachep);
    ASSERT_TRUE(survivor.backed());
    m.reset();  // the kernel goes first
    EXPECT_FALSE(survivor.backed());
    survivor.set(FileField::f_pos, 1);  // nothing to write to: ignored
    EXPECT_EQ(survivor.get(FileField::f_pos), 0u);
}  // and its destructor frees nothing

// A task over mm, with its own task_struct, for check_slab_images.
std::unique_ptr<task_struct> task_over(Machine& m, std::unique_ptr<mm_struct> mm) {
    auto t = std::make_unique<task_struct>();
    EXPECT_TRUE(t->slab.alloc(m.caches->task_struct_cachep));
    t->mm = std::move(mm);
    return t;
}

TEST(GuestosSlabObjectTest, VmaImagesFollowMmapMunmapMprotectAndBrk) {
    Machine m(32 * MiB);
    auto owned = task_over(m, m.new_mm());
    task_struct& t = *owned;
    mm_struct& mm = *t.mm;
    // Twelve mappings that cannot merge: alternating protections.
    std::vector<uint64_t> at;
    for (int i = 0; i < 12; ++i) {
        const long a = do_mmap(mm, nullptr, 0, 4 * P, i % 2 ? PROT_READ_ : PROT_READ_ | PROT_WRITE_,
                               MAP_PRIVATE_ | MAP_ANONYMOUS_, 0);
        ASSERT_GT(a, 0);
        at.push_back(static_cast<uint64_t>(a));
    }
    EXPECT_EQ(mm.map_count, 12);
    EXPECT_EQ(m.active(m.caches->vm_area_cachep), 12u);
    ASSERT_EQ(do_munmap(mm, at[3] + P, P), 0);                // a hole: one VMA becomes two
    ASSERT_EQ(do_mprotect(mm, at[5] + P, P, PROT_NONE_), 0);  // three
    mm.start_brk = mm.brk = 0x10000000;
    EXPECT_EQ(do_brk(mm, mm.brk + 3 * P), 0x10000000 + 3 * P);
    EXPECT_EQ(mm.map_count, 12 + 1 + 2 + 1);
    EXPECT_EQ(m.active(m.caches->vm_area_cachep), static_cast<uint64_t>(mm.map_count));
    EXPECT_EQ(check_slab_images(t), std::vector<std::string>{});
    // The image holds real content: a display reading the object sees the VMA.
    const vm_area_struct* v = find_vma(mm, VirtAddr(at[5] + P));
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->slab.get(VmaField::vm_start), at[5] + P);
    EXPECT_EQ(v->slab.get(VmaField::vm_end), at[5] + 2 * P);
    EXPECT_EQ(v->slab.get(VmaField::vm_flags), v->vm_flags);
    EXPECT_EQ(v->slab.get(VmaField::vm_mm), mm.slab.kernel_address());
    uint64_t raw = 0;
    std::memcpy(&raw, m.ram->host(v->slab.phys() + 8, 8), 8);  // vm_end, read as raw RAM
    EXPECT_EQ(raw, at[5] + 2 * P);
    // Merging back frees the objects again.
    ASSERT_EQ(do_mprotect(mm, at[5] + P, P, PROT_READ_), 0);  // at[5] is read-only: the three merge
    EXPECT_EQ(mm.map_count, 12 + 1 + 1);
    EXPECT_EQ(m.active(m.caches->vm_area_cachep), static_cast<uint64_t>(mm.map_count));
    t.mm.reset();  // the VMAs and the mm free their objects
    EXPECT_EQ(m.active(m.caches->vm_area_cachep), 0u);
    EXPECT_EQ(m.active(m.caches->mm_cachep), 0u);
}

// Linux fails these with ENOMEM when vm_area_alloc or vm_area_dup (in __split_vma) find no
// memory; nothing may change, and everything works again once memory is back.
TEST(GuestosSlabObjectTest, NoMemoryForAVmaFailsWithEnomemAndChangesNothing) {
    Machine m(32 * MiB);
    auto owned = task_over(m, m.new_mm());
    task_struct& t = *owned;
    mm_struct& mm = *t.mm;
    const long a = do_mmap(mm, nullptr, 0, 3 * P, PROT_READ_ | PROT_WRITE_, MAP_PRIVATE_ | MAP_ANONYMOUS_, 0);
    const long b = do_mmap(mm, nullptr, 0, 2 * P, PROT_READ_, MAP_PRIVATE_ | MAP_ANONYMOUS_, 0);
    ASSERT_GT(a, 0);
    ASSERT_GT(b, 0);
    mm.start_brk = mm.brk = 0x10000000;
    std::vector<PhysAddr> pages = take_every_page(*m.buddy);
    std::vector<SlabObject> hoard;
    for (SlabObject o(m.caches->vm_area_cachep); o.backed(); o = SlabObject(m.caches->vm_area_cachep))
        hoard.push_back(std::move(o));
    auto layout = [&] {
        std::vector<std::pair<uint64_t, uint64_t>> v;
        for (const vm_area_struct& x : mm.mm_rb) v.emplace_back(x.vm_start.value, x.vm_end.value);
        return v;
    };
    const auto before = layout();
    const uint64_t total_vm = mm.total_vm;
    EXPECT_EQ(do_mmap(mm, nullptr, 0, P, PROT_READ_, MAP_PRIVATE_ | MAP_ANONYMOUS_, 0), -ENOMEM);
    EXPECT_EQ(
        do_mmap(mm, nullptr, static_cast<uint64_t>(a), P, PROT_READ_, MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_FIXED_, 0),
        -ENOMEM);
    EXPECT_EQ(do_munmap(mm, static_cast<uint64_t>(a) + P, P), -ENOMEM);  // needs a split
    EXPECT_EQ(do_mprotect(mm, static_cast<uint64_t>(a), P, PROT_READ_), -ENOMEM);
    EXPECT_EQ(mlock_fixup(mm, static_cast<uint64_t>(a) + P, P, VM_LOCKED, 0, false), -ENOMEM);
    EXPECT_EQ(do_brk(mm, mm.brk + P), 0x10000000u);  // refused: the break stays
    EXPECT_EQ(layout(), before);
    EXPECT_EQ(mm.total_vm, total_vm);
    EXPECT_EQ(mm.map_count, 2);
    EXPECT_EQ(check_slab_images(t), std::vector<std::string>{});
    // Unmapping a whole VMA needs no new object.
    EXPECT_EQ(do_munmap(mm, static_cast<uint64_t>(b), 2 * P), 0);
    EXPECT_EQ(mm.map_count, 1);
    hoard.clear();
    for (PhysAddr p : pages) m.buddy->free_page(p);
    EXPECT_EQ(do_munmap(mm, static_cast<uint64_t>(a) + P, P), 0);
    EXPECT_EQ(mm.map_count, 2);
    EXPECT_EQ(check_slab_images(t), std::vector<std::string>{});
    EXPECT_TRUE(meminfo_accounts(*m.buddy).balanced());
    EXPECT_CONSISTENT(*m.slab);
    EXPECT_CONSISTENT(*m.buddy);
}

// --- Through the kernel: exec, then syscalls, as a guest would make them ---

std::string guest(const char* name) { return std::string(EMU_BINARY_DIR "/guest/") + name; }

// active_objs of cache `name` in the kernel's /proc/slabinfo.
uint64_t slabinfo_active(const Kernel& k, const std::string& name) {
    std::istringstream in(k.proc_global("slabinfo").value_or(""));
    for (std::string l; std::getline(in, l);) {
        if (l.rfind(name + " ", 0) != 0) continue;
        std::istringstream f(l.substr(name.size()));
        uint64_t active = 0;
        f >> active;
        return active;
    }
    ADD_FAILURE() << "no " << name << " line in /proc/slabinfo";
    return 0;
}

struct Booted {
    Kernel k;
    task_struct t;
    explicit Booted(const std::string& program, uint64_t ram = 64 * MiB) : k(config(ram)) {
        EXPECT_FALSE(k.boot().is_error());
        k.init_task(t);
        auto r = k.exec(t, program, {program}, {"LANG=C"});
        EXPECT_FALSE(r.is_error()) << (r.is_error() ? r.error().message : "");
    }
    static KernelConfig config(uint64_t ram) {
        KernelConfig c;
        c.ram_bytes = ram;
        return c;
    }
    long sys(uint64_t nr, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0, uint64_t a4 = 0,
             uint64_t a5 = 0) {
        const uint64_t args[6] = {a0, a1, a2, a3, a4, a5};
        return k.syscall(t, nr, args);
    }
    // slabinfo counts exactly the live objects of each kind.
    void expect_counts(uint64_t open_files) {
        EXPECT_EQ(slabinfo_active(k, "vm_area_struct"), static_cast<uint64_t>(t.mm->map_count));
        EXPECT_EQ(slabinfo_active(k, "mm_struct"), 1u);
        EXPECT_EQ(slabinfo_active(k, "task_struct"), 1u);
        EXPECT_EQ(slabinfo_active(k, "filp"), open_files);
        EXPECT_EQ(check_slab_images(t), std::vector<std::string>{});
    }
};

enum : uint64_t { NR_open = 2, NR_close = 3, NR_mmap = 9, NR_mprotect = 10, NR_munmap = 11, NR_mremap = 25 };

TEST(GuestosSlabObjectTest, SlabinfoCountsTheObjectsOfARunningProgram) {
    Booted g(guest("hello.x86_64"));
    ASSERT_TRUE(g.t.mm);
    g.expect_counts(4);  // stdin, stdout, stderr and the executable mapped by exec
    std::vector<long> maps;
    for (int i = 0; i < 20; ++i)
        maps.push_back(g.sys(NR_mmap, 0, 2 * P, i % 2 ? PROT_READ_ : PROT_READ_ | PROT_WRITE_,
                             MAP_PRIVATE_ | MAP_ANONYMOUS_, ~0ull, 0));
    g.expect_counts(4);
    EXPECT_EQ(g.sys(NR_munmap, static_cast<uint64_t>(maps[4]) + P, P), 0);
    EXPECT_EQ(g.sys(NR_mprotect, static_cast<uint64_t>(maps[6]), P, PROT_NONE_), 0);
    EXPECT_GT(g.sys(NR_mremap, static_cast<uint64_t>(maps[8]), 2 * P, 8 * P, 1 /* MREMAP_MAYMOVE */), 0);
    g.expect_counts(4);
    const char path[] = "/proc/self/maps";
    const long stack = static_cast<long>(g.t.mm->start_stack) - 256;
    ASSERT_TRUE(copy_to_user(*g.t.mm, VirtAddr(static_cast<uint64_t>(stack)), path, sizeof path));
    const long fd = g.sys(NR_open, static_cast<uint64_t>(stack), 0);
    ASSERT_GE(fd, 3);
    g.expect_counts(5);
    EXPECT_EQ(g.sys(NR_close, static_cast<uint64_t>(fd)), 0);
    g.expect_counts(4);
    // The task's and the mm's images were written on the way back to user mode.
    EXPECT_EQ(g.t.slab.get(TaskField::pid), static_cast<uint64_t>(g.t.pid));
    EXPECT_EQ(g.t.slab.get(TaskField::mm), g.t.mm->slab.kernel_address());
    EXPECT_EQ(g.t.mm->slab.get(MmField::map_count), static_cast<uint64_t>(g.t.mm->map_count));
    EXPECT_EQ(g.t.mm->slab.get(MmField::mmap), g.t.mm->mm_rb.first()->slab.kernel_address());
    EXPECT_EQ(g.t.mm->slab.get(MmField::brk), g.t.mm->brk);
    const FieldSlot comm = g.t.slab.cache()->slot(static_cast<unsigned>(TaskField::comm));
    EXPECT_STREQ(reinterpret_cast<const char*>(g.k.ram().host(g.t.slab.phys() + comm.offset, 16)), "hello.x86_64");
}

TEST(GuestosSlabObjectTest, I386KernelObjectsHaveI386Layouts) {
    Booted g(guest("hello.i386"));
    ASSERT_TRUE(g.t.mm);
    g.expect_counts(4);
    const vm_area_struct& v = *g.t.mm->mm_rb.first();
    EXPECT_EQ(v.slab.cache()->object_size(), 100u);
    uint32_t raw[2];
    std::memcpy(raw, g.k.ram().host(v.slab.phys(), 8), 8);  // vm_start, vm_end: 4 bytes each
    EXPECT_EQ(raw[0], v.vm_start.value);
    EXPECT_EQ(raw[1], v.vm_end.value);
    EXPECT_EQ(v.slab.kernel_address(), PAGE_OFFSET_I386 + v.slab.phys().value);
}

// mremap that must move a mapping needs a copy of its VMA (copy_vma): without memory for it,
// ENOMEM, and the mapping stays where it was.
TEST(GuestosSlabObjectTest, MremapWithoutMemoryForTheMovedVmaFailsWithEnomem) {
    Booted g(guest("hello.x86_64"));
    ASSERT_TRUE(g.t.mm);
    const long a = g.sys(NR_mmap, 0, 2 * P, PROT_READ_ | PROT_WRITE_, MAP_PRIVATE_ | MAP_ANONYMOUS_, ~0ull, 0);
    ASSERT_GT(a, 0);
    const uint64_t above = static_cast<uint64_t>(a) + 2 * P;  // blocks growing in place
    ASSERT_EQ(g.sys(NR_mmap, above, P, PROT_READ_, MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_FIXED_, ~0ull, 0),
              static_cast<long>(above));
    std::vector<PhysAddr> pages = take_every_page(g.k.page_alloc());
    std::vector<SlabObject> hoard;
    for (SlabObject o(g.k.caches()->vm_area_cachep); o.backed(); o = SlabObject(g.k.caches()->vm_area_cachep))
        hoard.push_back(std::move(o));
    const int map_count = g.t.mm->map_count;
    EXPECT_EQ(g.sys(NR_mremap, static_cast<uint64_t>(a), 2 * P, 4 * P, 1 /* MREMAP_MAYMOVE */), -ENOMEM);
    EXPECT_EQ(g.t.mm->map_count, map_count);
    const vm_area_struct* v = find_vma(*g.t.mm, VirtAddr(static_cast<uint64_t>(a)));
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->vm_start.value, static_cast<uint64_t>(a));
    EXPECT_EQ(v->vm_end.value, static_cast<uint64_t>(a) + 2 * P);
    hoard.clear();
    for (PhysAddr pa : pages) g.k.page_alloc().free_page(pa);
    const long moved = g.sys(NR_mremap, static_cast<uint64_t>(a), 2 * P, 4 * P, 1);
    EXPECT_GT(moved, 0);
    EXPECT_NE(moved, a);
    g.expect_counts(4);
}

// exec with no memory for the new mm_struct fails with ENOMEM and leaves the old program
// whole; once memory is back, it works.
TEST(GuestosSlabObjectTest, ExecWithoutMemoryForTheMmStructFailsAndKeepsTheOldMm) {
    Booted g(guest("hello.i386"));
    ASSERT_TRUE(g.t.mm);
    const mm_struct* old = g.t.mm.get();
    const int map_count = old->map_count;
    std::vector<PhysAddr> pages = take_every_page(g.k.page_alloc());
    std::vector<SlabObject> hoard;
    for (SlabObject o(g.k.caches()->mm_cachep); o.backed(); o = SlabObject(g.k.caches()->mm_cachep))
        hoard.push_back(std::move(o));
    const std::string p = guest("hello.i386");
    auto r = g.k.exec(g.t, p, {p}, {});
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().errno_value, ENOMEM) << r.error().message;
    EXPECT_EQ(g.t.mm.get(), old);
    EXPECT_EQ(g.t.mm->map_count, map_count);
    hoard.clear();
    for (PhysAddr pa : pages) g.k.page_alloc().free_page(pa);
    EXPECT_EQ(check_slab_images(g.t), std::vector<std::string>{});
    ASSERT_FALSE(g.k.exec(g.t, p, {p}, {}).is_error());
    g.expect_counts(4);
}

}  // namespace
}  // namespace guestos
