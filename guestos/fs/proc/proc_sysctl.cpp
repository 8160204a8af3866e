// /proc/sys (fs/proc/proc_sysctl.c): proc_sys_lookup, proc_sys_readdir, proc_sys_permission
// and proc_sys_call_handler over the registered ctl_tables.
#include "guestos/fs/proc/proc_sysctl.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstring>
#include <functional>

#include "guestos/include/sysctl.h"
#include "guestos/include/uapi/fcntl.h"

namespace guestos {

namespace {

const uint64_t PROC_DEV = makedev(0, 0x15);
constexpr uint64_t KMALLOC_MAX_SIZE = 4ull << 20;  // the largest buffer a handler gets

// The table path of a /proc/sys path: "" for /proc/sys, "vm", "vm/swappiness".
std::string sys_rel(const std::string& path) {
    std::string rel = path.size() > 9 ? path.substr(10) : "";
    while (!rel.empty() && rel.back() == '/') rel.pop_back();
    return rel;
}

// A stable inode number per name (proc_sys_make_inode gives fresh ones).
uint64_t sys_ino(const std::string& rel) { return 0xf1000000ull + (std::hash<std::string>{}(rel)&0xffffff); }

void fill_stat(struct stat& st, const std::string& rel, uint32_t mode, const timespec& time) {
    st = {};
    st.st_dev = PROC_DEV;
    st.st_ino = sys_ino(rel);
    st.st_mode = mode;
    st.st_nlink = 1;
    st.st_blksize = 1024;
    st.st_atim = st.st_mtim = st.st_ctim = time;
}

// One sysctl entry opened: each read or write runs its handler at the file position
// (proc_sys_read / proc_sys_write -> proc_sys_call_handler).
class proc_sys_file final : public file {
public:
    proc_sys_file(const ctl_table& t, std::string rel, const timespec& time)
        : table_(t), rel_(std::move(rel)), time_(time) {}
    long read(uint8_t* buf, uint64_t n, int64_t* pos) override { return call_handler(buf, n, pos, 0); }
    long write(const uint8_t* buf, uint64_t n, int64_t* pos) override {
        return call_handler(const_cast<uint8_t*>(buf), n, pos, 1);
    }
    // proc_sys_file_operations: copy_splice_read and iter_file_splice_write
    bool has_splice_read() const override { return true; }
    bool has_splice_write() const override { return true; }
    // default_llseek: any position from the start or the current one; none from the end
    // (the size is 0).
    long llseek(int64_t offset, int whence) override {
        const int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f_pos : whence == SEEK_END ? 0 : -1;
        if (base < 0 || base + offset < 0) return -EINVAL;
        return f_pos = base + offset;
    }
    long getattr(struct stat& st) override {
        fill_stat(st, rel_, S_IFREG | table_.mode, time_);
        return 0;
    }

private:
    long call_handler(uint8_t* buf, uint64_t count, int64_t* pos, int write) {
        if (sysctl_test_perm(table_.mode, write ? MAY_WRITE_ : MAY_READ_)) return -EPERM;
        if (!table_.handler) return -EINVAL;
        if (count >= KMALLOC_MAX_SIZE) return -ENOMEM;
        std::string kbuf(write ? reinterpret_cast<const char*>(buf) : "", write ? count : 0);
        kbuf.resize(count + 1);  // the handler's buffer, NUL-terminated as kvzalloc leaves it
        size_t len = count;
        if (const long err = table_.handler(&table_, write, kbuf.data(), &len, pos)) return err;
        if (!write) std::memcpy(buf, kbuf.data(), len);
        return static_cast<long>(len);
    }
    const ctl_table& table_;
    std::string rel_;
    timespec time_;
};

// A /proc/sys directory: ".", ".." and its entries in name order (proc_sys_readdir).
class proc_sys_dir final : public simple_dir_file {
public:
    proc_sys_dir(std::vector<dir_entry> entries, std::string rel, const timespec& time)
        : simple_dir_file(std::move(entries)), rel_(std::move(rel)), time_(time) {}
    long getattr(struct stat& st) override {
        fill_stat(st, rel_, S_IFDIR | 0555, time_);
        return 0;
    }

private:
    std::string rel_;
    timespec time_;
};

std::shared_ptr<file> open_dir(const ctl_table_root& root, const std::string& rel, const timespec& time) {
    const std::string parent = rel.rfind('/') == std::string::npos ? "" : rel.substr(0, rel.rfind('/'));
    std::vector<dir_entry> e = {{sys_ino(rel), 1, DT_DIR, "."}, {rel.empty() ? 1 : sys_ino(parent), 2, DT_DIR, ".."}};
    for (const auto& [name, is_dir] : root.list(rel))
        e.push_back({sys_ino(rel.empty() ? name : rel + "/" + name), static_cast<int64_t>(e.size() + 1),
                     static_cast<unsigned char>(is_dir ? DT_DIR : DT_REG), name});
    return std::make_shared<proc_sys_dir>(std::move(e), rel, time);
}

// The entry rel names, or null.
const ctl_table* lookup_entry(const ctl_table_root& root, const std::string& rel) {
    const auto slash = rel.rfind('/');
    return slash == std::string::npos ? root.find_entry("", rel)
                                      : root.find_entry(rel.substr(0, slash), rel.substr(slash + 1));
}

}  // namespace

bool is_proc_sys_path(const std::string& path) { return path == "/proc/sys" || path.rfind("/proc/sys/", 0) == 0; }

long proc_sys_open(ctl_table_root& root, const std::string& path, unsigned flags, const timespec& time,
                   std::shared_ptr<file>& out) {
    const std::string rel = sys_rel(path);
    const unsigned acc = flags & O_ACCMODE_;
    const int mask = (acc != O_WRONLY_ ? MAY_READ_ : 0) | (acc != O_RDONLY_ ? MAY_WRITE_ : 0);
    if (root.is_dir(rel)) {
        if (mask & MAY_WRITE_) return -EISDIR;
        out = open_dir(root, rel, time);
    } else {
        const ctl_table* t = lookup_entry(root, rel);
        if (!t) return -ENOENT;
        if (flags & O_DIRECTORY_) return -ENOTDIR;
        if (const long e = sysctl_test_perm(t->mode, mask)) return e;  // proc_sys_permission
        out = std::make_shared<proc_sys_file>(*t, rel, time);
    }
    out->f_flags = flags;
    return 0;
}

long proc_sys_getattr(ctl_table_root& root, const std::string& path, const timespec& time, struct stat& st) {
    const std::string rel = sys_rel(path);
    if (root.is_dir(rel)) {
        fill_stat(st, rel, S_IFDIR | 0555, time);
        return 0;
    }
    const ctl_table* t = lookup_entry(root, rel);
    if (!t) return -ENOENT;
    fill_stat(st, rel, S_IFREG | t->mode, time);
    return 0;
}

}  // namespace guestos
