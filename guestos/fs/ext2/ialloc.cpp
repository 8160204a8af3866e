// Inode allocation (fs/ext2/ialloc.c): the inode bitmaps; directories spread over the
// groups by find_group_orlov, files kept near their directory by find_group_other.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "guestos/fs/ext2/ext2.h"

namespace guestos::ext2 {

namespace {

constexpr uint32_t INODE_COST = 64, BLOCK_COST = 256;

bool test_bit(const uint8_t* map, uint64_t bit) { return map[bit >> 3] & (1u << (bit & 7)); }

}  // namespace

uint64_t Ext2Fs::count_free_inodes() const {
    uint64_t n = 0;
    for (const auto& gd : group_desc_) n += gd.bg_free_inodes_count;
    return n;
}

uint64_t Ext2Fs::count_dirs() const {
    uint64_t n = 0;
    for (const auto& gd : group_desc_) n += gd.bg_used_dirs_count;
    return n;
}

int Ext2Fs::find_group_orlov(const ext2_inode_info& parent) {
    const uint32_t ngroups = groups_count(), ipg = sb_.s_inodes_per_group;
    const uint64_t freei = count_free_inodes(), free_blocks = count_free_blocks();
    uint64_t avefreei = freei / ngroups;
    const uint64_t avefreeb = free_blocks / ngroups;
    uint64_t ndirs = count_dirs();
    uint32_t parent_group = (parent.i_ino - 1) / ipg;
    if (parent.i_ino == EXT2_ROOT_INO || (parent.i_flags & 0x20000 /* EXT2_TOPDIR_FL */)) {
        // A top-level directory: the group with the fewest directories among those with
        // at least average free inodes and blocks, from a pseudo-random start.
        orlov_seed_ = orlov_seed_ * 1103515245u + 12345u;
        parent_group = (orlov_seed_ >> 16) % ngroups;
        int best = -1;
        uint32_t best_ndir = ipg;
        for (uint32_t i = 0; i < ngroups; i++) {
            const uint32_t g = (parent_group + i) % ngroups;
            const auto& d = group_desc_[g];
            if (!d.bg_free_inodes_count || d.bg_used_dirs_count >= best_ndir) continue;
            if (d.bg_free_inodes_count < avefreei || d.bg_free_blocks_count < avefreeb) continue;
            best = int(g);
            best_ndir = d.bg_used_dirs_count;
        }
        if (best >= 0) return best;
    } else {
        if (ndirs == 0) ndirs = 1;
        const uint64_t blocks_per_dir = (sb_.s_blocks_count - free_blocks) / ndirs;
        const uint64_t max_dirs = ndirs / ngroups + ipg / 16;
        const int64_t min_inodes = int64_t(avefreei) - int64_t(ipg / 4);
        const int64_t min_blocks = int64_t(avefreeb) - int64_t(sb_.s_blocks_per_group / 4);
        uint64_t max_debt = sb_.s_blocks_per_group / std::max<uint64_t>(blocks_per_dir, BLOCK_COST);
        if (max_debt * INODE_COST > ipg) max_debt = ipg / INODE_COST;
        max_debt = std::clamp<uint64_t>(max_debt, 1, 255);
        for (uint32_t i = 0; i < ngroups; i++) {
            const uint32_t g = (parent_group + i) % ngroups;
            const auto& d = group_desc_[g];
            if (!d.bg_free_inodes_count || s_debts_[g] >= max_debt || d.bg_used_dirs_count >= max_dirs) continue;
            if (int64_t(d.bg_free_inodes_count) < min_inodes || int64_t(d.bg_free_blocks_count) < min_blocks) continue;
            return int(g);
        }
    }
    // fallback: a group with at least average free inodes, then any with one.
    for (;;) {
        for (uint32_t i = 0; i < ngroups; i++) {
            const uint32_t g = (parent_group + i) % ngroups;
            if (group_desc_[g].bg_free_inodes_count && group_desc_[g].bg_free_inodes_count >= avefreei) return int(g);
        }
        if (!avefreei) return -1;
        avefreei = 0;
    }
}

int Ext2Fs::find_group_other(const ext2_inode_info& parent) {
    const uint32_t ngroups = groups_count();
    const uint32_t parent_group = (parent.i_ino - 1) / sb_.s_inodes_per_group;
    auto usable = [&](uint32_t g) {
        return group_desc_[g].bg_free_inodes_count && group_desc_[g].bg_free_blocks_count;
    };
    if (usable(parent_group)) return int(parent_group);    // in its parent's group
    uint32_t g = (parent_group + parent.i_ino) % ngroups;  // quadratic hash
    for (uint32_t i = 1; i < ngroups; i <<= 1) {
        g = (g + i) % ngroups;
        if (usable(g)) return int(g);
    }
    g = parent_group;  // linear search for any free inode
    for (uint32_t i = 0; i < ngroups; i++) {
        g = (g + 1) % ngroups;
        if (group_desc_[g].bg_free_inodes_count) return int(g);
    }
    return -1;
}

ErrorOr<uint32_t> Ext2Fs::new_inode(const ext2_inode_info& dir, uint32_t mode) {
    const bool is_dir = S_ISDIR(mode);
    int group = is_dir ? find_group_orlov(dir) : find_group_other(dir);
    if (group < 0) return Error::from_errno(ENOSPC, "ext2: no free inodes");
    const uint32_t ngroups = groups_count(), ipg = sb_.s_inodes_per_group;
    for (uint32_t tries = 0; tries < ngroups; tries++, group = int((uint32_t(group) + 1) % ngroups)) {
        auto& gd = group_desc_[uint32_t(group)];
        if (!gd.bg_free_inodes_count) continue;
        TRY(check_group_desc(uint32_t(group), "ext2_new_inode"));
        auto bh = TRY(bread(gd.bg_inode_bitmap));
        uint8_t* map = bh->b_data.data();
        for (uint32_t bit = 0; bit < ipg; bit++) {
            if (test_bit(map, bit)) continue;
            const uint32_t ino = uint32_t(group) * ipg + bit + 1;
            if (ino < first_ino() || ino > sb_.s_inodes_count) continue;  // reserved inodes
            map[bit >> 3] |= uint8_t(1u << (bit & 7));
            bh_.mark_buffer_dirty(*bh);
            gd.bg_free_inodes_count--;
            if (is_dir) {
                gd.bg_used_dirs_count++;
                if (s_debts_[uint32_t(group)] < 255) s_debts_[uint32_t(group)]++;
            } else if (s_debts_[uint32_t(group)]) {
                s_debts_[uint32_t(group)]--;
            }
            group_desc_dirty(uint32_t(group));
            return ino;
        }
    }
    return Error::from_errno(ENOSPC, "ext2: no free inodes");
}

void Ext2Fs::free_inode(uint32_t ino, bool is_dir) {
    if (ino < first_ino() || ino > sb_.s_inodes_count) {
        std::fprintf(stderr, "EXT2-fs: ext2_free_inode: reserved or nonexistent inode %u\n", ino);
        return;
    }
    const uint32_t g = (ino - 1) / sb_.s_inodes_per_group, bit = (ino - 1) % sb_.s_inodes_per_group;
    if (check_group_desc(g, "ext2_free_inode").is_error()) return;
    auto bh = bread(group_desc_[g].bg_inode_bitmap);
    if (bh.is_error()) return;
    uint8_t* map = bh.value()->b_data.data();
    if (!test_bit(map, bit)) {
        std::fprintf(stderr, "EXT2-fs: ext2_free_inode: bit already cleared for inode %u\n", ino);
        return;
    }
    map[bit >> 3] &= uint8_t(~(1u << (bit & 7)));
    bh_.mark_buffer_dirty(*bh.value());
    group_desc_[g].bg_free_inodes_count++;
    if (is_dir && group_desc_[g].bg_used_dirs_count) group_desc_[g].bg_used_dirs_count--;
    group_desc_dirty(g);
}

}  // namespace guestos::ext2
