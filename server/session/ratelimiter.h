// RateLimiter: a token bucket per session. `rate` tokens per second, at most `burst` saved up.
// Driven by the caller's clock (milliseconds), so tests need no sleeps. 16 bytes.
#pragma once

#include <algorithm>
#include <cstdint>

namespace parley::server {

class RateLimiter {
public:
    RateLimiter(std::uint32_t ratePerSecond, std::int64_t nowMs)
        : m_tokens(float(ratePerSecond) * 2)
        , m_lastMs(std::uint32_t(nowMs))
    {
    }

    //! Takes one token; false when the bucket is empty (the frame should be refused).
    bool tryTake(std::uint32_t ratePerSecond, std::int64_t nowMs)
    {
        const auto now = std::uint32_t(nowMs); // wraps every ~49 days; differences stay right
        const std::uint32_t elapsed = now - m_lastMs;
        m_lastMs = now;
        const float burst = float(ratePerSecond) * 2;
        m_tokens = std::min(burst, m_tokens + float(elapsed) * float(ratePerSecond) / 1000.0f);
        if (m_tokens < 1.0f) {
            return false;
        }
        m_tokens -= 1.0f;
        return true;
    }

private:
    float m_tokens;
    std::uint32_t m_lastMs;
};

} // namespace parley::server
