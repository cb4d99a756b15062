// How a parley::Client reconnects after losing its connection.
#pragma once

#include <chrono>

namespace parley {

//! Automatic reconnect: exponential backoff with full jitter, rotating through the endpoints.
//! The delay before attempt n is random in [0, min(maxDelay, initialDelay * factor^(n-1))].
//! The attempt count starts over at 1 once a connection proved the server works: it got its
//! `welcome` and finished its resume (every room rejoined, and every resumed room's replay
//! ended with `recovered`), or it stayed up for healthyAfter. A server that accepts connections
//! and drops them before that (crash loop) keeps the count, and the delays, growing. A server
//! that refuses for capacity (close 4007, or HTTP 429/503 with Retry-After) names a wait: the
//! next attempt comes after that wait plus the delay above.
struct ReconnectOptions {
    //! Reconnect after a connection failed or dropped. Off: the client goes Disconnected and
    //! waits for connectToServer(). Never for terminal causes (credentials rejected, replaced).
    bool enabled = true;
    //! The bound of the first delay.
    std::chrono::milliseconds initialDelay { 250 };
    //! Growth of the bound per attempt (at least 1).
    double factor = 2.0;
    //! The largest bound.
    std::chrono::milliseconds maxDelay { 30000 };
    //! A connection that stays up this long counts as healthy even if its resume never
    //! finished: the next loss starts over at the first, short delay.
    std::chrono::milliseconds healthyAfter { 10000 };
};

} // namespace parley
