// Delays between reconnect attempts to Redis: exponential, capped, with jitter.
#pragma once

#include <functional>
#include <random>

namespace parley::server {

//! Computes the delay before each reconnect attempt. Pure bookkeeping (no timers, no clock) so
//! that the schedule is testable with an injected random source.
//!
//! The n-th consecutive failure (n from 0) waits a delay drawn uniformly from [cap/2, cap] where
//! cap = min(maxMs, initialMs * 2^n) ("equal jitter"): never zero (no hot loop against a dead
//! server), never above maxMs, and spread so that nodes that lost Redis together do not all
//! come back in the same millisecond.
class ReconnectBackoff {
public:
    //! `random` returns a uniform double in [0, 1); by default a std::mt19937 seeded from
    //! std::random_device. initialMs and maxMs are clamped to at least 1 ms, maxMs >= initialMs.
    ReconnectBackoff(int initialMs, int maxMs, std::function<double()> random = {});

    //! The delay before the next attempt; counts one more failure.
    int nextDelayMs();
    //! A connection succeeded: the next failure starts from initialMs again.
    void reset() { m_failures = 0; }
    //! Consecutive failures since the last reset().
    int failures() const { return m_failures; }
    int initialMs() const { return m_initialMs; }
    int maxMs() const { return m_maxMs; }

private:
    int m_initialMs;
    int m_maxMs;
    int m_failures = 0;
    std::function<double()> m_random;
};

} // namespace parley::server
