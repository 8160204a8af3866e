// execve of a static ELF (fs/binfmt_elf.c load_elf_binary): a fresh mm, PT_LOADs as private
// file mappings, bss, brk, the stack with argv/envp/auxv, and the entry registers.
#include <sys/random.h>
#include <sys/stat.h>
#include <climits>
#include <cstdlib>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "guestos/mm/highmem.h"
#include "guestos/arch/x86/entry/vdso/vma.h"
#include "devices/cpuid.h"
#include "guestos/include/kernel.h"
#include "guestos/mm/vmalloc.h"
#include "guestos/include/uapi/auxvec.h"
#include "guestos/mm/memory.h"
#include "guestos/mm/mmap.h"
#include "loader/elf.h"
#include "loader/stack.h"

namespace guestos {

namespace {

// The auxv words of a built stack: after argc, argv, NULL, envp, NULL (create_elf_tables'
// layout), up to and including AT_NULL.
std::vector<uint64_t> saved_auxv(const loader::StackImage& img, size_t ptr) {
    std::vector<uint64_t> out;
    size_t at = 0;
    auto word = [&](uint64_t& v) {
        if (at + ptr > img.bytes.size()) return false;
        v = 0;
        std::memcpy(&v, img.bytes.data() + at, ptr);
        at += ptr;
        return true;
    };
    uint64_t v = 0;
    if (!word(v)) return out;  // argc
    for (int nulls = 0; nulls < 2;)
        if (!word(v)) return out;
        else if (!v) ++nulls;
    for (uint64_t type = 0, value = 0; word(type) && word(value);) {
        out.push_back(type), out.push_back(value);
        if (!type) break;
    }
    return out;
}

// Address-space geometry of each ABI (processor.h TASK_SIZE, ELF_ET_DYN_BASE, no randomization).
struct Geometry {
    uint64_t task_size, stack_top, et_dyn_base;
};
Geometry geometry(Abi abi) {
    if (abi == Abi::X86_64) return {0x7ffffffff000ull, 0x7ffffffff000ull, 0x555555554000ull};
    return {0xC0000000ull, 0xC0000000ull, 0x56555000ull};
}

// mmap_base(): below the stack, leaving the stack rlimit (at least 128 MiB) free.
uint64_t mmap_base(uint64_t task_size) {
    const uint64_t gap = 128ull << 20;
    return mmu::page_align_down(task_size - gap);
}

// Maps one PT_LOAD: its file part privately, then its bss as anonymous memory (elf_map + set_brk).
mmu::ErrorOr<void> map_segment(mm_struct& mm, const loader::ElfSegment& seg, uint64_t bias,
                               const std::shared_ptr<file>& f) {
    unsigned long prot = (seg.read ? PROT_READ_ : 0) | (seg.write ? PROT_WRITE_ : 0) | (seg.exec ? PROT_EXEC_ : 0);
    uint64_t vaddr = seg.vaddr.value + bias;
    uint64_t start = mmu::page_align_down(vaddr);
    uint64_t file_end = vaddr + seg.filesz;
    uint64_t mem_end = mmu::page_align_up(vaddr + seg.memsz);
    if (seg.filesz) {
        uint64_t off = seg.offset - (vaddr - start);
        long r = do_mmap(mm, f, start, file_end - start, prot, MAP_PRIVATE_ | MAP_FIXED_, off >> PAGE_SHIFT);
        if (r < 0) return mmu::Error::from_errno(static_cast<int>(-r), "cannot map an ELF segment");
    }
    uint64_t anon_start = mmu::page_align_up(file_end);
    if (seg.memsz > seg.filesz && (file_end & (PAGE_SIZE - 1)) && seg.filesz) {
        // padzero: the file's bytes after filesz on the last file page must read as zero.
        std::vector<uint8_t> zeros(anon_start - file_end, 0);
        if (!copy_to_user(mm, VirtAddr(file_end), zeros.data(), zeros.size()) && seg.write)
            return mmu::Error::from_errno(EFAULT, "cannot clear the end of an ELF segment");
    }
    if (mem_end > anon_start) {
        long r =
            do_mmap(mm, nullptr, anon_start, mem_end - anon_start, prot, MAP_PRIVATE_ | MAP_FIXED_ | MAP_ANONYMOUS_, 0);
        if (r < 0) return mmu::Error::from_errno(static_cast<int>(-r), "cannot map bss");
    }
    return {};
}

// The absolute path without symlinks, as d_path shows a file (/proc/self/exe, maps).
std::string canonical_path(const std::string& path) {
    char buf[PATH_MAX];
    return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

std::string basename_of(const std::string& path) {
    auto pos = path.rfind('/');
    return pos == std::string::npos ? path : path.substr(pos + 1);
}

}  // namespace

mmu::ErrorOr<ExecResult> Kernel::exec(task_struct& task, const std::string& path, const std::vector<std::string>& argv,
                                      const std::vector<std::string>& envp) {
    linux_binprm bprm;
    bprm.filename = path;
    bprm.argv = argv;
    bprm.envp = envp;
    auto parsed = TRY(loader::load_elf_file(path, bprm.contents));
    // The executable's inode shows the host file's identity, as in the native /proc/self/maps.
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        bprm.i_dev = st.st_dev;
        bprm.i_ino = st.st_ino;
        bprm.i_mode = st.st_mode;
    }
    bprm.real_path = canonical_path(path);
    return load_elf_binary(task, bprm, parsed);
}

mmu::ErrorOr<ExecResult> Kernel::load_elf_binary(task_struct& task, linux_binprm& bprm, const loader::ElfImage& elf) {
    const std::string& path = bprm.filename;
    const std::vector<std::string>& argv = bprm.argv;
    const std::vector<std::string>& envp = bprm.envp;
    const Abi abi = elf.cls == loader::ElfClass::Elf64 ? Abi::X86_64 : Abi::I386;
    if (!buddy_) {
        TRY(setup_memory(abi));
        memory_abi_ = abi;
    } else if (memory_abi_ != abi) {
        return mmu::Error::from_errno(ENOEXEC, bprm.filename + ": i386 and x86-64 programs cannot share one emu run");
    }
    TRY(slab_bootstrap(task));
    const Geometry geo = geometry(abi);
    auto mm = mm_alloc(caches_.get());
    if (!mm) return mmu::Error::from_errno(ENOMEM, "out of emulated RAM for the mm_struct");
    mm->ram = ram_.get();
    mm->page_alloc = page_alloc_;
    mm->zero_page = zero_page_;
    mm->kpt = kpt_.get();
    mm->highmem = highmem_.get();
    mm->stack_rlimit = task.signal->rlim[RLIMIT_STACK_].rlim_cur;
    mm->paging_mode = abi == Abi::X86_64 ? mmu::PagingMode::LongMode4 : cfg_.i386_paging;
    mm->task_size = geo.task_size;
    mm->mmap_base = mmap_base(geo.task_size);
    if (!pgd_alloc(*mm)) return mmu::Error::from_errno(ENOMEM, "out of emulated RAM for page tables");
    // A failure below tears the new address space down again.
    struct Teardown {
        mm_struct* mm;
        ~Teardown() {
            if (mm) exit_mmap(*mm);
        }
    } teardown{mm.get()};

    const std::string real = bprm.real_path;
    auto ino = std::make_shared<inode>();
    ino->i_dev = bprm.i_dev;
    ino->i_ino = bprm.i_ino;
    ino->i_mode = bprm.i_mode;
    ino->path = real;
    ino->contents = std::move(bprm.contents);
    ino->i_size = ino->contents.size();
    ino->i_data.a_ops = &host_file_aops;  // its pages are read into the page cache on demand
    ino->i_data.km = kmem();
    auto f = std::make_shared<file>(ino);
    if (!f->slab.alloc(caches_->filp_cachep))
        return mmu::Error::from_errno(ENOMEM, "out of emulated RAM for the executable's struct file");

    const uint64_t bias = elf.is_pie() ? geo.et_dyn_base - mmu::page_align_down(elf.min_vaddr) : 0;
    uint64_t brk = 0, start_code = ~0ull, end_code = 0, start_data = 0, end_data = 0;
    for (const auto& seg : elf.loads) {
        TRY(map_segment(*mm, seg, bias, f));
        uint64_t v = seg.vaddr.value + bias;
        if (seg.exec) {
            start_code = std::min(start_code, v);
            end_code = std::max(end_code, v + seg.filesz);
        } else {
            if (!start_data) start_data = v;
            end_data = std::max(end_data, v + seg.filesz);
        }
        brk = std::max(brk, v + seg.memsz);
    }
    mm->start_code = start_code == ~0ull ? 0 : start_code;
    mm->end_code = end_code;
    mm->start_data = start_data;
    mm->end_data = end_data;
    mm->start_brk = mm->brk = mmu::page_align_up(brk);

    // arch_setup_additional_pages: the vDSO, top-down in the mmap area, before the auxv
    // that announces it.
    uint64_t vdso = 0;
    if (vdso_) {
        const long r = map_vdso(*mm, *vdso_);
        if (r < 0) return mmu::Error::from_errno(static_cast<int>(-r), "cannot map the vDSO");
        vdso = static_cast<uint64_t>(r);
    }

    loader::StackSpec spec;
    spec.cls = elf.cls;
    spec.stack_top = VirtAddr(geo.stack_top);
    spec.argv = argv;
    spec.envp = envp;
    spec.execfn = bprm.execfn.empty() ? path : bprm.execfn;
    spec.platform = abi == Abi::X86_64 ? "x86_64" : "i686";
    if (getrandom(spec.random_bytes.data(), spec.random_bytes.size(), 0) != 16)
        std::memset(spec.random_bytes.data(), 0x5a, spec.random_bytes.size());
    const uint64_t phdr = elf.phdr_vaddr ? elf.phdr_vaddr + bias : 0;
    // ARCH_DLINFO first: the vDSO (and i386's system call entry), then AT_MINSIGSTKSZ.
    if (vdso && abi == Abi::I386) spec.auxv.push_back({AT_SYSINFO_, vdso + vdso_->image->sym___kernel_vsyscall});
    if (vdso) spec.auxv.push_back({AT_SYSINFO_EHDR_, vdso});
    spec.auxv.push_back({AT_MINSIGSTKSZ, abi == Abi::X86_64 ? 3632ull : 2032ull});
    spec.auxv.insert(spec.auxv.end(), {
                                          {AT_HWCAP, devices::cpuid(1, 0).edx},  // ELF_HWCAP: CPUID leaf 1 EDX
                                          {AT_PAGESZ, PAGE_SIZE},
                                          {AT_CLKTCK, 100},
                                          {AT_PHDR, phdr},
                                          {AT_PHENT, elf.phentsize},
                                          {AT_PHNUM, elf.phnum},
                                          {AT_BASE, 0},
                                          {AT_FLAGS, 0},
                                          {AT_ENTRY, elf.entry + bias},
                                          {AT_UID, task.cred.uid},
                                          {AT_EUID, task.cred.euid},
                                          {AT_GID, task.cred.gid},
                                          {AT_EGID, task.cred.egid},
                                          {AT_SECURE, 0},
                                          {AT_HWCAP2, 0},  // neither ring-3 MWAIT nor FSGSBASE
                                      });
    auto stack = TRY(loader::build_initial_stack(spec));
    const auto& img = stack;
    // The stack VMA: the pages holding the argument strings plus 128 KiB (setup_arg_pages).
    const uint64_t stack_expand = 128ull << 10;
    const uint64_t stack_start = mmu::page_align_down(std::min(img.argv_start.value, img.sp.value)) - stack_expand;
    unsigned long stack_prot = PROT_READ_ | PROT_WRITE_ | (elf.exec_stack ? PROT_EXEC_ : 0);
    long sr = do_mmap(*mm, nullptr, stack_start, geo.stack_top - stack_start, stack_prot,
                      MAP_PRIVATE_ | MAP_FIXED_ | MAP_ANONYMOUS_ | MAP_GROWSDOWN_, 0);
    if (sr < 0) return mmu::Error::from_errno(static_cast<int>(-sr), "cannot map the stack");
    if (!copy_to_user(*mm, img.sp, img.bytes.data(), img.bytes.size()))
        return mmu::Error::from_errno(ENOMEM, "cannot write the initial stack");
    mm->start_stack = img.sp.value;
    mm->arg_start = img.argv_start.value;
    mm->arg_end = img.argv_end.value;
    mm->env_start = img.envp_start.value;
    mm->env_end = img.envp_end.value;
    mm->saved_auxv = saved_auxv(img, abi == Abi::X86_64 ? 8 : 4);

    teardown.mm = nullptr;
    std::shared_ptr<mm_struct> old = std::move(task.mm);
    task.mm = std::move(mm);
    task.abi = abi;
    mmget(*task.mm);
    if (old) mmput(this, *old);  // exec_mmap: the old address space loses a user
    task.exe_path = real;
    task.exe_inode = ino;
    task.comm = basename_of(path).substr(0, 15);
    task.flags &= ~PF_FORKNOEXEC;  // begin_new_exec
    sync_task_slab_images(task);
    return ExecResult{elf.entry + bias, img.sp.value};
}

}  // namespace guestos
