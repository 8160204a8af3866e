// The OS's own objects as slab objects in emulated RAM (Linux's mm_cachep, vm_area_cachep,
// task_struct_cachep, filp_cachep, anon_vma_cachep, anon_vma_chain_cachep).
//
// A host object of such a kind (vm_area_struct, mm_struct, task_struct, file; anon_vma and
// anon_vma_chain for reverse mapping) holds one SlabObject member: one object of its Linux
// cache, taken from SLUB (guestos/mm/slub.h) and freed when the host object dies. A copy of the
// host object takes a new slab object with the same bytes (vm_area_dup's *new = *orig); a move
// hands the object over. So /proc/slabinfo counts exactly the live host objects, and their
// memory is slab pages in MemTotal's accounting.
//
// The slab object holds an image of the struct: its main fields at the offsets of Linux's
// struct (ObjectLayout: the field order and sizes of Linux 5.10, the rb-tree VMA era this
// OS mirrors, for an x86-64 or an i386 guest kernel), so a memory display sees real content.
// Scalars are written as the guest kernel stores them (little-endian, the field's size);
// pointers to other kernel objects are their kernel virtual addresses (__va of the slab
// object), 0 for NULL. Who writes which field, and when, is said next to each struct.
//
// Rules:
// - Unbacked objects. A SlabObject made without a cache (before the first exec sets memory
//   up, or in tests of the VMA tree alone) owns nothing, and writes to it do nothing. The
//   kernel backs the objects it made before the slab existed (the first task and its open
//   files) when it sets memory up, as SLUB's bootstrap() moves its boot caches into slab
//   objects; everything made later takes its object at creation.
// - Allocation failure. An allocation (or a copy) that finds no memory leaves the SlabObject
//   failed(): the caller drops the host object and fails with ENOMEM before changing
//   anything, as the callers of vm_area_alloc, vm_area_dup, mm_alloc and alloc_empty_file
//   do in Linux. Nothing is half-done and nothing aborts.
// - Lifetime. The caches belong to the Kernel (KernelCaches). Objects that outlive it become
//   unbacked: their caches stay as empty shells until the last object goes.
//
// Use, for a new kind of object (anon_vma as rmap would take it):
//   struct anon_vma { anon_vma* root; ...; SlabObject slab; };
//   auto av = std::make_unique<anon_vma>();                           // anon_vma_alloc
//   if (!av->slab.alloc(mm.caches ? mm.caches->anon_vma_cachep : nullptr)) return -ENOMEM;
//   av->slab.set_ptr(AnonVmaField::root, &av->root->slab);             // its image
//   vma.slab.set_ptr(VmaField::anon_vma, &av->slab);                   // the VMA's pointer to it
//   ... and the object goes back to the cache when av is destroyed.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "guestos/include/page.h"
#include "mmu/phys_memory.h"

namespace guestos {

class SlabAllocator;
struct kmem_cache;

// One member of a Linux struct: its name and its size in bytes on x86-64 and on i386 (0: the
// member does not exist there). A member is aligned to the largest power of two dividing its
// size, at most a word (so an i386 u64 is 4-aligned, as the i386 ABI does).
struct ObjectField {
    const char* name;
    uint16_t size64;
    uint16_t size32;
};

// A Linux struct as its slab image lays it out.
struct ObjectLayout {
    const char* name;  // the struct's name, and its cache's (filp for struct file)
    std::span<const ObjectField> fields;
    uint32_t size64, size32;  // sizeof: the fields' end, padded to Linux's object size
    unsigned align;           // kmem_cache_create's align and flags (slab_flags_t)
    unsigned flags;
};

// The layouts, each a list F(member, size on x86-64, size on i386) in Linux 5.10's order; an
// enum of the same names indexes the fields. Members the model does not write are listed so
// that the written ones sit at Linux's offsets; where a long stretch of members is of no use
// here it is one opaque block, named after its first member, and the offsets after it are
// close to Linux's rather than exact (said per struct).

// vm_area_struct (include/linux/mm_types.h): offsets exact for x86-64 (200 bytes) and i386
// PAE (100 bytes; vm_page_prot is 8 bytes there). Written: vm_start, vm_end, vm_next, vm_prev,
// vm_mm, vm_flags, vm_pgoff, vm_file at every change the VMA tree makes (vm_area_struct::
// sync_slab); anon_vma by whoever attaches one.
// clang-format off
#define GUESTOS_VM_AREA_STRUCT_FIELDS(F)                                                         \
    F(vm_start, 8, 4) F(vm_end, 8, 4) F(vm_next, 8, 4) F(vm_prev, 8, 4) F(vm_rb, 24, 12)          \
    F(rb_subtree_gap, 8, 4) F(vm_mm, 8, 4) F(vm_page_prot, 8, 8) F(vm_flags, 8, 4)                \
    F(shared, 32, 16) F(anon_vma_chain, 16, 8) F(anon_vma, 8, 4) F(vm_ops, 8, 4)                 \
    F(vm_pgoff, 8, 4) F(vm_file, 8, 4) F(vm_private_data, 8, 4) F(swap_readahead_info, 8, 4)      \
    F(vm_policy, 8, 0) F(vm_userfaultfd_ctx, 8, 4)
// clang-format on

// mm_struct: offsets exact up to env_end (saved_auxv's size, hence rss_stat's offset, depends
// on the arch's AT_VECTOR_SIZE); then one block up to Linux's size (1,064 bytes on x86-64,
// 1,088 with SLAB_HWCACHE_ALIGN as in slabinfo; 496 on i386). Written at the return to user
// mode after a change marked it dirty (guestos/mm/slab_image.cpp).
// clang-format off
#define GUESTOS_MM_STRUCT_FIELDS(F)                                                              \
    F(mmap, 8, 4) F(mm_rb, 8, 4) F(vmacache_seqnum, 8, 8) F(get_unmapped_area, 8, 4)              \
    F(mmap_base, 8, 4) F(mmap_legacy_base, 8, 4) F(mmap_compat_base, 8, 0)                        \
    F(mmap_compat_legacy_base, 8, 0) F(task_size, 8, 4) F(highest_vm_end, 8, 4) F(pgd, 8, 4)      \
    F(membarrier_state, 4, 4) F(mm_users, 4, 4) F(mm_count, 4, 4) F(pgtables_bytes, 8, 4)          \
    F(map_count, 4, 4) F(page_table_lock, 4, 4) F(mmap_lock, 40, 24) F(mmlist, 16, 8)             \
    F(hiwater_rss, 8, 4) F(hiwater_vm, 8, 4) F(total_vm, 8, 4) F(locked_vm, 8, 4)                 \
    F(pinned_vm, 8, 8) F(data_vm, 8, 4) F(exec_vm, 8, 4) F(stack_vm, 8, 4) F(def_flags, 8, 4)      \
    F(arg_lock, 4, 4) F(start_code, 8, 4) F(end_code, 8, 4) F(start_data, 8, 4)                   \
    F(end_data, 8, 4) F(start_brk, 8, 4) F(brk, 8, 4) F(start_stack, 8, 4) F(arg_start, 8, 4)     \
    F(arg_end, 8, 4) F(env_start, 8, 4) F(env_end, 8, 4) F(saved_auxv, 368, 192)                  \
    F(rss_stat, 32, 16)
// clang-format on

// task_struct: thread_info to ptrace exact; the scheduler's members, the lists and the
// credentials are blocks of roughly Linux's size, so mm, pid and comm are near, not at,
// Linux's offsets; 9,024 bytes on x86-64 (order-3 slabs of 3, as Linux's), 3,904 on i386.
// Written at the return to user mode after a change marked it dirty (slab_image.cpp).
// clang-format off
#define GUESTOS_TASK_STRUCT_FIELDS(F)                                                            \
    F(thread_info, 16, 8) F(state, 8, 4) F(stack, 8, 4) F(usage, 4, 4) F(flags, 4, 4)             \
    F(ptrace, 4, 4) F(on_cpu_to_tasks, 1176, 664) F(mm, 8, 4) F(active_mm, 8, 4)                  \
    F(vmacache, 40, 20) F(task_rss_stat, 20, 20) F(exit_state, 4, 4) F(exit_code, 4, 4)           \
    F(exit_signal, 4, 4) F(pdeath_signal, 4, 4) F(jobctl_to_pid, 80, 48) F(pid, 4, 4)             \
    F(tgid, 4, 4) F(stack_canary_to_comm, 616, 328) F(comm, 16, 16)
// clang-format on

// struct file (include/linux/fs.h): offsets exact for x86-64 (248 bytes, 256 with
// SLAB_HWCACHE_ALIGN) and i386. At each return to user mode, the fields that changed
// (slab_image.cpp).
// clang-format off
#define GUESTOS_FILE_FIELDS(F)                                                                   \
    F(f_u, 16, 8) F(f_path, 16, 8) F(f_inode, 8, 4) F(f_op, 8, 4) F(f_lock, 4, 4)                 \
    F(f_write_hint, 4, 4) F(f_count, 8, 4) F(f_flags, 4, 4) F(f_mode, 4, 4) F(f_pos_lock, 32, 20) \
    F(f_pos, 8, 8) F(f_owner, 32, 28) F(f_cred, 8, 4) F(f_ra, 32, 28) F(f_version, 8, 8)          \
    F(private_data, 8, 4) F(f_ep_links, 16, 8) F(f_tfile_llink, 16, 8) F(f_mapping, 8, 4)         \
    F(f_wb_err, 4, 4) F(f_sb_err, 4, 4)
// clang-format on

// struct anon_vma (include/linux/rmap.h): exact, 80 bytes on x86-64 (88 in the cache: its
// SLAB_TYPESAFE_BY_RCU free pointer sits after the object), 48 on i386.
// clang-format off
#define GUESTOS_ANON_VMA_FIELDS(F)                                                               \
    F(root, 8, 4) F(rwsem, 40, 24) F(refcount, 4, 4) F(degree, 4, 4) F(parent, 8, 4)              \
    F(rb_root, 16, 8)
// clang-format on

// struct anon_vma_chain (include/linux/rmap.h): exact, 64 bytes on x86-64, 32 on i386.
// clang-format off
#define GUESTOS_ANON_VMA_CHAIN_FIELDS(F)                                                         \
    F(vma, 8, 4) F(anon_vma, 8, 4) F(same_vma, 16, 8) F(rb, 24, 12) F(rb_subtree_last, 8, 4)
// clang-format on

// struct dentry (include/linux/dcache.h): offsets exact for Linux 5.10 on x86-64 (192 bytes,
// DNAME_INLINE_LEN 32) and i386 (136 bytes, DNAME_INLINE_LEN 36). Written when the dentry is
// made, named and moved (guestos/fs/dcache.cpp): d_parent, d_name (hash_len, name), d_inode,
// d_iname.
// clang-format off
#define GUESTOS_DENTRY_FIELDS(F)                                                                 \
    F(d_flags, 4, 4) F(d_seq, 4, 4) F(d_hash, 16, 8) F(d_parent, 8, 4) F(d_name, 16, 12)          \
    F(d_inode, 8, 4) F(d_iname, 32, 36) F(d_lockref, 8, 8) F(d_op, 8, 4) F(d_sb, 8, 4)            \
    F(d_time, 8, 4) F(d_fsdata, 8, 4) F(d_lru, 16, 8) F(d_child, 16, 8) F(d_subdirs, 16, 8)       \
    F(d_u, 16, 8)
// clang-format on

// struct inode inside each filesystem's inode (struct ext2_inode_info, shmem_inode_info,
// proc_inode, socket_alloc: the filesystem's own members, one block, then vfs_inode; the
// members after vfs_inode are the padding up to the object size). The VFS inode's offsets are
// exact from i_mode to i_blocks; the rest of it is one block. Object sizes are those of this
// machine's Linux (6.18, x86-64 slabinfo: inode_cache 624, proc_inode_cache 696,
// shmem_inode_cache 752, sock_inode_cache 832; ext2_inode_cache 848 from struct
// ext2_inode_info); the i386 sizes are near Linux's, not measured. Written when a dentry is
// made to name the inode (d_instantiate, inode::sync_slab): i_mode, the ids, i_ino, i_nlink,
// i_rdev, i_size, the times, i_blocks; later changes are not followed.
// clang-format off
#define GUESTOS_INODE_FIELDS(F)                                                                  \
    F(fs_info, 0, 0) F(i_mode, 2, 2) F(i_opflags, 2, 2) F(i_uid, 4, 4) F(i_gid, 4, 4)             \
    F(i_flags, 4, 4) F(i_acl, 8, 4) F(i_default_acl, 8, 4) F(i_op, 8, 4) F(i_sb, 8, 4)            \
    F(i_mapping, 8, 4) F(i_security, 8, 4) F(i_ino, 8, 4) F(i_nlink, 4, 4) F(i_rdev, 4, 4)        \
    F(i_size, 8, 8) F(i_atime, 16, 12) F(i_mtime, 16, 12) F(i_ctime, 16, 12) F(i_lock, 4, 4)      \
    F(i_bytes, 2, 2) F(i_blkbits, 1, 1) F(i_write_hint, 1, 1) F(i_blocks, 8, 8)
// clang-format on

#define GUESTOS_FIELD_ENUM(name, s64, s32) name,
enum class VmaField : uint8_t { GUESTOS_VM_AREA_STRUCT_FIELDS(GUESTOS_FIELD_ENUM) };
enum class MmField : uint8_t { GUESTOS_MM_STRUCT_FIELDS(GUESTOS_FIELD_ENUM) };
enum class TaskField : uint8_t { GUESTOS_TASK_STRUCT_FIELDS(GUESTOS_FIELD_ENUM) };
enum class FileField : uint8_t { GUESTOS_FILE_FIELDS(GUESTOS_FIELD_ENUM) };
enum class AnonVmaField : uint8_t { GUESTOS_ANON_VMA_FIELDS(GUESTOS_FIELD_ENUM) };
enum class AnonVmaChainField : uint8_t { GUESTOS_ANON_VMA_CHAIN_FIELDS(GUESTOS_FIELD_ENUM) };
enum class DentryField : uint8_t { GUESTOS_DENTRY_FIELDS(GUESTOS_FIELD_ENUM) };
enum class InodeField : uint8_t { GUESTOS_INODE_FIELDS(GUESTOS_FIELD_ENUM) };
#undef GUESTOS_FIELD_ENUM

extern const ObjectLayout vm_area_struct_layout, mm_struct_layout, task_struct_layout, file_layout, anon_vma_layout,
    anon_vma_chain_layout, dentry_layout, inode_layout, ext2_inode_layout, shmem_inode_layout, proc_inode_layout,
    sock_inode_layout;

// Where a field lives in a slab object of a given guest kernel.
struct FieldSlot {
    uint16_t offset = 0;
    uint16_t size = 0;  // 0: the field does not exist on this arch
};

// A kmem_cache of one kind of kernel object, with its layout resolved for the guest kernel's
// arch and the count of SlabObjects alive in it.
class ObjectCache {
public:
    ObjectCache(SlabAllocator& slab, kmem_cache* cachep, const ObjectLayout& layout);
    ObjectCache(const ObjectCache&) = delete;
    ObjectCache& operator=(const ObjectCache&) = delete;

    const ObjectLayout& layout() const { return layout_; }
    kmem_cache* cachep() const { return cachep_; }
    // Null once the Kernel that owned the cache is gone.
    SlabAllocator* slab() const { return slab_; }
    uint64_t nr_objects() const { return nr_objects_; }    // live SlabObjects holding an object
    unsigned object_size() const { return object_size_; }  // sizeof the struct on this arch
    FieldSlot slot(unsigned field) const { return field < slots_.size() ? slots_[field] : FieldSlot{}; }
    // The field named `name` (for displays), or nullopt.
    std::optional<unsigned> field_index(std::string_view name) const;
    unsigned word_size() const { return word_size_; }  // sizeof(long) of the guest kernel
    // __va of a slab object (slab pages are lowmem, so always direct-mapped).
    uint64_t kernel_address(PhysAddr object) const { return page_offset_ + object.value; }

private:
    friend class SlabObject;
    friend class KernelCaches;
    SlabAllocator* slab_;
    mmu::PhysMemory* ram_;
    kmem_cache* cachep_;
    const ObjectLayout& layout_;
    std::vector<FieldSlot> slots_;
    unsigned object_size_ = 0, word_size_ = 8;
    uint64_t page_offset_ = 0;
    uint64_t nr_objects_ = 0;
    bool orphaned_ = false;  // the Kernel is gone: the last object deletes the cache
};

// One slab object owned by a host object. See the rules at the top of this file.
class SlabObject {
public:
    // Unbacked: no cache yet.
    SlabObject() = default;
    // Takes one zeroed object of cache (GFP_KERNEL); failed() when the slab has no memory.
    // A null cache gives an unbacked object.
    explicit SlabObject(ObjectCache* cache) { (void)alloc(cache); }
    // A new object of other's cache with other's bytes (failed() when none can be had); a
    // copy of an unbacked object is unbacked.
    SlabObject(const SlabObject& other);
    SlabObject& operator=(const SlabObject& other);
    SlabObject(SlabObject&& other) noexcept : cache_(other.cache_), object_(other.object_) {
        other.cache_ = nullptr;
        other.object_ = PhysAddr();
    }
    SlabObject& operator=(SlabObject&& other) noexcept;
    // kmem_cache_free of the object.
    ~SlabObject() { release(); }

    // Frees any object held, then takes one of cache: false (and failed()) when the slab
    // has no memory; true for a null cache (unbacked).
    [[nodiscard]] bool alloc(ObjectCache* cache);

    // An object marked failed: what a host copy becomes when another of its parts found no
    // memory, so that the caller drops it as for a failed allocation.
    static SlabObject failed_object() {
        SlabObject s;
        s.object_ = FAILED;
        return s;
    }

    bool backed() const { return cache_ && cache_->slab_; }
    // An allocation or copy found no memory: the host object must be dropped (ENOMEM).
    bool failed() const { return object_ == FAILED; }
    // The cache of the object held (null when none is).
    ObjectCache* cache() const { return cache_; }
    PhysAddr phys() const { return cache_ ? object_ : PhysAddr(); }
    // The object's kernel virtual address (what a pointer to it holds); 0 when unbacked.
    uint64_t kernel_address() const { return backed() ? cache_->kernel_address(object_) : 0; }

    // The image writers change emulated RAM, not the SlabObject, so they are const.
    // Writes a scalar member (its low `size` bytes); nothing when unbacked or absent.
    template <class Field>
    void set(Field field, uint64_t value) const {
        if (backed()) write(cache_->slot(static_cast<unsigned>(field)), 0, value);
    }
    // Writes word `index` of an array member (rss_stat, saved_auxv), a guest long each.
    template <class Field>
    void set_word(Field field, unsigned index, uint64_t value) const {
        if (backed()) write(cache_->slot(static_cast<unsigned>(field)), index, value);
    }
    // Writes a pointer member: target's kernel address, or 0 (NULL) when it is unbacked.
    template <class Field>
    void set_ptr(Field field, const SlabObject* target) const {
        set(field, target ? target->kernel_address() : 0);
    }
    // Writes a char-array member (comm), NUL-padded and truncated to the member's size.
    template <class Field>
    void set_bytes(Field field, std::string_view bytes) const {
        if (backed()) write_bytes(cache_->slot(static_cast<unsigned>(field)), bytes);
    }
    // Reads a scalar member back (0 when unbacked or absent).
    template <class Field>
    uint64_t get(Field field) const {
        return backed() ? read(cache_->slot(static_cast<unsigned>(field))) : 0;
    }

private:
    // Marks an allocation that found no memory (no object lives at physical address 1).
    static constexpr PhysAddr FAILED{1};
    void release();
    // Stores the low bytes of value in word `word` of the member (the member when 0); inline,
    // as images are rewritten on every return to user mode.
    void write(FieldSlot s, unsigned word, uint64_t value) const {
        const unsigned n = word ? cache_->word_size_ : (s.size < 8 ? s.size : 8u);
        if (!n || (word + 1) * n > s.size) return;
        uint8_t* p = cache_->ram_->host(object_ + s.offset + word * n, n);
        if (n == 8) std::memcpy(p, &value, 8);  // x86: little-endian, as the guest stores it
        else if (n == 4) std::memcpy(p, &value, 4);
        else std::memcpy(p, &value, n);
    }
    void write_bytes(FieldSlot s, std::string_view bytes) const;
    uint64_t read(FieldSlot s) const;

    ObjectCache* cache_ = nullptr;  // set exactly while an object is held
    PhysAddr object_;               // the object; 0 or FAILED when none is held
};

// The caches of the OS's own objects, created when memory is set up (proc_caches_init,
// fork_init, files_init, anon_vma_init), with Linux's names and flags.
class KernelCaches {
public:
    // The six caches; kmem_cache_create takes no memory until the first object, so this
    // fails only on a layout SLUB refuses (EINVAL).
    [[nodiscard]] static mmu::ErrorOr<std::unique_ptr<KernelCaches>> create(SlabAllocator& slab);
    // Orphans the caches: live objects become unbacked and free nothing.
    ~KernelCaches();
    KernelCaches(const KernelCaches&) = delete;
    KernelCaches& operator=(const KernelCaches&) = delete;

    ObjectCache* mm_cachep = nullptr;
    ObjectCache* vm_area_cachep = nullptr;
    ObjectCache* task_struct_cachep = nullptr;
    ObjectCache* filp_cachep = nullptr;
    ObjectCache* anon_vma_cachep = nullptr;
    ObjectCache* anon_vma_chain_cachep = nullptr;
    // The VFS's (dcache_init, inode_init, and each filesystem's init_inodecache).
    ObjectCache* dentry_cachep = nullptr;
    ObjectCache* inode_cachep = nullptr;
    ObjectCache* ext2_inode_cachep = nullptr;
    ObjectCache* shmem_inode_cachep = nullptr;
    ObjectCache* proc_inode_cachep = nullptr;
    ObjectCache* sock_inode_cachep = nullptr;

    std::array<ObjectCache*, 12> all() const {
        return {mm_cachep,         vm_area_cachep,        task_struct_cachep, filp_cachep,
                anon_vma_cachep,   anon_vma_chain_cachep, dentry_cachep,      inode_cachep,
                ext2_inode_cachep, shmem_inode_cachep,    proc_inode_cachep,  sock_inode_cachep};
    }
    // Each cache's live SlabObjects equal its allocated slab objects (slabinfo's active_objs);
    // the problems found, none when they agree.
    std::vector<std::string> check_counts() const;

private:
    KernelCaches() = default;
};

// The caches new dentries and inodes take their objects from, as Linux's globals dentry_cache,
// inode_cachep and the filesystems' own: those of the kernel whose memory is set up (the
// Kernel sets them), null before and after (a KernelCaches clears them when it goes).
KernelCaches* vfs_caches();
void set_vfs_caches(KernelCaches* caches);

}  // namespace guestos
