// Open ext2 files (fs/ext2/file.c, dir.c's ext2_readdir) and the page cache's operations
// (fs/ext2/inode.c's ext2_aops).
#include <dirent.h>

#include "guestos/drivers/char/mem.h"
#include "guestos/fs/ext2/ext2.h"
#include "guestos/include/dcache.h"
#include "guestos/include/uapi/fcntl.h"

namespace guestos::ext2 {

namespace {

// ext2_aops.read_folio: the file's page from its blocks, zeros for holes and past EOF.
long ext2_read_folio(address_space& mapping, uint64_t index, uint8_t* dst) {
    inode& i = *mapping.host;
    return EXT2_SB(i).fs().read_folio(EXT2_I(i).ei, index, dst);
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
    long llseek(int64_t offset, int whence) override {
        if (whence == SEEK_CUR) offset += f_pos;
        if ((whence != SEEK_SET && whence != SEEK_CUR) || offset < 0) return -EINVAL;
        return f_pos = offset;
    }
    long iterate_shared(const filldir_t& emit) override {
        auto entries = EXT2_SB(*f_inode).fs().readdir(EXT2_I(*f_inode).ei);
        if (entries.is_error()) return -entries.error().errno_value;
        int64_t pos = 0;  // the offset of each entry: where the previous one ends
        for (const auto& e : entries.value()) {
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

const address_space_operations ext2_aops = {"ext2_aops", &ext2_read_folio, false};

long ext2_open(const path& p, unsigned flags, std::shared_ptr<file>& out) {
    const std::shared_ptr<inode>& ino = p.dentry->d_inode;
    const uint32_t mode = ino->i_mode;
    if (S_ISDIR(mode)) {
        out = std::make_shared<ext2_dir_file>(ino);
    } else if (S_ISREG(mode)) {
        out = std::make_shared<inode_file>(ino, ino->i_sb->s_maxbytes);
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
