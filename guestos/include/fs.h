// Open files (struct file) and the inodes behind them. A file's operations are virtual
// methods on host buffers; the syscalls copy to and from guest memory around them.
#pragma once
#include <sys/stat.h>
#include <time.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "guestos/mm/filemap.h"
#include "guestos/mm/shrinker.h"
#include "guestos/mm/slab_object.h"

namespace guestos {

struct task_struct;
struct poll_table;  // guestos/include/poll.h
struct dentry;
struct vfsmount;
struct super_block;
class inode_operations;
class file;
struct pipe_inode_info;  // guestos/fs/pipe.h
struct xattr_handler;    // guestos/include/xattr.h

// A place in the tree (struct path): a mount and a dentry of its filesystem.
struct path {
    vfsmount* mnt = nullptr;
    std::shared_ptr<struct dentry> dentry;
    explicit operator bool() const { return mnt && dentry; }
    bool operator==(const path& o) const { return mnt == o.mnt && dentry == o.dentry; }
};

// What setattr changes (struct iattr, ATTR_*).
inline constexpr unsigned ATTR_MODE = 1, ATTR_UID = 2, ATTR_GID = 4, ATTR_SIZE = 8, ATTR_ATIME = 16, ATTR_MTIME = 32,
                          ATTR_CTIME = 64, ATTR_ATIME_SET = 128, ATTR_MTIME_SET = 256;
struct iattr {
    unsigned ia_valid = 0;
    uint32_t ia_mode = 0;
    uint32_t ia_uid = 0, ia_gid = 0;
    uint64_t ia_size = 0;
    struct timespec ia_atime {
    }, ia_mtime{};
};

// statfs's answer (struct kstatfs).
struct kstatfs {
    uint64_t f_type = 0, f_bsize = 4096, f_blocks = 0, f_bfree = 0, f_bavail = 0, f_files = 0, f_ffree = 0;
    uint64_t f_fsid = 0, f_namelen = 255, f_frsize = 4096, f_flags = 0;
};

// Superblock flags (SB_*) and mount flags (MNT_*), and statfs's ST_* view of them.
inline constexpr unsigned SB_RDONLY = 1, MNT_READONLY = 0x40;
inline constexpr unsigned MNT_NOSUID = 0x01, MNT_NODEV = 0x02, MNT_NOEXEC = 0x04, MNT_NOATIME = 0x08,
                          MNT_NODIRATIME = 0x10, MNT_RELATIME = 0x20;
inline constexpr uint64_t ST_RDONLY = 1, ST_NOSUID = 2, ST_NODEV = 4, ST_RELATIME = 0x1000;

// One mounted filesystem instance (struct super_block + super_operations).
struct super_block {
    // Registers its shrinker (alloc_super: s_shrink with super_cache_count/super_cache_scan).
    super_block();
    // Unregisters it (deactivate_locked_super: shrinker_free).
    virtual ~super_block();
    super_block(const super_block&) = delete;
    super_block& operator=(const super_block&) = delete;
    std::string s_type;  // the file_system_type's name: "tmpfs", "proc", "ext2", "hostfs"
    uint64_t s_magic = 0;
    uint64_t s_dev = 0;
    unsigned s_flags = 0;
    uint64_t s_maxbytes = 0x7fffffffffffffffull;
    uint32_t s_blocksize = 4096;
    std::shared_ptr<struct dentry> s_root;
    // Its extended attribute namespaces, null-terminated (s_xattr); null: none (EOPNOTSUPP).
    const xattr_handler* const* s_xattr = nullptr;
    // statfs (super_operations.statfs): f_type and the counts.
    virtual long statfs(kstatfs& buf) {
        buf.f_type = s_magic;
        return 0;
    }
    // Whether a cached dentry still says the truth (dentry_operations.d_revalidate): a
    // filesystem whose names change behind the dcache (procfs, a host directory) checks.
    virtual bool d_revalidate(struct dentry&) { return true; }
    // Writes every dirty page back (sync_filesystem).
    virtual void sync_fs() {}
    // The flusher's write of one inode (writeback_single_inode: do_writepages, then
    // write_inode): its dirty pages, and the inode and metadata where the filesystem has them.
    virtual long writeback_inode(inode& i);
    // The unmount's last write (super_operations.put_super), before the dentries go.
    virtual void put_super() {}
    // Appends the filesystem's own mount options, each as ",name=value", as /proc/mounts
    // shows them (super_operations.show_options).
    virtual void show_options(std::string&) {}

    // The dcache and icache shrinker (s_shrink): super_cache_count / super_cache_scan over
    // its unused dentries, then its unused inodes (guestos/fs/super.cpp).
    shrinker s_shrink;
    // A name that exists is the file itself (tmpfs, devtmpfs: no backing store to read it
    // again from), so its dentry is never unused (simple_lookup's dentries pinned by dget).
    bool s_pin_dentries = false;
    // Whether the inode is on the inode LRU: held by nothing but the filesystem's own inode
    // cache, linked, and clean (no dirty or writeback page, its on-disk copy up to date):
    // inode_lru_isolate's test. Inodes that go with their last dentry are never there.
    virtual bool inode_unused(inode&) { return false; }
    // Takes an unused inode out of the filesystem's inode cache (the hash: __remove_inode_hash)
    // and gives the caller its last reference, whose release evicts it, page cache and all.
    virtual std::shared_ptr<inode> isolate_unused_inode(inode&) { return nullptr; }
};

// What the read and write syscalls check of a file (FMODE_*): a pipe is a stream, so pread
// and pwrite on it fail with ESPIPE; FMODE_NOWAIT files take RWF_NOWAIT (pipes, sockets,
// the memory devices), the rest answer it EOPNOTSUPP.
inline constexpr unsigned FMODE_PREAD = 0x8, FMODE_PWRITE = 0x10, FMODE_NOWAIT = 0x8000000;
// POSIX_FADV_RANDOM was given: reads read what they ask for, no window (FMODE_RANDOM).
inline constexpr unsigned FMODE_RANDOM = 0x1000;

// A file's read-ahead state (struct file_ra_state, mm/readahead.c): the window
// [start, start + size) last read ahead, of which the last async_size pages were read before
// anyone asked, the first of those carrying PG_readahead (reaching it reads the next window).
struct file_ra_state {
    uint64_t start = 0;
    uint64_t size = 0;
    uint64_t async_size = 0;
    uint64_t ra_pages = 0;   // the largest window: the device's ra_pages (fadvise changes it)
    unsigned mmap_miss = 0;  // mmap faults that missed the cache, less those that hit
    int64_t prev_pos = -1;   // the byte after the last read (-1: none yet)
};

// How one read or write goes (IOCB_*, the RWF_* bits of preadv2/pwritev2 as the kiocb keeps
// them): IOCB_APPEND writes at the end, IOCB_NOWAIT fails with EAGAIN rather than sleep,
// IOCB_NOSIGNAL spares a pipe writer its SIGPIPE.
inline constexpr unsigned IOCB_HIPRI = 0x1, IOCB_DSYNC = 0x2, IOCB_SYNC = 0x4, IOCB_NOWAIT = 0x8, IOCB_APPEND = 0x10,
                          IOCB_NOSIGNAL = 0x100;

// One read or write as a syscall makes it (struct kiocb): the position it uses, its IOCB_*
// flags (from the file's O_APPEND/O_DSYNC/O_SYNC, then the call's RWF_*) and the calling
// task, in whose context a file that can block (a pipe) waits.
struct kiocb {
    task_struct& task;
    int64_t* ki_pos;
    unsigned ki_flags = 0;
};

// Which cache an inode's object comes from (its super_operations.alloc_inode's).
enum class inode_cache_kind : uint8_t { generic, ext2, shmem, proc, sock };

// A file (struct inode): its identity, size and times, and its page cache (i_data).
//
// Each live inode owns one object of its filesystem's inode cache (inode_cache,
// ext2_inode_cache, shmem_inode_cache, proc_inode_cache, sock_inode_cache) and sits on the
// inode list (every superblock's s_inodes in one), least recently looked up first: the order
// in which the icache shrinker looks at a filesystem's unused inodes (s_inode_lru).
struct inode {
    // Takes the object (alloc_inode; unbacked before the slab exists or when it has no
    // memory) and joins the inode list at its tail.
    explicit inode(inode_cache_kind kind = inode_cache_kind::generic);
    // Frees the object (free_inode_nonrcu) and leaves the list.
    virtual ~inode();
    inode(const inode&) = delete;
    inode& operator=(const inode&) = delete;

    uint64_t i_ino = 0;
    uint64_t i_dev = 0;
    uint64_t i_rdev = 0;  // the device a character or block device node stands for
    uint32_t i_mode = 0;
    uint32_t i_nlink = 1;
    uint32_t i_uid = 0, i_gid = 0;
    struct timespec i_atime {
    }, i_mtime{}, i_ctime{};
    uint64_t i_size = 0;
    int64_t i_blocks = -1;      // 512-byte blocks on disk; -1: counted from the cache or size
    uint32_t i_blksize = 4096;  // st_blksize (the filesystem's block size)
    std::string path;           // as /proc/PID/maps shows it
    super_block* i_sb = nullptr;
    const inode_operations* i_op = nullptr;
    std::string i_link;                                 // a symbolic link's target (tmpfs keeps it in the inode)
    uint32_t seals = 0;                                 // a shmem file's F_SEAL_* (shmem_inode_info's seals)
    std::shared_ptr<struct file_lock_context> i_flctx;  // its file locks (fs/locks.c)
    // A FIFO's pipe while some file has it open (i_pipe; gone with the last close).
    std::weak_ptr<pipe_inode_info> i_pipe;
    // The bytes of a host file behind the inode (the executable): what its read_folio reads.
    std::vector<uint8_t> contents;
    address_space i_data;  // its page cache
    address_space& i_mapping() { return i_data; }

    SlabObject slab;                    // its struct inode in its filesystem's cache
    inode_cache_kind i_cache_kind;      // which cache
    std::list<inode*>::iterator i_lru;  // its place on the inode list
    // Writes i_mode, the ids, i_ino, i_nlink, i_rdev, i_size, the times and i_blocks into its
    // object.
    void sync_slab() const;
};

// Moves the inode to the tail of the inode list: it was just used (the icache hit of
// iget_locked; Linux's inode goes to the LRU's tail when its last user lets go).
void inode_lru_touch(inode& i);
// Every live inode (inodes_stat.nr_inodes).
uint64_t get_nr_inodes();
// Inodes on the inode LRUs of every filesystem (inodes_stat.nr_unused).
uint64_t get_nr_inodes_unused();
// sb's unused inodes (list_lru_shrink_count of s_inode_lru).
uint64_t icache_count_unused(super_block& sb);
// Evicts up to nr_to_scan of sb's unused inodes, least recently used first (prune_icache_sb:
// inode_lru_isolate to a dispose list, then dispose_list -> evict); one in use or dirty goes
// to the end of the list, not counted. *scanned: the unused inodes of sb looked at. Returns
// the inodes freed.
uint64_t prune_icache_sb(super_block& sb, uint64_t nr_to_scan, uint64_t* scanned = nullptr);
// Gives every inode made before the slab existed its object of c (vfs_caches_bootstrap).
void inode_caches_bootstrap(KernelCaches& c);
// Whether anything of the inode's page cache waits to be written: a dirty or writeback page,
// or the inode on the flusher's list.
bool inode_has_dirty_state(inode& i);

// What a filesystem does with its inodes (struct inode_operations with the file_operations'
// open): each returns 0 or a negative errno; what a filesystem lacks answers as Linux does
// when the operation is null.
class inode_operations {
public:
    virtual ~inode_operations() = default;
    // Finds d.d_name in dir: instantiates d, or leaves it negative (simple_lookup).
    virtual long lookup(inode& dir, struct dentry& d, task_struct& t) const;
    virtual long create(inode& dir, struct dentry& d, uint32_t mode) const;
    virtual long mkdir(inode& dir, struct dentry& d, uint32_t mode) const;
    virtual long rmdir(inode& dir, struct dentry& d) const;
    virtual long unlink(inode& dir, struct dentry& d) const;
    virtual long symlink(inode& dir, struct dentry& d, const std::string& target) const;
    // A special file (FIFO, socket, character or block device rdev) named d: mknod.
    virtual long mknod(inode& dir, struct dentry& d, uint32_t mode, uint64_t rdev) const;
    virtual long link(struct dentry& old, inode& dir, struct dentry& d) const;
    // Moves old to new (RENAME_NOREPLACE / RENAME_EXCHANGE in flags); the VFS has checked
    // the types and moves the dentries after.
    virtual long rename(inode& old_dir, struct dentry& old, inode& new_dir, struct dentry& nw, unsigned flags) const;
    // A symbolic link's target (get_link); EINVAL for anything else.
    virtual long get_link(struct dentry& d, task_struct& t, std::string& target) const;
    // A link that leads to an open file rather than a name (/proc/PID/fd/N: nd_jump_link).
    virtual std::shared_ptr<file> magic_link(struct dentry&, task_struct&) const { return nullptr; }
    // chmod, chown, utimes, truncate (simple_setattr on the inode's fields).
    virtual long setattr(struct dentry& d, const iattr& attr) const;
    // The names of d's extended attributes, NUL-terminated, into buf (the size needed when
    // size is 0; ERANGE when short): without one, none (security_inode_listsecurity).
    virtual long listxattr(struct dentry&, char*, size_t) const { return 0; }
    // stat's fields (generic_fillattr).
    virtual long getattr(struct dentry& d, task_struct& t, struct stat& st) const;
    // Opens the inode (file_operations.open): the file for path p.
    virtual long open(const struct path& p, unsigned flags, task_struct& t, std::shared_ptr<file>& out) const;
};

// Whether the inode may grow or shrink to offset (inode_newsize_ok): growing past the
// caller's RLIMIT_FSIZE sends it SIGXFSZ and is EFBIG, as is growing past s_maxbytes.
long inode_newsize_ok(const inode& ino, uint64_t offset);
// The write of n bytes at pos to a regular file within the caller's RLIMIT_FSIZE
// (generic_write_check_limits' rlimit part): n cut to the limit; a write starting at or
// past it sends SIGXFSZ and is EFBIG.
long write_check_fsize(task_struct& t, int64_t pos, uint64_t& n);
// Fills st from the inode's own fields (generic_fillattr).
void generic_fillattr(const inode& ino, struct stat& st);
// Applies attr to the inode's fields, truncating its page cache for ATTR_SIZE (simple_setattr).
long simple_setattr(inode& ino, const iattr& attr);

// The page cache of a host file image (inode::contents): read_folio copies from it, zero
// past its end.
extern const address_space_operations host_file_aops;

// Sets a/m/ctime to now (inode_set_ctime_current and friends).
void inode_touch(inode& ino, bool atime, bool mtime_ctime);

// One directory entry as a directory's iterate_shared reports it (dir_emit): d_off is the
// position just after it, where a later getdents continues.
struct dir_entry {
    uint64_t ino;
    int64_t d_off;
    unsigned char d_type;  // DT_*
    std::string name;
};
// Takes one entry; false when it does not fit and the listing must stop before it.
using filldir_t = std::function<bool(const dir_entry&)>;

// Whom a file's SIGIO goes to (struct fown_struct, fs/fcntl.c): the number F_SETOWN or
// F_SETOWN_EX found, as a thread (PIDTYPE_PID), a process (PIDTYPE_TGID) or a process group
// (PIDTYPE_PGID); the setter's uid and euid (sigio_perm); the signal (F_SETSIG, 0: SIGIO).
enum fown_type : int { PIDTYPE_PID = 0, PIDTYPE_TGID = 1, PIDTYPE_PGID = 2 };
struct fown_struct {
    bool allocated = false;  // file_f_owner_allocate ran (F_GETOWN_EX says F_OWNER_TID before)
    int pid = 0;
    fown_type pid_type = PIDTYPE_TGID;
    uint32_t uid = 0, euid = 0;
    int signum = 0;
};

// An open file description (struct file + its file_operations).
class file {
public:
    explicit file(std::shared_ptr<inode> ino = nullptr) : f_inode(std::move(ino)) {}
    virtual ~file();  // its last reference: OFD and flock locks go (locks_remove_file)
    // Reads at *pos and advances it: bytes read or a negative errno (file_operations.read).
    virtual long read(uint8_t* buf, uint64_t n, int64_t* pos);
    virtual long write(const uint8_t* buf, uint64_t n, int64_t* pos);
    // read/write as the syscalls call them (file_operations.read_iter/write_iter, on a host
    // buffer): a file that blocks (a pipe) sleeps in iocb.task; the rest are read/write.
    virtual long read_iter(kiocb& iocb, uint8_t* buf, uint64_t n) { return read(buf, n, iocb.ki_pos); }
    virtual long write_iter(kiocb& iocb, const uint8_t* buf, uint64_t n) { return write(buf, n, iocb.ki_pos); }
    // read_iter straight into the destination (a user's buffers), for a file whose bytes
    // sit in frames (a regular file's page cache): nullopt when it reads through a host
    // buffer with read_iter above.
    virtual std::optional<long> read_iter(kiocb&, iov_iter&, uint64_t) { return std::nullopt; }
    // Whether Linux's file has read_iter / write_iter rather than plain read / write: the
    // vectored calls of one without take no RWF_* flag but RWF_HIPRI (do_loop_readv_writev).
    virtual bool has_read_iter() const { return true; }
    virtual bool has_write_iter() const { return true; }
    virtual long llseek(int64_t offset, int whence);
    virtual long getattr(struct stat& st);
    // ioctl with its argument already copied in; sizes say what to copy in and out.
    virtual long ioctl(unsigned long cmd, uint8_t* arg, size_t& in_len, size_t& out_len);
    virtual bool ioctl_sizes(unsigned long, size_t&, size_t&) const { return false; }
    // Whether mmap may map it (file_operations.mmap is set); ENODEV otherwise.
    virtual bool can_mmap() const { return false; }
    // ftruncate (do_truncate -> notify_change); EINVAL for what cannot be truncated.
    virtual long truncate(uint64_t) { return -EINVAL; }
    // fsync/fdatasync; EINVAL for what has nothing to sync (a console, a pipe).
    virtual long fsync() { return -EINVAL; }
    // Lists a directory from f_pos on, advancing f_pos past each entry taken
    // (file_operations.iterate_shared); ENOTDIR for anything else.
    virtual long iterate_shared(const filldir_t&) { return -ENOTDIR; }
    // Whether the file has f_op->poll (epoll refuses those without: EPERM), and its EPOLL*
    // readiness, queueing on its wait queues through pt (guestos/include/poll.h).
    virtual bool can_poll() const { return false; }
    virtual uint32_t poll(poll_table*) { return 0; }
    // Whether splice may read from it (file_operations.splice_read) or write to it
    // (splice_write); splice and sendfile answer EINVAL otherwise. A regular file's
    // splice_read is filemap_splice_read (pipe buffers cut at its pages), the others' is
    // copy_splice_read (one read into whole pages).
    virtual bool has_splice_read() const { return false; }
    virtual bool has_splice_write() const { return false; }
    // The IOCB_* flags its splice read reads with, given splice's SPLICE_F_* (a stream
    // socket's own splice_read reads with MSG_DONTWAIT for SPLICE_F_NONBLOCK;
    // copy_splice_read never does).
    virtual unsigned splice_read_iocb_flags(unsigned) const { return 0; }
    // A descriptor of it is closed by t (file_operations.flush, from filp_close).
    virtual void flush(task_struct&) {}
    // O_ASYNC turned on or off for descriptor fd (file_operations.fasync): a file with a
    // fasync list joins or leaves it and sets or clears FASYNC in f_flags (fasync_helper);
    // false for one without (setfl then leaves the flag alone, FIOASYNC is ENOTTY).
    virtual bool has_fasync() const { return false; }
    virtual int fasync(int /*fd*/, bool /*on*/) { return 0; }
    virtual long status_flags() { return f_flags; }
    virtual long set_status_flags(int flags);

    std::shared_ptr<inode> f_inode;
    struct path f_path;  // where it was opened (fchdir, /proc/PID/fd); empty for pipes and anon files
    int64_t f_pos = 0;
    unsigned f_flags = 0;  // O_RDONLY ... as given to open
    unsigned f_mode = FMODE_PREAD | FMODE_PWRITE;
    file_ra_state f_ra;  // set up by file_ra_state_init when a regular file is opened
    // Whom SIGIO goes to and which signal (F_SETOWN, F_SETOWN_EX, F_SETSIG; a lease's holder).
    fown_struct f_owner;

    // Its struct file in the filp cache (alloc_empty_file), taken when the file is opened
    // for a task (an fd or a mapping). f_pos, f_flags and the count change in too many
    // places to mark, so the return to user mode compares them with what it last wrote.
    SlabObject slab;
    // Writes f_count (the references the caller counts), f_flags, f_mode and f_pos where
    // they differ from the last write (guestos/mm/slab_image.cpp).
    void sync_slab(long f_count) const;
    struct SlabWritten {
        PhysAddr object;  // the slab object written (another one: write it whole)
        long f_count = -1;
        unsigned f_flags = 0;
        int64_t f_pos = 0;
    };
    mutable SlabWritten slab_written;
};

// An open regular file: read, write and mmap through its inode's page cache
// (generic_file_read_iter / generic_file_write_iter / filemap_fault).
class inode_file : public file {
public:
    // max_bytes: the largest file size (s_maxbytes) writes may reach.
    // Its read-ahead starts from the device's window (do_dentry_open -> file_ra_state_init).
    explicit inode_file(std::shared_ptr<inode> ino, uint64_t max_bytes = 0x7fffffffffffffffull);
    ~inode_file() override;
    long read(uint8_t* buf, uint64_t n, int64_t* pos) override;
    using file::read_iter;
    std::optional<long> read_iter(kiocb& iocb, iov_iter& to, uint64_t n) override;
    // write at *pos; IOCB_APPEND first moves *pos to the end (generic_write_checks_count).
    long write_iter(kiocb& iocb, const uint8_t* buf, uint64_t n) override;
    long write(const uint8_t* buf, uint64_t n, int64_t* pos) override;
    long llseek(int64_t offset, int whence) override;
    bool can_mmap() const override { return true; }
    bool has_splice_read() const override { return true; }
    bool has_splice_write() const override { return true; }
    long truncate(uint64_t size) override;
    long fsync() override { return 0; }  // the page cache is the only copy (tmpfs) or read-only

private:
    uint64_t max_bytes_;
};

// A file whose text is produced at read time, record by record (fs/seq_file.c): show(index)
// gives the record at index and moves index to the next one, or nullopt past the last. As
// seq_read_iter does, a read at 0 starts over, a read elsewhere than where the last one
// ended (pread, lseek) regenerates up to that offset, leftovers of a record are given out
// before the next is made, and one read returns the records that fit a page-sized buffer.
class seq_file final : public file {
public:
    using show_fn = std::function<std::optional<std::string>(int64_t& index)>;
    explicit seq_file(show_fn show, uint32_t mode = S_IFREG | 0444, timespec time = {});
    // single_open's operations: one record, the text fn makes when the file is read.
    static show_fn single(std::function<std::string()> text);
    long read(uint8_t* buf, uint64_t n, int64_t* pos) override;
    long llseek(int64_t offset, int whence) override;
    long getattr(struct stat& st) override;
    bool has_splice_read() const override { return true; }  // copy_splice_read
    // A writable file's write (comm_write, oom_score_adj_write): bytes taken or -errno.
    using write_fn = std::function<long(const uint8_t* buf, uint64_t n)>;
    void set_write(write_fn w) { write_ = std::move(w); }
    long write(const uint8_t* buf, uint64_t n, int64_t* pos) override;

private:
    write_fn write_;
    // Regenerates the records before offset and keeps the rest of the one it falls in.
    void traverse(int64_t offset);
    show_fn show_;
    uint32_t mode_;
    timespec time_;
    std::string buf_;  // what was made and not yet read, from from_ on
    size_t from_ = 0;
    size_t size_ = 4096;  // m->size: a page, doubled when one record does not fit
    int64_t index_ = 0;   // the next record to make
    int64_t read_pos_ = 0;
};

// A directory whose entries are known when it is opened (fs/libfs.c's dcache_readdir and
// simple_dir_operations): getdents lists them from f_pos, read is EISDIR, and lseek may
// only set a position.
class simple_dir_file : public file {
public:
    explicit simple_dir_file(std::vector<dir_entry> entries, std::shared_ptr<inode> ino = nullptr)
        : file(std::move(ino)), entries_(std::move(entries)) {}
    long read(uint8_t*, uint64_t, int64_t*) override { return -EISDIR; }
    long llseek(int64_t offset, int whence) override {
        if (whence != 0 /* SEEK_SET */ || offset < 0) return -EINVAL;
        return f_pos = offset;
    }
    long iterate_shared(const filldir_t& emit) override {
        for (; static_cast<size_t>(f_pos) < entries_.size(); ++f_pos)
            if (!emit(entries_[static_cast<size_t>(f_pos)])) break;
        return 0;
    }

private:
    std::vector<dir_entry> entries_;
};

}  // namespace guestos
