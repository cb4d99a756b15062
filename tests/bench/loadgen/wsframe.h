// RFC 6455 client-side framing, apart from any socket: encode masked client frames into a
// buffer; parse unmasked server frames out of a buffer. The caller owns I/O and reassembly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace parley::bench {

enum class WsOpcode : std::uint8_t {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

//! Appends one complete (FIN) client frame, masked with `mask` as RFC 6455 5.3 requires.
void appendClientFrame(std::string& out, WsOpcode opcode, std::string_view payload,
    std::uint32_t mask);

struct WsServerFrame {
    bool fin = false;
    WsOpcode opcode = WsOpcode::Text;
    std::string_view payload; //!< points into the parsed buffer
};

enum class WsParseStatus {
    Complete, //!< a frame was parsed; `consumed` bytes of the buffer belong to it
    NeedMore, //!< the buffer holds only part of a frame
    Error, //!< not a frame a server may send (masked, reserved bits, bad opcode, too big)
};

//! Parses the frame at the start of `buffer`. Frames whose payload exceeds maxPayload are an
//! error (protects the load generator, not a protocol rule).
WsParseStatus parseServerFrame(std::string_view buffer, WsServerFrame& frame,
    std::size_t& consumed, std::uint64_t maxPayload = 16 * 1024 * 1024);

} // namespace parley::bench
