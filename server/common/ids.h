// Random identifiers: node ids, room epochs, message ids, wire session ids.
#pragma once

#include <string>

namespace parley::server {

//! `bytes` random bytes from a securely seeded generator, as lowercase hex (2 * bytes chars).
//! Thread-safe.
std::string randomHex(int bytes);

} // namespace parley::server
