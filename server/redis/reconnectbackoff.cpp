#include "reconnectbackoff.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace parley::server {

ReconnectBackoff::ReconnectBackoff(int initialMs, int maxMs, std::function<double()> random)
    : m_initialMs(std::max(1, initialMs))
    , m_maxMs(std::max(m_initialMs, maxMs))
    , m_random(std::move(random))
{
    if (!m_random) {
        m_random = [engine = std::mt19937(std::random_device {}())]() mutable {
            return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
        };
    }
}

int ReconnectBackoff::nextDelayMs()
{
    // Doubling stops at the cap; the exponent is bounded so the shift never overflows.
    const int exponent = std::min(m_failures, 30);
    const long long uncapped = static_cast<long long>(m_initialMs) << exponent;
    const int cap = static_cast<int>(std::min<long long>(uncapped, m_maxMs));
    if (m_failures < 1000000) {
        ++m_failures;
    }
    const double unit = std::clamp(m_random(), 0.0, 1.0);
    const int half = cap / 2;
    const int delay = half + static_cast<int>(std::lround(unit * (cap - half)));
    return std::clamp(delay, 1, m_maxMs);
}

} // namespace parley::server
