// Backoff: the one retry schedule of Parley, for the SDK (reconnects, resends the server asked
// for, probes of a better transport) and the server (Redis reconnects).
//
// Attempt n (1-based) has the ceiling min(max, initial * factor^(n-1)); the delay drawn under it
// depends on the jitter mode:
// - Jitter::Full: uniform in [0, ceiling]. For a crowd (every client of a node that died): they
//   spread over the whole window instead of coming back in lock-step.
// - Jitter::Equal: uniform in [ceiling/2, ceiling], at least 1 ms. For a few peers that must
//   never hot-loop against a dead server (nodes reconnecting to Redis).
// - Jitter::None: the ceiling itself. For schedules nobody else shares (one client's probes).
//
// Pure bookkeeping: no timers, no clock. The random source is injectable so tests check the
// bounds without waiting.
#pragma once

#include <chrono>
#include <functional>

namespace parley {

enum class Jitter { None, Full, Equal };

struct BackoffSchedule {
    std::chrono::milliseconds initial { 1000 };
    std::chrono::milliseconds max { 30000 }; //!< at least `initial`
    double factor = 2.0; //!< at least 1
    Jitter jitter = Jitter::Full;

    //! The ceiling of attempt `n` (1-based; n < 1 counts as 1), before jitter.
    std::chrono::milliseconds ceiling(int n) const;
    //! The delay of attempt `n` for a uniform `unit` in [0, 1] (clamped), per the jitter mode.
    std::chrono::milliseconds delay(int n, double unit) const;
};

class Backoff {
public:
    //! Returns a uniform double in [0, 1).
    using Random = std::function<double()>;

    //! `random` defaults to a std::mt19937 seeded from std::random_device (thread-confined, like
    //! the Backoff itself).
    explicit Backoff(BackoffSchedule schedule = {}, Random random = {});

    //! Counts one more attempt and returns how long to wait before it.
    std::chrono::milliseconds next();
    //! The attempt number next() last counted (0 before any, and after reset()).
    int attempts() const { return m_attempts; }
    //! The next failure starts from attempt 1 again.
    void reset() { m_attempts = 0; }

    const BackoffSchedule& schedule() const { return m_schedule; }
    void setSchedule(const BackoffSchedule& schedule) { m_schedule = schedule; }

private:
    BackoffSchedule m_schedule;
    Random m_random;
    int m_attempts = 0;
};

} // namespace parley
