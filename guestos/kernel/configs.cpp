// /proc/config.gz (kernel/configs.c): Linux embeds its .config compressed at build time; emu
// writes one that claims only what it implements: a 64-bit x86 kernel with 32-bit programs,
// an MMU with swap, System V IPC and POSIX message queues, the fd-based event files, tmpfs,
// ext2 and procfs, inotify, file locks, UNIX and IP sockets. What it lacks is "not set".
#include "guestos/kernel/configs.h"

#include <zlib.h>

#include <cstring>

namespace guestos {

namespace {

// The option lines, in the order the Kconfig menus give them.
constexpr const char* ikconfig_options[] = {
    "CONFIG_64BIT=y",
    "CONFIG_X86_64=y",
    "CONFIG_X86=y",
    "CONFIG_MMU=y",
    "CONFIG_SWAP=y",
    "CONFIG_SYSVIPC=y",
    "CONFIG_POSIX_MQUEUE=y",
    "CONFIG_IKCONFIG=y",
    "CONFIG_IKCONFIG_PROC=y",
    "# CONFIG_CGROUPS is not set",
    "# CONFIG_NAMESPACES is not set",
    "CONFIG_SYSCTL=y",
    "CONFIG_MULTIUSER=y",
    "CONFIG_FUTEX=y",
    "CONFIG_EPOLL=y",
    "CONFIG_SIGNALFD=y",
    "CONFIG_TIMERFD=y",
    "CONFIG_EVENTFD=y",
    "CONFIG_SHMEM=y",
    "CONFIG_ADVISE_SYSCALLS=y",
    "CONFIG_MEMBARRIER=y",
    "CONFIG_KCMP=y",
    "# CONFIG_RSEQ is not set",
    "# CONFIG_IO_URING is not set",
    "# CONFIG_BPF_SYSCALL is not set",
    "# CONFIG_USERFAULTFD is not set",
    "# CONFIG_PERF_EVENTS is not set",
    "# CONFIG_SECCOMP is not set",
    "# CONFIG_KEYS is not set",
    "# CONFIG_MODULES is not set",
    "CONFIG_HZ_250=y",
    "CONFIG_HZ=250",
    "CONFIG_IA32_EMULATION=y",
    "CONFIG_COMPAT=y",
    "CONFIG_BINFMT_ELF=y",
    "CONFIG_BINFMT_SCRIPT=y",
    "# CONFIG_BINFMT_MISC is not set",
    "CONFIG_NET=y",
    "CONFIG_UNIX=y",
    "CONFIG_INET=y",
    "CONFIG_IPV6=y",
    "CONFIG_BLOCK=y",
    "CONFIG_EXT2_FS=y",
    "CONFIG_FILE_LOCKING=y",
    "CONFIG_INOTIFY_USER=y",
    "# CONFIG_FANOTIFY is not set",
    "CONFIG_PROC_FS=y",
    "CONFIG_PROC_SYSCTL=y",
    "CONFIG_TMPFS=y",
    "CONFIG_TMPFS_XATTR=y",
    "CONFIG_MEMFD_CREATE=y",
    "CONFIG_DEVTMPFS=y",
    "# CONFIG_WATCH_QUEUE is not set",
};

// The configuration text, as scripts/kconfig writes a .config.
std::string ikconfig_text(const std::string& release) {
    std::string s =
        "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 " + release + " Kernel Configuration\n#\n";
    for (const char* line : ikconfig_options) s += std::string(line) + "\n";
    return s;
}

}  // namespace

std::string ikconfig_gz(const std::string& release) {
    const std::string text = ikconfig_text(release);
    // gzip -n -9 as the kernel's build compresses it: no name, mtime 0 (zlib's gzip header).
    z_stream zs;
    std::memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
    std::string out(deflateBound(&zs, text.size()), '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    zs.avail_in = static_cast<uInt>(text.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    const int r = deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return r == Z_STREAM_END ? out : std::string();
}

}  // namespace guestos
