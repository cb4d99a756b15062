// ReconnectPolicy: when and where a Client tries again after losing its connection.
//
// One policy per Client (not per request), decided by how the connection ended. Pure: no timers,
// no clock; randomness comes from an injectable source, so tests check the bounds of the jitter
// and the rotation without waiting.
//
// Contract:
// - Delay of attempt n (1-based): uniform in [0, min(maxDelay, initialDelay * factor^(n-1))]
//   ("full jitter": a crowd of clients that lost the same server spreads out instead of coming
//   back in lock-step).
// - Each failed attempt moves to the next endpoint (round robin), so a client whose node died
//   lands on another one.
// - reset() after a connection proved healthy: the next loss starts again at attempt 1. The
//   Client calls it when a connection got its welcome and finished its resume (or stayed up for
//   ReconnectOptions::healthyAfter), never for one that merely opened: a server that accepts
//   and then drops (crash loop) keeps getting the growing, spread-out delays.
// - Close codes the server marks terminal (4001 unauthorized, 4004 replaced) never retry.
#pragma once

#include "base/backoff.h"

#include <parley/clientoptions.h>

#include <chrono>
#include <functional>

namespace parley {

class ReconnectPolicy {
public:
    //! `random` returns a uniform double in [0, 1) (Backoff's default source if empty).
    explicit ReconnectPolicy(ReconnectOptions options = {}, Backoff::Random random = {});

    void setOptions(const ReconnectOptions& options) { m_backoff.setSchedule(schedule(options)); }
    //! The reconnect options as a Backoff schedule with full jitter.
    static BackoffSchedule schedule(const ReconnectOptions& options);

    //! Whether a connection that ended with WebSocket close `code` may be retried.
    static bool isRetryableClose(int code);

    //! Counts one more attempt and returns how long to wait before it.
    std::chrono::milliseconds nextDelay() { return m_backoff.next(); }
    //! The attempt number nextDelay() last counted (0 before any).
    int attempt() const { return m_backoff.attempts(); }
    //! The upper bound of the delay for attempt `n` (1-based), before jitter.
    std::chrono::milliseconds ceiling(int n) const { return m_backoff.schedule().ceiling(n); }

    //! Index of the endpoint to use now, among `count`.
    int endpoint(int count) const { return count > 0 ? m_endpoint % count : 0; }
    //! Moves to the next endpoint (after a failed attempt or a lost connection).
    void rotate() { ++m_endpoint; }

    //! The connection is healthy: the next loss starts from attempt 1 (the endpoint stays).
    void reset() { m_backoff.reset(); }

private:
    Backoff m_backoff;
    int m_endpoint = 0;
};

} // namespace parley
