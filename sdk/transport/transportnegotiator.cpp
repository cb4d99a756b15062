#include "transportnegotiator.h"

#include <algorithm>

namespace parley {

QList<TransportKind> TransportNegotiator::defaultOrder()
{
    return { TransportKind::WebSocket, TransportKind::Sse, TransportKind::LongPoll };
}

TransportNegotiator::TransportNegotiator(QList<TransportKind> order, int failuresBeforeFallback,
    std::chrono::milliseconds probeDelay, std::chrono::milliseconds probeMaxDelay)
    : m_order(normalized(order))
    , m_failuresBeforeFallback(std::max(1, failuresBeforeFallback))
    , m_probes({ std::max(probeDelay, std::chrono::milliseconds(1)),
          std::max(probeMaxDelay, probeDelay), 2.0, Jitter::None })
{
}

QList<TransportKind> TransportNegotiator::normalized(const QList<TransportKind>& order)
{
    QList<TransportKind> result;
    for (TransportKind kind : order) {
        if (kind != TransportKind::Auto && !result.contains(kind)) {
            result.append(kind);
        }
    }
    return result.isEmpty() ? defaultOrder() : result;
}

void TransportNegotiator::start(std::optional<TransportKind> remembered)
{
    const qsizetype at = remembered ? m_order.indexOf(*remembered) : -1;
    m_index = at < 0 ? 0 : at;
    m_failures = 0;
    m_probes.reset();
}

bool TransportNegotiator::openFailed()
{
    if (++m_failures < m_failuresBeforeFallback || m_order.size() == 1) {
        return false;
    }
    m_failures = 0;
    m_index = (m_index + 1) % m_order.size();
    return true;
}

void TransportNegotiator::openSucceeded()
{
    m_failures = 0;
    if (m_index == 0) {
        m_probes.reset();
    }
}

void TransportNegotiator::upgraded()
{
    m_index = 0;
    m_failures = 0;
}

std::chrono::milliseconds TransportNegotiator::nextProbeDelay()
{
    return m_probes.next();
}

std::optional<TransportKind> transportKindFromName(const QString& name)
{
    for (TransportKind kind :
        { TransportKind::WebSocket, TransportKind::Sse, TransportKind::LongPoll }) {
        if (transportKindName(kind) == name) {
            return kind;
        }
    }
    return std::nullopt;
}

} // namespace parley
