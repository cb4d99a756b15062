// Time sources used by the server: wall clock for message timestamps, a monotonic clock for
// timeouts (heartbeats, slow-loris deadlines, rate limiting).
#pragma once

#include <chrono>
#include <cstdint>

namespace parley::server {

//! Milliseconds since the Unix epoch (wall clock, may jump).
inline std::int64_t wallClockMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

//! Milliseconds on a monotonic clock (never jumps; only differences mean something).
inline std::int64_t monotonicMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

} // namespace parley::server
