// Framing, hex and signal numbers of the GDB remote protocol (see packet.h).
#include "gdbstub/packet.h"

#include <array>
#include <utility>

namespace gdbstub {

namespace {
int hex_digit(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

void PacketParser::feed(const uint8_t* p, size_t n, std::vector<PacketEvent>& out) {
    for (size_t i = 0; i < n; ++i) {
        const uint8_t c = p[i];
        switch (state_) {
        case State::Idle:
            if (c == 0x03) out.push_back({PacketEvent::Interrupt, {}});
            if (c == '$') {
                state_ = State::Data;
                data_.clear();
                sum_ = 0;
                overflow_ = false;
            }
            break;  // acks and anything else between packets are dropped
        case State::Data:
        case State::Escape:
            if (c == '$') {  // a new start inside a packet: the old one was broken
                out.push_back({PacketEvent::BadPacket, {}});
                data_.clear();
                sum_ = 0;
                overflow_ = false;
                state_ = State::Data;
                break;
            }
            if (c == '#' && state_ == State::Data) {
                state_ = State::Check1;
                break;
            }
            sum_ = static_cast<uint8_t>(sum_ + c);
            if (state_ == State::Data && c == '}') {
                state_ = State::Escape;
                break;
            }
            if (data_.size() >= MAX_PACKET) overflow_ = true;
            else data_.push_back(static_cast<char>(state_ == State::Escape ? c ^ 0x20 : c));
            state_ = State::Data;
            break;
        case State::Check1:
        case State::Check2: {
            const int d = hex_digit(c);
            if (d < 0) {
                out.push_back({PacketEvent::BadPacket, {}});
                state_ = c == '$' ? State::Data : State::Idle;
                data_.clear(), sum_ = 0, overflow_ = false;
                break;
            }
            if (state_ == State::Check1) {
                check_ = static_cast<uint8_t>(d << 4);
                state_ = State::Check2;
                break;
            }
            check_ = static_cast<uint8_t>(check_ | d);
            const bool ok = check_ == sum_ && !overflow_;
            out.push_back({ok ? PacketEvent::Packet : PacketEvent::BadPacket, ok ? std::move(data_) : std::string()});
            data_.clear();
            state_ = State::Idle;
            break;
        }
        }
    }
}

std::string frame_packet(std::string_view data) {
    std::string out = "$";
    uint8_t sum = 0;
    for (char ch : data) {
        if (ch == '$' || ch == '#' || ch == '}' || ch == '*') {
            out.push_back('}');
            sum = static_cast<uint8_t>(sum + '}');
            ch = static_cast<char>(ch ^ 0x20);
        }
        out.push_back(ch);
        sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(ch));
    }
    static constexpr char digits[] = "0123456789abcdef";
    out.push_back('#');
    out.push_back(digits[sum >> 4]);
    out.push_back(digits[sum & 15]);
    return out;
}

std::string to_hex(const void* p, size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(2 * n);
    for (size_t i = 0; i < n; ++i) {
        const uint8_t b = static_cast<const uint8_t*>(p)[i];
        s.push_back(digits[b >> 4]);
        s.push_back(digits[b & 15]);
    }
    return s;
}

std::string to_hex(std::string_view s) { return to_hex(s.data(), s.size()); }

std::optional<std::vector<uint8_t>> from_hex(std::string_view s) {
    if (s.size() % 2) return std::nullopt;
    std::vector<uint8_t> out(s.size() / 2);
    for (size_t i = 0; i < out.size(); ++i) {
        const int hi = hex_digit(static_cast<uint8_t>(s[2 * i])), lo = hex_digit(static_cast<uint8_t>(s[2 * i + 1]));
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return out;
}

std::optional<uint64_t> parse_hex(std::string_view s) {
    if (s.empty() || s.size() > 16) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
        const int d = hex_digit(static_cast<uint8_t>(c));
        if (d < 0) return std::nullopt;
        v = v << 4 | static_cast<uint64_t>(d);
    }
    return v;
}

std::string le_hex(uint64_t v, size_t bytes) {
    uint8_t b[8];
    for (size_t i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
    return to_hex(b, bytes);
}

namespace {
// Linux x86 signal -> gdb's (GDB_SIGNAL_*). 1-9, 11, 13-15 agree; SIGSTKFLT has none.
constexpr std::array<std::pair<int, int>, 30> SIGNALS = {{
    {1, 1},   {2, 2},   {3, 3},   {4, 4},   {5, 5},   {6, 6},   {7, 10},  {8, 8},   {9, 9},   {10, 30},
    {11, 11}, {12, 31}, {13, 13}, {14, 14}, {15, 15}, {17, 20}, {18, 19}, {19, 17}, {20, 18}, {21, 21},
    {22, 22}, {23, 16}, {24, 24}, {25, 25}, {26, 26}, {27, 27}, {28, 28}, {29, 23}, {30, 32}, {31, 12},
}};
// Linux's real-time signals 32..64: gdb has GDB_SIGNAL_REALTIME_32 (77) and 33..63 (45..75), 64 (78).
}  // namespace

int gdb_signal_from_linux(int sig) {
    for (auto [l, g] : SIGNALS)
        if (l == sig) return g;
    if (sig == 32) return 77;
    if (sig >= 33 && sig <= 63) return sig - 33 + 45;
    if (sig == 64) return 78;
    return 0;
}

int linux_signal_from_gdb(int sig) {
    for (auto [l, g] : SIGNALS)
        if (g == sig) return l;
    if (sig == 77) return 32;
    if (sig >= 45 && sig <= 75) return sig - 45 + 33;
    if (sig == 78) return 64;
    return 0;
}

}  // namespace gdbstub
