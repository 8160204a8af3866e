// The GDB stub's framing, hex, signal table and register image (gdbstub/packet.h,
// registers.h), fed malformed and random input.
#include <gtest/gtest.h>

#include <random>

#include "gdbstub/packet.h"
#include "gdbstub/registers.h"

namespace gdbstub {
namespace {

std::vector<PacketEvent> parse(const std::string& bytes) {
    PacketParser p;
    std::vector<PacketEvent> out;
    p.feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), out);
    return out;
}

TEST(GdbPacket, FramesAndParsesBack) {
    const std::string payload = "qXfer:features:read:target.xml:0,fff";
    auto ev = parse(frame_packet(payload));
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].kind, PacketEvent::Packet);
    EXPECT_EQ(ev[0].data, payload);
    EXPECT_EQ(frame_packet("OK"), "$OK#9a");
}

TEST(GdbPacket, EscapesBinaryBothWays) {
    const std::string payload = std::string("a$b#c}d*e\0f", 11);
    const std::string framed = frame_packet(payload);
    EXPECT_EQ(framed.find('$', 1), std::string::npos);
    EXPECT_EQ(framed.find('*'), std::string::npos);
    auto ev = parse(framed);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].data, payload);
}

TEST(GdbPacket, BadChecksumAndBrokenPacketsAreRefused) {
    auto ev = parse("$?#00$g#zz$m1,1$?#3f");
    ASSERT_EQ(ev.size(), 4u);
    EXPECT_EQ(ev[0].kind, PacketEvent::BadPacket);  // checksum
    EXPECT_EQ(ev[1].kind, PacketEvent::BadPacket);  // not hex
    EXPECT_EQ(ev[2].kind, PacketEvent::BadPacket);  // a new $ inside a packet
    EXPECT_EQ(ev[3].kind, PacketEvent::Packet);
    EXPECT_EQ(ev[3].data, "?");
}

TEST(GdbPacket, InterruptBetweenPacketsAndAcksDropped) {
    auto ev = parse("+-\x03+$?#3f");
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0].kind, PacketEvent::Interrupt);
    EXPECT_EQ(ev[1].data, "?");
}

TEST(GdbPacket, OversizedPacketIsRefusedAndParserRecovers) {
    std::string big = "$" + std::string(MAX_PACKET * 4, 'A');
    uint8_t sum = 0;
    for (size_t i = 1; i < big.size(); ++i) sum = static_cast<uint8_t>(sum + big[i]);
    char cs[4];
    std::snprintf(cs, sizeof cs, "%02x", sum);
    auto ev = parse(big + "#" + cs + "$?#3f");
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0].kind, PacketEvent::BadPacket);
    EXPECT_TRUE(ev[0].data.empty());
    EXPECT_EQ(ev[1].data, "?");
}

TEST(GdbPacket, RandomBytesNeverGrowPastTheLimit) {
    std::mt19937 rng(16);
    PacketParser p;
    std::vector<PacketEvent> out;
    for (int round = 0; round < 200; ++round) {
        std::vector<uint8_t> bytes(4096);
        for (auto& b : bytes) b = static_cast<uint8_t>(rng());
        out.clear();
        p.feed(bytes.data(), bytes.size(), out);
        for (const auto& e : out) EXPECT_LE(e.data.size(), MAX_PACKET);
    }
    out.clear();
    const std::string ok = "#00$?#3f";  // whatever state the garbage left, a packet follows
    p.feed(reinterpret_cast<const uint8_t*>(ok.data()), ok.size(), out);
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.back().kind, PacketEvent::Packet);
    EXPECT_EQ(out.back().data, "?");
}

TEST(GdbPacket, HexHelpers) {
    EXPECT_EQ(to_hex(std::string("\x01\xab", 2)), "01ab");
    EXPECT_EQ(from_hex("01aB").value(), (std::vector<uint8_t>{1, 0xab}));
    EXPECT_FALSE(from_hex("123"));
    EXPECT_FALSE(from_hex("zz"));
    EXPECT_EQ(parse_hex("ffffffffffffffff").value(), ~0ull);
    EXPECT_FALSE(parse_hex("1ffffffffffffffff"));
    EXPECT_FALSE(parse_hex(""));
    EXPECT_EQ(le_hex(0x401000, 8), "0010400000000000");
}

TEST(GdbPacket, SignalNumbersAreGdbs) {
    EXPECT_EQ(gdb_signal_from_linux(11), 11);  // SIGSEGV
    EXPECT_EQ(gdb_signal_from_linux(5), 5);    // SIGTRAP
    EXPECT_EQ(gdb_signal_from_linux(7), 10);   // SIGBUS
    EXPECT_EQ(gdb_signal_from_linux(10), 30);  // SIGUSR1
    EXPECT_EQ(gdb_signal_from_linux(12), 31);  // SIGUSR2
    EXPECT_EQ(gdb_signal_from_linux(17), 20);  // SIGCHLD
    EXPECT_EQ(gdb_signal_from_linux(18), 19);  // SIGCONT
    EXPECT_EQ(gdb_signal_from_linux(19), 17);  // SIGSTOP
    EXPECT_EQ(gdb_signal_from_linux(31), 12);  // SIGSYS
    EXPECT_EQ(gdb_signal_from_linux(34), 46);  // SIGRTMIN (realtime 34)
    for (int sig = 1; sig <= 64; ++sig)
        if (sig != 16) EXPECT_EQ(linux_signal_from_gdb(gdb_signal_from_linux(sig)), sig) << sig;
}

TEST(GdbRegisters, ImageRoundTripsAndHasGdbsLayout) {
    for (bool is64 : {true, false}) {
        guestos::pt_regs r;
        r.ax = 0x1111, r.cx = 0x2222, r.ip = 0x401000, r.flags = 0x246, r.cs = is64 ? 0x33 : 0x73, r.orig_ax = ~0ull;
        r.fs_base = is64 ? 0x4c0000 : 0;
        r.fxsave[0] = 0x7f, r.fxsave[1] = 0x03;    // FCW 0x37f
        r.fxsave[24] = 0x80, r.fxsave[25] = 0x1f;  // MXCSR 0x1f80
        r.fxsave[160] = 0xaa;                      // xmm0's low byte
        const std::string image = encode_registers(r, is64);
        EXPECT_EQ(image.size(), is64 ? 560u : 312u);
        guestos::pt_regs back;
        ASSERT_TRUE(decode_registers(image, is64, back));
        EXPECT_EQ(back.ax, r.ax);
        EXPECT_EQ(back.cx, r.cx);
        EXPECT_EQ(back.ip, r.ip);
        EXPECT_EQ(back.orig_ax, ~0ull);
        EXPECT_EQ(back.fs_base, r.fs_base);
        EXPECT_EQ(back.fxsave[160], 0xaa);
        EXPECT_EQ(encode_registers(back, is64), image);
        // ecx is register 1 on i386, rbx on x86-64; the pc is 16 (rip) or 8 (eip).
        auto one = register_slot(1, is64);
        EXPECT_EQ(image.substr(one->first, 2), is64 ? std::string(2, '\0') : std::string("\x22\x22", 2));
        auto pc = register_slot(is64 ? 16 : 8, is64);
        EXPECT_EQ(image.substr(pc->first, 3), std::string("\x00\x10\x40", 3));
        EXPECT_FALSE(register_slot(is64 ? 60 : 42, is64));
        EXPECT_FALSE(decode_registers(image.substr(1), is64, back));
    }
}

}  // namespace
}  // namespace gdbstub
