#include "backoff.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

namespace parley {

using std::chrono::milliseconds;

milliseconds BackoffSchedule::ceiling(int n) const
{
    const double first = double(std::max<milliseconds::rep>(initial.count(), 0));
    const double cap = std::max(first, double(max.count()));
    // pow() saturates to infinity long before an int exponent overflows; min() then caps it.
    const double grown = first * std::pow(std::max(factor, 1.0), std::max(0, n - 1));
    return milliseconds(milliseconds::rep(std::min(cap, grown)));
}

milliseconds BackoffSchedule::delay(int n, double unit) const
{
    const milliseconds::rep top = ceiling(n).count();
    const double u = std::clamp(unit, 0.0, 1.0);
    switch (jitter) {
    case Jitter::None:
        return milliseconds(top);
    case Jitter::Full:
        return milliseconds(milliseconds::rep(std::floor(u * double(top))));
    case Jitter::Equal: {
        const milliseconds::rep half = top / 2;
        const auto drawn = half + milliseconds::rep(std::lround(u * double(top - half)));
        return milliseconds(std::clamp<milliseconds::rep>(drawn, 1, std::max<milliseconds::rep>(top, 1)));
    }
    }
    return milliseconds(top);
}

Backoff::Backoff(BackoffSchedule schedule, Random random)
    : m_schedule(schedule)
    , m_random(std::move(random))
{
    if (!m_random) {
        m_random = [engine = std::mt19937(std::random_device {}())]() mutable {
            return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
        };
    }
}

milliseconds Backoff::next()
{
    if (m_attempts < 1000000) {
        ++m_attempts;
    }
    return m_schedule.delay(m_attempts, m_random());
}

} // namespace parley
