// mount(2)'s MS_* flags and umount2's flags (uapi/linux/mount.h, linux/fs.h).
#pragma once
#include <cstdint>

namespace guestos {

inline constexpr uint64_t MS_RDONLY_ = 1, MS_NOSUID_ = 2, MS_NODEV_ = 4, MS_NOEXEC_ = 8, MS_SYNCHRONOUS_ = 16,
                          MS_REMOUNT_ = 32, MS_MANDLOCK_ = 64, MS_DIRSYNC_ = 128, MS_NOSYMFOLLOW_ = 256,
                          MS_NOATIME_ = 1024, MS_NODIRATIME_ = 2048, MS_BIND_ = 4096, MS_MOVE_ = 8192, MS_REC_ = 16384,
                          MS_SILENT_ = 32768, MS_POSIXACL_ = 1 << 16, MS_UNBINDABLE_ = 1 << 17, MS_PRIVATE_ = 1 << 18,
                          MS_SLAVE_ = 1 << 19, MS_SHARED_ = 1 << 20, MS_RELATIME_ = 1 << 21, MS_KERNMOUNT_ = 1 << 22,
                          MS_I_VERSION_ = 1 << 23, MS_STRICTATIME_ = 1 << 24, MS_LAZYTIME_ = 1 << 25,
                          MS_NOUSER_ = 1ull << 31;
// The old magic in the high half of the flags (MS_MGC_VAL), ignored when present.
inline constexpr uint64_t MS_MGC_VAL_ = 0xC0ED0000, MS_MGC_MSK_ = 0xffff0000;
inline constexpr int MNT_FORCE_ = 1, MNT_DETACH_ = 2, MNT_EXPIRE_ = 4, UMOUNT_NOFOLLOW_ = 8;

}  // namespace guestos
