// Kernel objects as slab objects: the layouts, their caches and the owning SlabObject.
#include "guestos/mm/slab_object.h"

#include <algorithm>
#include <cstring>

#include "guestos/mm/slub.h"
#include "guestos/mm/vmalloc.h"

namespace guestos {

namespace {

#define GUESTOS_FIELD_DESC(name, s64, s32) ObjectField{#name, s64, s32},
constexpr ObjectField vm_area_struct_fields[] = {GUESTOS_VM_AREA_STRUCT_FIELDS(GUESTOS_FIELD_DESC)};
constexpr ObjectField mm_struct_fields[] = {GUESTOS_MM_STRUCT_FIELDS(GUESTOS_FIELD_DESC)};
constexpr ObjectField task_struct_fields[] = {GUESTOS_TASK_STRUCT_FIELDS(GUESTOS_FIELD_DESC)};
constexpr ObjectField file_fields[] = {GUESTOS_FILE_FIELDS(GUESTOS_FIELD_DESC)};
constexpr ObjectField anon_vma_fields[] = {GUESTOS_ANON_VMA_FIELDS(GUESTOS_FIELD_DESC)};
constexpr ObjectField anon_vma_chain_fields[] = {GUESTOS_ANON_VMA_CHAIN_FIELDS(GUESTOS_FIELD_DESC)};
constexpr ObjectField dentry_fields[] = {GUESTOS_DENTRY_FIELDS(GUESTOS_FIELD_DESC)};
constexpr std::array inode_fields = {GUESTOS_INODE_FIELDS(GUESTOS_FIELD_DESC)};
#undef GUESTOS_FIELD_DESC

// A filesystem's inode: its own members (one block of fs64 / fs32 bytes) before vfs_inode.
constexpr auto fs_inode_fields(uint16_t fs64, uint16_t fs32) {
    auto f = inode_fields;
    f[0] = ObjectField{"fs_info", fs64, fs32};
    return f;
}
constexpr auto ext2_inode_fields = fs_inode_fields(184, 120);  // i_data .. truncate_mutex
constexpr auto shmem_inode_fields = fs_inode_fields(128, 80);  // lock .. xattrs
constexpr auto proc_inode_fields = fs_inode_fields(72, 40);    // pid .. sibling_inodes
constexpr auto sock_inode_fields = fs_inode_fields(128, 64);   // struct socket

constexpr unsigned L1_CACHE_BYTES = 64;

}  // namespace

// Linux's caches: KMEM_CACHE(vm_area_struct, ...) and KMEM_CACHE(anon_vma_chain, ...) align to
// the struct; mm_struct and filp are SLAB_HWCACHE_ALIGN; task_struct aligns to L1_CACHE_BYTES;
// anon_vma is SLAB_TYPESAFE_BY_RCU (its free pointer after the object).
const ObjectLayout vm_area_struct_layout{"vm_area_struct", vm_area_struct_fields, 200, 100, 0, 0};
const ObjectLayout mm_struct_layout{"mm_struct", mm_struct_fields, 1064, 496, 0, SLAB_HWCACHE_ALIGN};
const ObjectLayout task_struct_layout{"task_struct", task_struct_fields, 9024, 3904, L1_CACHE_BYTES, 0};
const ObjectLayout file_layout{"filp", file_fields, 248, 172, 0, SLAB_HWCACHE_ALIGN};
const ObjectLayout anon_vma_layout{"anon_vma", anon_vma_fields, 80, 48, 0, SLAB_TYPESAFE_BY_RCU};
const ObjectLayout anon_vma_chain_layout{"anon_vma_chain", anon_vma_chain_fields, 64, 32, 0, 0};
// dentry, inode_cache, ext2_inode_cache and proc_inode_cache are SLAB_RECLAIM_ACCOUNT (SReclaimable:
// the shrinkers give them back), sock_inode_cache also SLAB_HWCACHE_ALIGN; shmem_inode_cache is
// neither (a tmpfs inode is the file itself).
const ObjectLayout dentry_layout{"dentry", dentry_fields, 192, 136, 0, SLAB_RECLAIM_ACCOUNT};
const ObjectLayout inode_layout{"inode_cache", inode_fields, 624, 368, 0, SLAB_RECLAIM_ACCOUNT};
const ObjectLayout ext2_inode_layout{"ext2_inode_cache", ext2_inode_fields, 848, 512, 0, SLAB_RECLAIM_ACCOUNT};
const ObjectLayout shmem_inode_layout{"shmem_inode_cache", shmem_inode_fields, 752, 448, 0, 0};
const ObjectLayout proc_inode_layout{"proc_inode_cache", proc_inode_fields, 696, 408, 0, SLAB_RECLAIM_ACCOUNT};
const ObjectLayout sock_inode_layout{
    "sock_inode_cache", sock_inode_fields, 832, 448, 0, SLAB_HWCACHE_ALIGN | SLAB_RECLAIM_ACCOUNT};

// ---------------------------------------------------------------------------------------------
// ObjectCache

ObjectCache::ObjectCache(SlabAllocator& slab, kmem_cache* cachep, const ObjectLayout& layout)
    : slab_(&slab), ram_(&slab.buddy().ram()), cachep_(cachep), layout_(layout) {
    const bool x64 = slab.buddy().arch() == KernelArch::X86_64;
    word_size_ = x64 ? 8 : 4;
    page_offset_ = x64 ? PAGE_OFFSET_X86_64 : PAGE_OFFSET_I386;
    unsigned end = 0;
    for (const ObjectField& f : layout.fields) {
        const unsigned size = x64 ? f.size64 : f.size32;
        if (!size) {
            slots_.push_back({});
            continue;
        }
        const unsigned align = std::min(word_size_, size & -size);  // largest power of two dividing size
        end = (end + align - 1) & ~(align - 1);
        slots_.push_back({static_cast<uint16_t>(end), static_cast<uint16_t>(size)});
        end += size;
    }
    object_size_ = std::max(end, x64 ? layout.size64 : layout.size32);
}

std::optional<unsigned> ObjectCache::field_index(std::string_view name) const {
    for (unsigned i = 0; i < layout_.fields.size(); ++i)
        if (name == layout_.fields[i].name) return i;
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// SlabObject

bool SlabObject::alloc(ObjectCache* cache) {
    release();
    if (!cache || !cache->slab_) return true;  // no slab (yet, or any more): unbacked
    auto object = cache->slab_->kmem_cache_alloc(cache->cachep_, GFP_KERNEL | __GFP_ZERO);
    if (!object) {
        object_ = FAILED;
        return false;
    }
    cache_ = cache;
    object_ = *object;
    ++cache->nr_objects_;
    return true;
}

void SlabObject::release() {
    ObjectCache* c = cache_;
    const PhysAddr object = object_;
    cache_ = nullptr;
    object_ = PhysAddr();
    if (!c) return;
    if (c->slab_) c->slab_->kmem_cache_free(c->cachep_, object);
    --c->nr_objects_;
    if (c->orphaned_ && !c->nr_objects_) delete c;
}

SlabObject::SlabObject(const SlabObject& other) {
    if (other.failed()) {
        object_ = FAILED;
        return;
    }
    if (!other.backed() || !alloc(other.cache_)) return;
    std::memcpy(cache_->ram_->host(object_, cache_->object_size_),
                cache_->ram_->host(other.object_, cache_->object_size_), cache_->object_size_);
}

SlabObject& SlabObject::operator=(const SlabObject& other) {
    if (this != &other) *this = SlabObject(other);
    return *this;
}

SlabObject& SlabObject::operator=(SlabObject&& other) noexcept {
    if (this != &other) {
        release();
        cache_ = other.cache_;
        object_ = other.object_;
        other.cache_ = nullptr;
        other.object_ = PhysAddr();
    }
    return *this;
}

void SlabObject::write_bytes(FieldSlot s, std::string_view bytes) const {
    if (!s.size) return;
    uint8_t* p = cache_->ram_->host(object_ + s.offset, s.size);
    const size_t n = std::min<size_t>(bytes.size(), s.size - 1u);
    std::memcpy(p, bytes.data(), n);
    std::memset(p + n, 0, s.size - n);
}

uint64_t SlabObject::read(FieldSlot s) const {
    uint64_t v = 0;
    if (s.size) std::memcpy(&v, cache_->ram_->host(object_ + s.offset, s.size), std::min<unsigned>(s.size, 8));
    return v;
}

// ---------------------------------------------------------------------------------------------
// KernelCaches

mmu::ErrorOr<std::unique_ptr<KernelCaches>> KernelCaches::create(SlabAllocator& slab) {
    std::unique_ptr<KernelCaches> kc(new KernelCaches);
    const bool x64 = slab.buddy().arch() == KernelArch::X86_64;
    auto make = [&](ObjectCache*& out, const ObjectLayout& l) -> mmu::ErrorOr<void> {
        auto c = TRY(slab.kmem_cache_create(l.name, x64 ? l.size64 : l.size32, l.align, l.flags));
        out = new ObjectCache(slab, c, l);
        return {};
    };
    // start_kernel's order: anon_vma_init, fork_init, proc_caches_init, vfs_caches_init
    // (dcache_init, inode_init, files_init), proc_root_init; then the initcalls: shmem_init,
    // sock_init, and ext2's init_inodecache.
    for (auto [out, layout] : {std::pair{&kc->anon_vma_cachep, &anon_vma_layout},
                               {&kc->anon_vma_chain_cachep, &anon_vma_chain_layout},
                               {&kc->task_struct_cachep, &task_struct_layout},
                               {&kc->mm_cachep, &mm_struct_layout},
                               {&kc->vm_area_cachep, &vm_area_struct_layout},
                               {&kc->dentry_cachep, &dentry_layout},
                               {&kc->inode_cachep, &inode_layout},
                               {&kc->filp_cachep, &file_layout},
                               {&kc->proc_inode_cachep, &proc_inode_layout},
                               {&kc->shmem_inode_cachep, &shmem_inode_layout},
                               {&kc->sock_inode_cachep, &sock_inode_layout},
                               {&kc->ext2_inode_cachep, &ext2_inode_layout}})
        TRY(make(*out, *layout));
    return kc;
}

namespace {
KernelCaches* current_vfs_caches = nullptr;
}  // namespace

KernelCaches* vfs_caches() { return current_vfs_caches; }
void set_vfs_caches(KernelCaches* caches) { current_vfs_caches = caches; }

KernelCaches::~KernelCaches() {
    if (current_vfs_caches == this) current_vfs_caches = nullptr;
    for (ObjectCache* c : all()) {
        if (!c) continue;
        c->slab_ = nullptr;
        c->orphaned_ = true;
        if (!c->nr_objects_) delete c;
    }
}

std::vector<std::string> KernelCaches::check_counts() const {
    std::vector<std::string> problems;
    for (const ObjectCache* c : all()) {
        if (!c || !c->slab()) continue;
        const uint64_t active = c->slab()->get_slabinfo(*c->cachep()).active_objs;
        if (active != c->nr_objects())
            problems.push_back(std::string(c->layout().name) + ": " + std::to_string(c->nr_objects()) +
                               " live objects but slabinfo counts " + std::to_string(active) + " active");
    }
    return problems;
}

}  // namespace guestos
