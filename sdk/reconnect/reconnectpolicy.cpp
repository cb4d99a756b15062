#include "reconnectpolicy.h"

#include <utility>

namespace parley {

ReconnectPolicy::ReconnectPolicy(ReconnectOptions options, Backoff::Random random)
    : m_backoff(schedule(options), std::move(random))
{
}

BackoffSchedule ReconnectPolicy::schedule(const ReconnectOptions& options)
{
    return { options.initialDelay, options.maxDelay, options.factor, Jitter::Full };
}

bool ReconnectPolicy::isRetryableClose(int code)
{
    return code != 4001 && code != 4004;
}

} // namespace parley
