// constantTimeEquals: compares secrets (auth-file tokens, HTTP session secrets) in a time that
// depends on their lengths only, never on where they first differ, so that timing the answers
// to guesses does not reveal a secret byte by byte.
//
// Why not CRYPTO_memcmp: parleyd does not link OpenSSL, and one loop is not worth a dependency.
// The accumulator is volatile so the compiler cannot turn the loop into an early exit once a
// difference is seen; the lengths are folded into the result rather than compared first.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace parley::server {

//! Whether `a` and `b` are equal, in time proportional to the longer one.
inline bool constantTimeEquals(std::string_view a, std::string_view b)
{
    const std::size_t n = std::max(a.size(), b.size());
    volatile unsigned diff = unsigned(a.size() ^ b.size());
    for (std::size_t i = 0; i < n; ++i) {
        const auto x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0u;
        const auto y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0u;
        diff = diff | unsigned(x ^ y);
    }
    return diff == 0;
}

} // namespace parley::server
