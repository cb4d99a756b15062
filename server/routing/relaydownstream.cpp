#include "relaydownstream.h"

#include "common/post.h"

namespace parley::server {

RelayDownstream::RelayDownstream(NodeRouter& router, RelayLink link, int silenceMs, QObject* parent)
    : HttpDownstream(parent)
    , m_router(router)
    , m_link(std::move(link))
    , m_silenceMs(silenceMs)
{
}

void RelayDownstream::start()
{
    publish(false, 200);
}

void RelayDownstream::holderGone()
{
    m_done = true;
    m_buffer.clear();
    deleteLater();
}

void RelayDownstream::write(const QByteArray& bytes)
{
    if (m_done) {
        return;
    }
    m_buffer += bytes;
    flush();
}

void RelayDownstream::flush()
{
    // Once per event-loop turn: everything the sink writes meanwhile travels in one message.
    if (m_done || m_flushPosted || m_buffer.isEmpty()) {
        return;
    }
    m_flushPosted = true;
    post(this, [this] {
        m_flushPosted = false;
        if (!m_done && !m_buffer.isEmpty()) {
            publish(false, 0);
        }
    });
}

qint64 RelayDownstream::bytesToWrite() const
{
    return m_buffer.size() + m_shared->inFlight.load(std::memory_order_relaxed);
}

void RelayDownstream::finish()
{
    if (m_done) {
        return;
    }
    publish(true, 0);
    m_done = true;
    deleteLater();
}

void RelayDownstream::abort()
{
    if (m_done) {
        return;
    }
    // The holder drops its client's connection: an abnormal end after the bytes so far.
    m_buffer.clear();
    publish(true, 503);
    m_done = true;
    deleteLater();
}

void RelayDownstream::publish(bool end, int status)
{
    if (isHolderGone()) {
        m_buffer.clear();
        return;
    }
    const qint64 size = m_buffer.size();
    m_shared->inFlight.fetch_add(size, std::memory_order_relaxed);
    m_router.sendRelay(m_link, status, m_silenceMs, std::exchange(m_buffer, {}), end,
        [shared = m_shared, size](bool delivered) {
            shared->inFlight.fetch_sub(size, std::memory_order_relaxed);
            if (!delivered) {
                shared->unreachable.store(true, std::memory_order_relaxed);
            }
        });
}

} // namespace parley::server
