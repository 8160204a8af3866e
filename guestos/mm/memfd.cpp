// memfd_create and the file seals of shmem files (mm/memfd.c, and the checks in
// mm/shmem.c): a memfd created with MFD_ALLOW_SEALING can be sealed against shrinking,
// growing and writing.
#include <sys/stat.h>

#include <cerrno>

#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/mm_types.h"
#include "guestos/mm/shmem.h"
#include "guestos/include/kernel.h"
#include "guestos/include/syscalls.h"

namespace guestos {

namespace {

bool is_write_sealed(uint32_t seals) { return seals & (F_SEAL_WRITE_ | F_SEAL_FUTURE_WRITE_); }

// A shared mapping of the inode that may become writable (mapping_deny_writable's count,
// i_mmap_writable).
bool mapping_writably_mapped(address_space& m) {
    for (vm_area_struct* v : m.i_mmap.overlapping(0, UINT64_MAX))
        if ((v->vm_flags & VM_SHARED) && (v->vm_flags & VM_MAYWRITE)) return true;
    return false;
}

// memfd_add_seals: a file open for writing, known seals, not sealed against sealing; a write
// seal only while nothing maps the file writably.
long memfd_add_seals(file& f, uint64_t seals) {
    if ((f.f_flags & O_ACCMODE_) == O_RDONLY_) return -EPERM;
    if (seals & ~static_cast<uint64_t>(F_ALL_SEALS_)) return -EINVAL;
    inode& ino = *f.f_inode;
    if (ino.seals & F_SEAL_SEAL_) return -EPERM;
    if ((seals & F_SEAL_WRITE_) && !(ino.seals & F_SEAL_WRITE_) && mapping_writably_mapped(ino.i_data)) return -EBUSY;
    if ((seals & F_SEAL_EXEC_) && (ino.i_mode & 0111))  // SEAL_EXEC implies SEAL_WRITE: W^X from the start
        seals |= F_SEAL_SHRINK_ | F_SEAL_GROW_ | F_SEAL_WRITE_ | F_SEAL_FUTURE_WRITE_;
    ino.seals |= static_cast<uint32_t>(seals);
    return 0;
}

}  // namespace

long shmem_seal_write(const inode& ino, uint64_t pos, uint64_t& len) {
    if (!(ino.seals & (F_SEAL_GROW_ | F_SEAL_WRITE_ | F_SEAL_FUTURE_WRITE_))) return 0;
    if (is_write_sealed(ino.seals)) return -EPERM;
    // F_SEAL_GROW: what lies inside the file is written, the first byte past its end is refused.
    if (pos >= ino.i_size) return -EPERM;
    if (len > ino.i_size - pos) len = ino.i_size - pos;
    return 0;
}

long shmem_seal_resize(const inode& ino, uint64_t new_size) {
    if ((new_size < ino.i_size && (ino.seals & F_SEAL_SHRINK_)) ||
        (new_size > ino.i_size && (ino.seals & F_SEAL_GROW_)))
        return -EPERM;
    return 0;
}

long memfd_check_seals_mmap(const inode& ino, unsigned long& vm_flags) {
    if (!is_write_sealed(ino.seals) || !(vm_flags & VM_SHARED)) return 0;  // private: writability is irrelevant
    if (vm_flags & VM_WRITE) return -EPERM;
    vm_flags &= ~VM_MAYWRITE;  // mprotect may not make it writable later
    return 0;
}

long memfd_fcntl(file& f, unsigned cmd, uint64_t arg) {
    if (!f.f_inode || !shmem_mapping(*f.f_inode) || !S_ISREG(f.f_inode->i_mode)) return -EINVAL;
    if (cmd == F_GET_SEALS_) return f.f_inode->seals;
    return memfd_add_seals(f, static_cast<uint32_t>(arg));  // an unsigned int: the upper bits go
}

long sys_memfd_create(SysCtx& c, const uint64_t* a) {
    constexpr uint64_t MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2, MFD_HUGETLB = 4, MFD_NOEXEC_SEAL = 8, MFD_EXEC = 0x10;
    constexpr uint64_t MFD_NAME_MAX_LEN = 249;  // NAME_MAX - strlen("memfd:")
    const uint64_t flags = a[1];
    if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC)) return -EINVAL;
    if ((flags & MFD_EXEC) && (flags & MFD_NOEXEC_SEAL)) return -EINVAL;
    if (flags & MFD_HUGETLB) return -EINVAL;  // no hugetlbfs
    std::string name;
    const long len = strncpy_from_user(c.mm, VirtAddr(a[0]), MFD_NAME_MAX_LEN + 1, name);
    if (len < 0) return len;
    if (static_cast<uint64_t>(len) > MFD_NAME_MAX_LEN) return -EINVAL;
    auto f = shmem_file_setup(c.kernel.kmem(), name);
    if (flags & MFD_NOEXEC_SEAL) {  // not executable, and sealed so (F_SEAL_EXEC)
        f->f_inode->i_mode &= ~0111u;
        f->f_inode->seals = (f->f_inode->seals & ~F_SEAL_SEAL_) | F_SEAL_EXEC_;
    } else if (flags & MFD_ALLOW_SEALING) {
        f->f_inode->seals &= ~F_SEAL_SEAL_;
    }
    return get_unused_fd_install(c, f, flags & MFD_CLOEXEC);
}

}  // namespace guestos
