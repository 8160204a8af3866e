// Open ext2 files (fs/ext2/file.c, dir.c's ext2_readdir) and the page cache's operations
// (fs/ext2/inode.c's ext2_aops).
#include <dirent.h>

#include <algorithm>
#include <cstring>

#include "guestos/drivers/char/mem.h"
#include "guestos/fs/ext2/ext2.h"
#include "guestos/include/dcache.h"
#include "guestos/include/uapi/fcntl.h"

namespace guestos::ext2 {

namespace {

// ext2_aops.read_folio: the file's page from its blocks, zeros for holes and past EOF.
long ext2_read_folio(address_space& mapping, uint64_t index, uint8_t* dst) {
    inode& i = *mapping.host;
    return EXT2_SB(i).fs().read_folio(EXT2_SB(i).EI(i), index, dst);
}

// ext2_aops.readahead (mpage_readahead with ext2_get_block): contiguous blocks in one request.
long ext2_readahead(address_space& mapping, uint64_t index, uint64_t nr, uint8_t* dst) {
    inode& i = *mapping.host;
    return EXT2_SB(i).fs().readahead(EXT2_SB(i).EI(i), index, nr, dst);
}

bool all_zero(const uint8_t* p, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (p[k]) return false;
    return true;
}

// ext2_aops.writepage (block_write_full_page with ext2_get_block): each block of the page
// inside i_size goes to its disk block, the bytes past i_size zeroed. A block still a hole
// (a page dirtied through a shared mapping) is allocated now, unless it holds only zeros.
long ext2_writepage(address_space& mapping, page& pg, const uint8_t* src, bool dirty) {
    inode& i = *mapping.host;
    const uint64_t index = pg.index;
    ext2_sb_info& sb = EXT2_SB(i);
    if (sb.s_flags & SB_RDONLY) return dirty ? -EROFS : 0;
    Ext2Fs& fs = sb.fs();
    const uint64_t bs = fs.block_size(), size = i.i_size, page_pos = index << PAGE_SHIFT;
    for (uint64_t off = 0; off < PAGE_SIZE && page_pos + off < size; off += bs) {
        const uint64_t pos = page_pos + off, valid = std::min(bs, size - pos);
        uint64_t phys = TRY_ERRNO(fs.get_block(sb.EI(i), pos / bs));
        if (!phys) {
            if (all_zero(src + off, valid)) continue;  // the hole stays one
            auto made = fs.get_block_create(sb.EI(i), pos / bs);
            sb.from_ei(i);
            phys = TRY_ERRNO(std::move(made));
        }
        if (valid == bs) {  // a whole block: the bio points at the page (submit_bh of its buffer)
            if (long e = fs.write_data(phys, src + off, &pg)) return e;
            continue;
        }
        std::vector<uint8_t> block(bs);  // the block i_size ends in, zeros after it
        std::memcpy(block.data(), src + off, valid);
        if (long e = fs.write_data(phys, block.data())) return e;
    }
    return 0;
}

// An open regular file: reads and mmap through the page cache as any, writes with their
// blocks allocated first (ext2_write_begin), so a full disk fails the write, not the
// writeback.
class ext2_file final : public inode_file {
public:
    using inode_file::inode_file;
    long write(const uint8_t* buf, uint64_t n, int64_t* pos) override;
    long fsync() override { return EXT2_SB(*f_inode).fsync_inode(*f_inode); }
    long truncate(uint64_t size) override {
        iattr a;
        a.ia_valid = ATTR_SIZE | ATTR_MTIME | ATTR_CTIME;
        a.ia_size = size;
        return f_inode->i_op->setattr(*f_path.dentry, a);
    }

private:
    // block_write_begin: the page in the cache (its unwritten part must be what the file
    // holds, read before any of its holes gets a block), then the blocks of [at, at + len).
    long write_begin(uint64_t at, uint64_t len);
};

long ext2_file::write_begin(uint64_t at, uint64_t len) {
    inode& i = *f_inode;
    ext2_sb_info& sb = EXT2_SB(i);
    const uint64_t from = at & (PAGE_SIZE - 1);
    TRY_ERRNO(grab_cache_page_write_begin(i.i_data, at >> PAGE_SHIFT, from, from + len));
    const uint64_t bs = sb.fs().block_size();
    for (uint64_t b = at / bs; b <= (at + len - 1) / bs; b++) {
        auto phys = sb.fs().get_block_create(sb.EI(i), b);
        sb.from_ei(i);
        TRY_ERRNO(std::move(phys));
    }
    return 0;
}

long ext2_file::write(const uint8_t* buf, uint64_t n, int64_t* pos) {
    inode& i = *f_inode;
    if (*pos < 0) return -EINVAL;
    if (!n) return 0;
    if (i.i_sb->s_flags & SB_RDONLY) return -EROFS;  // remounted read-only since the open (ext2_error)
    const uint64_t max = i.i_sb->s_maxbytes;
    if (static_cast<uint64_t>(*pos) >= max) return -EFBIG;
    n = std::min<uint64_t>(n, max - static_cast<uint64_t>(*pos));
    EXT2_SB(i).evict_orphans();  // what was unlinked and closed frees its blocks first
    uint64_t done = 0;
    long err = 0;
    while (done < n) {
        const uint64_t at = static_cast<uint64_t>(*pos) + done;
        const uint64_t chunk = std::min(n - done, PAGE_SIZE - (at & (PAGE_SIZE - 1)));
        if ((err = write_begin(at, chunk))) break;
        const long r = generic_perform_write(i, buf + done, chunk, static_cast<int64_t>(at), max);
        if (r <= 0) {
            err = r;
            break;
        }
        done += static_cast<uint64_t>(r);
    }
    if (!done) return err;
    *pos += static_cast<int64_t>(done);
    inode_touch(i, false, true);
    return static_cast<long>(done);
}

unsigned char dt_of(uint8_t ft) {
    static constexpr unsigned char map[] = {DT_UNKNOWN, DT_REG, DT_DIR, DT_CHR, DT_BLK, DT_FIFO, DT_SOCK, DT_LNK};
    return ft < sizeof map ? map[ft] : static_cast<unsigned char>(DT_UNKNOWN);
}

// An open ext2 directory: getdents lists it in on-disk order (ext2_readdir), f_pos being
// the byte offset of the next entry.
class ext2_dir_file final : public file {
public:
    using file::file;
    long read(uint8_t*, uint64_t, int64_t*) override { return -EISDIR; }
    // ext2_dir_operations.fsync is ext2_fsync, as for files: its blocks and its inode.
    long fsync() override { return EXT2_SB(*f_inode).fsync_inode(*f_inode); }
    long llseek(int64_t offset, int whence) override {
        if (whence == SEEK_CUR) offset += f_pos;
        if ((whence != SEEK_SET && whence != SEEK_CUR) || offset < 0) return -EINVAL;
        return f_pos = offset;
    }
    long iterate_shared(const filldir_t& emit) override {
        const auto entries = TRY_ERRNO(EXT2_SB(*f_inode).fs().readdir(EXT2_SB(*f_inode).EI(*f_inode)));
        int64_t pos = 0;  // the offset of each entry: where the previous one ends
        for (const auto& e : entries) {
            const int64_t at = pos;
            pos = static_cast<int64_t>(e.d_off);
            if (at < f_pos) continue;
            if (!emit({e.ino, pos, dt_of(e.file_type), e.name})) break;
            f_pos = pos;
        }
        return 0;
    }
};

}  // namespace

const address_space_operations ext2_aops = {"ext2_aops", &ext2_read_folio, false, &ext2_writepage, &ext2_readahead};

long ext2_open(const path& p, unsigned flags, std::shared_ptr<file>& out) {
    const std::shared_ptr<inode>& ino = p.dentry->d_inode;
    const uint32_t mode = ino->i_mode;
    if (S_ISDIR(mode)) {
        out = std::make_shared<ext2_dir_file>(ino);
    } else if (S_ISREG(mode)) {
        out = std::make_shared<ext2_file>(ino, ino->i_sb->s_maxbytes);
    } else if (S_ISCHR(mode)) {
        if (long e = chrdev_open(ino, flags, out)) return e;  // the same device devtmpfs opens
    } else {
        return -ENXIO;  // block devices, FIFOs, sockets: no driver behind them
    }
    out->f_flags = flags;
    out->f_path = p;
    return 0;
}

}  // namespace guestos::ext2
