// execve of an ELF program (fs/binfmt_elf.c load_elf_binary): a fresh mm, PT_LOADs as private
// file mappings, bss, brk, the program interpreter of a dynamically linked program
// (load_elf_interp), the stack with argv/envp/auxv, and the entry registers.
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

// A host file's identity and canonical path, as the native /proc/self/maps shows it.
void stat_identity(const std::string& path, binprm_file& bf) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        bf.i_dev = st.st_dev;
        bf.i_ino = st.st_ino;
        bf.i_mode = st.st_mode;
    }
    bf.real_path = canonical_path(path);
}

std::string basename_of(const std::string& path) {
    auto pos = path.rfind('/');
    return pos == std::string::npos ? path : path.substr(pos + 1);
}

// The struct file execve maps a program or interpreter through: an inode that shows the
// file's identity and reads its pages from the bytes execve read (host_file_aops); null
// when the filp slab is out of RAM. The bytes move into the inode.
std::shared_ptr<file> exec_file(binprm_file& bf, const KernelCaches& caches, kernel_mem km) {
    auto ino = std::make_shared<inode>();
    ino->i_dev = bf.i_dev;
    ino->i_ino = bf.i_ino;
    ino->i_mode = bf.i_mode;
    ino->path = bf.real_path;
    ino->contents = std::move(bf.contents);
    ino->i_size = ino->contents.size();
    ino->i_data.a_ops = &host_file_aops;  // its pages are read into the page cache on demand
    ino->i_data.km = km;
    auto f = std::make_shared<file>(ino);
    if (!f->slab.alloc(caches.filp_cachep)) return nullptr;
    return f;
}

// load_elf_interp: the interpreter's PT_LOADs, an ET_DYN one wherever mmap finds room for
// its whole span (top-down, so above the program's mappings and below the stack); returns
// its load bias (AT_BASE).
mmu::ErrorOr<uint64_t> load_elf_interp(mm_struct& mm, const loader::ElfImage& ie, const std::shared_ptr<file>& f) {
    uint64_t bias = 0;
    if (ie.is_pie()) {
        const uint64_t total = ie.max_vaddr - ie.min_vaddr;  // total_mapping_size
        const long r = get_unmapped_area(mm, 0, total, 0);
        if (r < 0) return mmu::Error::from_errno(static_cast<int>(-r), "no room for the program interpreter");
        bias = static_cast<uint64_t>(r) - ie.min_vaddr;
    }
    for (const auto& seg : ie.loads) TRY(map_segment(mm, seg, bias, f));
    return bias;
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
    stat_identity(path, bprm);
    if (!parsed.interp.empty()) {
        // The first program's interpreter is the host's, as the program is (open_exec's
        // errors: a missing or unreadable interpreter fails the exec).
        auto r = loader::load_elf_file(parsed.interp, bprm.interp.contents);
        if (r.is_error() && bprm.interp.contents.empty())
            return mmu::Error::from_errno(r.error().errno_value, path + ": program interpreter " + r.error().message);
        stat_identity(parsed.interp, bprm.interp);
    }
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
    std::optional<loader::ElfImage> interp_elf;
    if (!elf.interp.empty()) {
        auto ie = loader::parse_interp(elf, bprm.interp.contents);
        if (ie.is_error())
            return mmu::Error::from_errno(ie.error().errno_value, elf.interp + ": " + ie.error().message);
        interp_elf = std::move(ie.value());
    }
    auto f = exec_file(bprm, *caches_, kmem());
    if (!f) return mmu::Error::from_errno(ENOMEM, "out of emulated RAM for the executable's struct file");
    auto ino = f->f_inode;

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

    // A dynamically linked program starts in its interpreter, mapped after it (before the
    // vDSO), which finds the program through AT_PHDR and AT_ENTRY.
    uint64_t entry = elf.entry + bias, interp_bias = 0;
    if (interp_elf) {
        auto interp_file = exec_file(bprm.interp, *caches_, kmem());
        if (!interp_file)
            return mmu::Error::from_errno(ENOMEM, "out of emulated RAM for the interpreter's struct file");
        interp_bias = TRY(load_elf_interp(*mm, *interp_elf, interp_file));
        entry = interp_elf->entry + interp_bias;
    }

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
                                          {AT_BASE, interp_bias},
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
    return ExecResult{entry, img.sp.value};
}

}  // namespace guestos
