// SHA-1 and base64, just enough to check a WebSocket handshake's Sec-WebSocket-Accept
// (RFC 6455 section 4.2.2). Not for anything that needs a secure hash.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley::bench {

std::array<std::uint8_t, 20> sha1(std::string_view data);

std::string base64Encode(const std::uint8_t* data, std::size_t size);

//! The Sec-WebSocket-Accept value a server must answer for this Sec-WebSocket-Key.
std::string webSocketAccept(std::string_view key);

} // namespace parley::bench
