// Random identifiers: node ids, room epochs, message ids, wire session ids.
#pragma once

#include <string>

namespace parley::server {

//! `bytes` random bytes from a securely seeded generator, as lowercase hex (2 * bytes chars).
//! Thread-safe.
std::string randomHex(int bytes);

//! `bytes` random bytes from the operating system's cryptographic source
//! (QRandomGenerator::system()), as lowercase hex: for secrets. randomHex() draws from a
//! seeded Mersenne Twister, whose later outputs can be predicted from earlier ones, which is
//! fine for identifiers and not for a secret. Thread-safe.
std::string secretHex(int bytes);

} // namespace parley::server
