// The sysctl handlers' text rules (kernel/sysctl.c): what proc_dointvec, its minmax form,
// proc_doulongvec_minmax and proc_dostring accept, refuse and print, and how the file
// position and the byte counts move.
#include <gtest/gtest.h>

#include <cerrno>
#include <climits>
#include <string>

#include <unistd.h>

#include "guestos/include/sysctl.h"

using namespace guestos;

namespace {

// A write of text to t: the handler's result, *lenp after it in taken, *ppos in pos.
long write_text(const ctl_table& t, const std::string& text, size_t* taken = nullptr, int64_t pos = 0,
                int64_t* pos_after = nullptr) {
    std::string buf = text;
    buf.push_back('\0');
    size_t len = text.size();
    const long r = t.handler(&t, 1, buf.data(), &len, &pos);
    if (taken) *taken = len;
    if (pos_after) *pos_after = pos;
    return r;
}

// What a read of n bytes at pos gives.
std::string read_text(const ctl_table& t, size_t n = 64, int64_t pos = 0) {
    std::string buf(n + 1, '\0');
    size_t len = n;
    EXPECT_EQ(t.handler(&t, 0, buf.data(), &len, &pos), 0);
    return buf.substr(0, len);
}

}  // namespace

TEST(GuestosSysctlTest, DointvecReadsAndParsesBaseZeroNumbers) {
    int v = 60;
    const ctl_table t{"x", &v, sizeof v, 0644, proc_dointvec};
    EXPECT_EQ(read_text(t), "60\n");
    EXPECT_EQ(write_text(t, "42\n"), 0);
    EXPECT_EQ(v, 42);
    EXPECT_EQ(write_text(t, "  0x1f "), 0);  // hex, surrounding blanks
    EXPECT_EQ(v, 31);
    EXPECT_EQ(write_text(t, "010"), 0);  // octal
    EXPECT_EQ(v, 8);
    EXPECT_EQ(write_text(t, "-7"), 0);
    EXPECT_EQ(v, -7);
    EXPECT_EQ(read_text(t), "-7\n");
    EXPECT_EQ(write_text(t, "-2147483648"), 0);
    EXPECT_EQ(v, INT_MIN);
}

TEST(GuestosSysctlTest, DointvecRefusesWhatIsNoIntWithEinvalAndKeepsTheValue) {
    int v = 5;
    const ctl_table t{"x", &v, sizeof v, 0644, proc_dointvec};
    for (const char* bad :
         {"abc", "   ", "12abc", "2147483648", "-2147483649", "-", "0x", "1.5", "99999999999999999999999"}) {
        EXPECT_EQ(write_text(t, bad), -EINVAL) << bad;
        EXPECT_EQ(v, 5) << bad;
    }
}

TEST(GuestosSysctlTest, DointvecTakesOneValueAndReportsTheBytesItUsed) {
    int v = 0;
    const ctl_table t{"x", &v, sizeof v, 0644, proc_dointvec};
    size_t taken = 0;
    int64_t pos = 0;
    EXPECT_EQ(write_text(t, "3 9", &taken, 0, &pos), 0);  // the second number is left over
    EXPECT_EQ(v, 3);
    EXPECT_EQ(taken, 2u);
    EXPECT_EQ(pos, 2);
    EXPECT_EQ(write_text(t, "4\n\n", &taken), 0);  // trailing whitespace is taken too
    EXPECT_EQ(taken, 3u);
}

TEST(GuestosSysctlTest, AWriteNotAtPositionZeroIsIgnoredWhole) {
    int v = 1;
    const ctl_table t{"x", &v, sizeof v, 0644, proc_dointvec};
    size_t taken = 0;
    int64_t pos = 0;
    EXPECT_EQ(write_text(t, "7", &taken, 3, &pos), 0);
    EXPECT_EQ(v, 1);
    EXPECT_EQ(taken, 1u);
    EXPECT_EQ(pos, 4);
}

TEST(GuestosSysctlTest, AReadPastPositionZeroIsEndOfFileAndShortReadsAreCut) {
    int v = 1234;
    const ctl_table t{"x", &v, sizeof v, 0644, proc_dointvec};
    EXPECT_EQ(read_text(t, 2), "12");
    EXPECT_EQ(read_text(t, 64, 2), "");
    EXPECT_EQ(read_text(t, 4), "1234");  // no room for the newline
}

TEST(GuestosSysctlTest, DointvecVectorsAreTabSeparated) {
    int v[3] = {1, -2, 3};
    const ctl_table t{"x", v, sizeof v, 0644, proc_dointvec};
    EXPECT_EQ(read_text(t), "1\t-2\t3\n");
    EXPECT_EQ(write_text(t, "4 5"), 0);  // fewer values: the rest stay
    EXPECT_EQ(v[0], 4);
    EXPECT_EQ(v[1], 5);
    EXPECT_EQ(v[2], 3);
}

TEST(GuestosSysctlTest, MinmaxRefusesOutOfRangeWithEinval) {
    int v = 60;
    const ctl_table t{"swappiness", &v, sizeof v, 0644, proc_dointvec_minmax, SYSCTL_ZERO, SYSCTL_TWO_HUNDRED};
    EXPECT_EQ(write_text(t, "201"), -EINVAL);
    EXPECT_EQ(write_text(t, "-1"), -EINVAL);
    EXPECT_EQ(v, 60);
    EXPECT_EQ(write_text(t, "200"), 0);
    EXPECT_EQ(v, 200);
    EXPECT_EQ(write_text(t, "0"), 0);
    EXPECT_EQ(v, 0);
    const ctl_table lower_only{"max_map_count", &v, sizeof v, 0644, proc_dointvec_minmax, SYSCTL_ZERO};
    EXPECT_EQ(write_text(lower_only, "2147483647"), 0);
    EXPECT_EQ(v, INT_MAX);
}

TEST(GuestosSysctlTest, UlongvecRefusesNegativesAndOutOfRange) {
    unsigned long v = 0;
    const unsigned long min = 8192;
    const ctl_table t{"dirty_bytes", &v, sizeof v, 0644, proc_doulongvec_minmax, &min};
    EXPECT_EQ(write_text(t, "-1"), -EINVAL);
    EXPECT_EQ(write_text(t, "8191"), -EINVAL);
    EXPECT_EQ(v, 0u);
    EXPECT_EQ(write_text(t, "18446744073709551615"), 0);
    EXPECT_EQ(v, ~0ul);
    EXPECT_EQ(read_text(t), "18446744073709551615\n");
    EXPECT_EQ(write_text(t, "18446744073709551616"), -EINVAL);  // past 64 bits
}

TEST(GuestosSysctlTest, DostringCutsAtTheNewlineAndAtMaxlen) {
    char s[8] = "emu";
    const ctl_table t{"hostname", s, sizeof s, 0644, proc_dostring};
    EXPECT_EQ(read_text(t), "emu\n");
    EXPECT_EQ(write_text(t, "guest\nrest"), 0);
    EXPECT_EQ(std::string(s), "guest");
    EXPECT_EQ(write_text(t, "a-much-longer-name"), 0);
    EXPECT_EQ(std::string(s), "a-much-");  // maxlen - 1 bytes
}

TEST(GuestosSysctlTest, PermissionsFollowTheModeForRoot) {
    // The tests run with the host's credentials; the rule is the owner bits for root.
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    EXPECT_EQ(sysctl_test_perm(0644, MAY_WRITE_), 0);
    EXPECT_EQ(sysctl_test_perm(0444, MAY_WRITE_), -EACCES);
    EXPECT_EQ(sysctl_test_perm(0200, MAY_READ_), -EACCES);
    EXPECT_EQ(sysctl_test_perm(0200, MAY_WRITE_), 0);
}

TEST(GuestosSysctlTest, DirectoriesListSubdirectoriesAndEntriesInNameOrder) {
    ctl_table_root root;
    int a = 0, b = 0;
    root.register_sysctl(
        "vm", {{"swappiness", &a, sizeof a, 0644, proc_dointvec}, {"drop_caches", &b, sizeof b, 0200, proc_dointvec}});
    root.register_sysctl("kernel", {{"ostype", &a, sizeof a, 0444, proc_dointvec}});
    const auto top = root.list("");
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(top[0].first, "kernel");
    EXPECT_TRUE(top[0].second);
    const auto vm = root.list("vm");
    ASSERT_EQ(vm.size(), 2u);
    EXPECT_EQ(vm[0].first, "drop_caches");
    EXPECT_EQ(vm[1].first, "swappiness");
    EXPECT_EQ(root.find_entry("vm", "swappiness")->data, &a);
    EXPECT_EQ(root.find_entry("vm", "nothing"), nullptr);
    EXPECT_TRUE(root.is_dir("vm"));
    EXPECT_FALSE(root.is_dir("vm/swappiness"));
}
