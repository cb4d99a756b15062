#include "connectioncaps.h"

#include <QByteArray>
#include <sys/socket.h>
#include <unistd.h>

namespace parley::server {

ConnectionCaps::ConnectionCaps(std::uint32_t maxConnections, std::uint32_t maxPerPeer)
    : m_maxConnections(maxConnections)
    , m_maxPerPeer(maxPerPeer)
{
}

ConnectionCaps::Admission ConnectionCaps::admit(const PeerKey& peer)
{
    const std::int64_t before = m_total.fetch_add(1, std::memory_order_relaxed);
    if (m_maxConnections != 0 && before >= std::int64_t(m_maxConnections)) {
        m_total.fetch_sub(1, std::memory_order_relaxed);
        return { {}, Refusal::Total };
    }
    PeerTable::Entry* entry = nullptr;
    if (m_maxPerPeer != 0) {
        entry = m_perPeer.tryAcquire(peer, m_maxPerPeer);
        if (!entry) {
            m_total.fetch_sub(1, std::memory_order_relaxed);
            return { {}, Refusal::PerPeer };
        }
    }
    return { CapSlot(this, entry), Refusal::None };
}

void ConnectionCaps::release(void* entry) noexcept
{
    if (entry) {
        m_perPeer.release(static_cast<PeerTable::Entry*>(entry));
    }
    m_total.fetch_sub(1, std::memory_order_relaxed);
}

CapSlot ConnectionCaps::tryRefusing()
{
    if (m_refusing.count.fetch_add(1, std::memory_order_relaxed) >= kMaxRefusing) {
        m_refusing.count.fetch_sub(1, std::memory_order_relaxed);
        return {};
    }
    return CapSlot(&m_refusing, nullptr);
}

void ConnectionCaps::refuseNow(int fd, Refusal refusal)
{
    const bool total = refusal == Refusal::Total;
    const QByteArray body = total
        ? QByteArrayLiteral("{\"error\":\"over_capacity\",\"message\":\"the server is at its "
                            "connection limit\"}")
        : QByteArrayLiteral("{\"error\":\"too_many_connections\",\"message\":\"too many "
                            "connections from this address\"}");
    const QByteArray response = (total ? QByteArrayLiteral("HTTP/1.1 503 Service Unavailable\r\n")
                                       : QByteArrayLiteral("HTTP/1.1 429 Too Many Requests\r\n"))
        + "Retry-After: " + QByteArray::number(kRetryAfterS)
        + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size())
        + "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n" + body;
    // A fresh socket's send buffer takes this at once; a peer that cannot take it gets nothing.
    [[maybe_unused]] const ssize_t sent
        = ::send(fd, response.constData(), std::size_t(response.size()), MSG_DONTWAIT | MSG_NOSIGNAL);
    // Whatever the client sent already is read first: closing with unread input would reset
    // the connection, which can destroy the answer before the client reads it.
    char sink[4096];
    for (int i = 0; i < 4 && ::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
    }
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
}

} // namespace parley::server
