// The GDB remote serial protocol's framing (gdb's "Overview" of the protocol): packets
// `$data#cc` with a modulo-256 checksum, acknowledged by `+` or refused by `-`, the
// interrupt byte 0x03 between packets, `}` escapes in binary data. No I/O here: the parser
// takes bytes and yields events, so it can be fed anything (tests/unit/gdbstub_packet_test).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gdbstub {

// Packets longer than this are refused (NAK) and skipped; gdb is told PacketSize.
inline constexpr size_t MAX_PACKET = 0x4000;

// What the parser made of the bytes so far.
struct PacketEvent {
    enum Kind { Packet, BadPacket, Interrupt } kind;
    std::string data;  // Packet: the payload, unescaped
};

class PacketParser {
public:
    // Consumes bytes and appends what they complete to out. Never throws, never grows past
    // MAX_PACKET: garbage outside packets is dropped, a bad checksum or an oversized packet
    // gives BadPacket (answer `-`).
    void feed(const uint8_t* p, size_t n, std::vector<PacketEvent>& out);

private:
    enum class State { Idle, Data, Escape, Check1, Check2 } state_ = State::Idle;
    std::string data_;
    uint8_t sum_ = 0;
    uint8_t check_ = 0;
    bool overflow_ = false;
};

// `$data#cc`, with $, #, } and * escaped (the payload may be binary).
std::string frame_packet(std::string_view data);

// Hex helpers.
std::string to_hex(const void* p, size_t n);
std::string to_hex(std::string_view s);
// Decodes an even-length hex string; nullopt on any other character.
std::optional<std::vector<uint8_t>> from_hex(std::string_view s);
// A hex number (no sign, at most 16 digits); nullopt when malformed.
std::optional<uint64_t> parse_hex(std::string_view s);
// A number in little-endian hex of `bytes` bytes (register values on the wire).
std::string le_hex(uint64_t v, size_t bytes);

// gdb's signal numbers (include/gdb/signals.def) for Linux's x86 ones, and back; 0 when
// unknown.
int gdb_signal_from_linux(int sig);
int linux_signal_from_gdb(int sig);

}  // namespace gdbstub
