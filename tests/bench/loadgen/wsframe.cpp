#include "wsframe.h"

#include <cstring>

namespace parley::bench {

void appendClientFrame(std::string& out, WsOpcode opcode, std::string_view payload,
    std::uint32_t mask)
{
    const std::size_t size = payload.size();
    out.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode)));
    if (size < 126) {
        out.push_back(static_cast<char>(0x80 | size));
    } else if (size <= 0xFFFF) {
        out.push_back(static_cast<char>(0x80 | 126));
        out.push_back(static_cast<char>(size >> 8));
        out.push_back(static_cast<char>(size & 0xFF));
    } else {
        out.push_back(static_cast<char>(0x80 | 127));
        for (int i = 7; i >= 0; --i) {
            out.push_back(static_cast<char>((static_cast<std::uint64_t>(size) >> (i * 8)) & 0xFF));
        }
    }
    const std::uint8_t key[4] = { static_cast<std::uint8_t>(mask >> 24),
        static_cast<std::uint8_t>(mask >> 16), static_cast<std::uint8_t>(mask >> 8),
        static_cast<std::uint8_t>(mask) };
    out.append(reinterpret_cast<const char*>(key), 4);
    const std::size_t start = out.size();
    out.append(payload);
    char* p = out.data() + start;
    for (std::size_t i = 0; i < size; ++i) {
        p[i] = static_cast<char>(static_cast<std::uint8_t>(p[i]) ^ key[i & 3]);
    }
}

WsParseStatus parseServerFrame(std::string_view buffer, WsServerFrame& frame,
    std::size_t& consumed, std::uint64_t maxPayload)
{
    const auto* p = reinterpret_cast<const std::uint8_t*>(buffer.data());
    const std::size_t n = buffer.size();
    if (n < 2) {
        return WsParseStatus::NeedMore;
    }
    if ((p[0] & 0x70) != 0) {
        return WsParseStatus::Error; // no extension was negotiated, so RSV bits must be 0
    }
    const std::uint8_t op = p[0] & 0x0F;
    const bool control = (op & 0x08) != 0;
    if (!(op <= 0x2 || (op >= 0x8 && op <= 0xA))) {
        return WsParseStatus::Error;
    }
    if ((p[1] & 0x80) != 0) {
        return WsParseStatus::Error; // RFC 6455 5.1: a server must not mask
    }
    std::uint64_t length = p[1] & 0x7F;
    std::size_t header = 2;
    if (length == 126) {
        if (n < 4) {
            return WsParseStatus::NeedMore;
        }
        length = (std::uint64_t(p[2]) << 8) | p[3];
        header = 4;
    } else if (length == 127) {
        if (n < 10) {
            return WsParseStatus::NeedMore;
        }
        length = 0;
        for (int i = 0; i < 8; ++i) {
            length = (length << 8) | p[2 + i];
        }
        header = 10;
    }
    const bool fin = (p[0] & 0x80) != 0;
    if (control && (length > 125 || !fin)) {
        return WsParseStatus::Error;
    }
    if (length > maxPayload) {
        return WsParseStatus::Error;
    }
    if (n - header < length) {
        return WsParseStatus::NeedMore;
    }
    frame.fin = fin;
    frame.opcode = static_cast<WsOpcode>(op);
    frame.payload = buffer.substr(header, static_cast<std::size_t>(length));
    consumed = header + static_cast<std::size_t>(length);
    return WsParseStatus::Complete;
}

} // namespace parley::bench
