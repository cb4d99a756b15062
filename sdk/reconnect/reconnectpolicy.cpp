#include "reconnectpolicy.h"

#include <QRandomGenerator>

#include <algorithm>
#include <cmath>

namespace parley {

ReconnectPolicy::ReconnectPolicy(ReconnectOptions options, std::function<double()> random)
    : m_options(options)
    , m_random(random ? std::move(random) : [] { return QRandomGenerator::global()->generateDouble(); })
{
}

bool ReconnectPolicy::isRetryableClose(int code)
{
    return code != 4001 && code != 4004;
}

std::chrono::milliseconds ReconnectPolicy::ceiling(int n) const
{
    const double initial = double(m_options.initialDelay.count());
    const double cap = double(m_options.maxDelay.count());
    const double grown = initial * std::pow(m_options.factor, std::max(0, n - 1));
    return std::chrono::milliseconds(qint64(std::min(cap, grown)));
}

std::chrono::milliseconds ReconnectPolicy::nextDelay()
{
    ++m_attempt;
    const double bound = double(ceiling(m_attempt).count());
    const double r = std::clamp(m_random(), 0.0, 1.0);
    return std::chrono::milliseconds(qint64(std::floor(r * bound)));
}

} // namespace parley
