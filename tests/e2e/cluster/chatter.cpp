#include "chatter.h"

namespace parley::test {

Chatter::Chatter(std::string user, std::string room)
    : m_user(std::move(user))
    , m_room(std::move(room))
{
}

bool Chatter::connectTo(const QUrl& url, bool resume)
{
    if (m_client) {
        poll();
    }
    m_client = std::make_unique<RawClient>(url);
    m_scanned = 0;
    if (!m_client->open()) {
        return false;
    }
    if (!resume) {
        const auto welcome = m_client->hello(m_user);
        if (!welcome) {
            return false;
        }
        m_node = welcome->node;
        const auto joined = m_client->join(m_room);
        if (!joined) {
            return false;
        }
        m_epoch = joined->cursor.epoch;
        m_lastSeq = joined->cursor.seq;
        m_scanned = m_client->frames().size();
        return true;
    }
    const auto welcome
        = m_client->hello(m_user, { protocol::ResumeCursor { m_room, { m_epoch, m_lastSeq } } });
    if (!welcome) {
        return false;
    }
    m_node = welcome->node;
    const auto recovered = m_client->take<protocol::Recovered>(
        [this](const protocol::Recovered& r) { return r.room == m_room; });
    poll();
    return recovered && recovered->recovered;
}

void Chatter::poll()
{
    if (!m_client) {
        return;
    }
    const auto& frames = m_client->frames();
    for (; m_scanned < frames.size(); ++m_scanned) {
        const protocol::ServerFrame& frame = frames[m_scanned];
        if (const auto* message = std::get_if<protocol::Message>(&frame)) {
            if (message->room == m_room) {
                m_received.push_back(*message);
                m_epoch = message->epoch;
                m_lastSeq = std::max(m_lastSeq, message->seq);
            }
        } else if (const auto* ack = std::get_if<protocol::Ack>(&frame)) {
            m_acks[ack->clientId] = *ack;
        } else if (const auto* error = std::get_if<protocol::Error>(&frame)) {
            if (!error->clientId.empty()
                && (error->code == protocol::ErrorCode::Unavailable
                    || error->code == protocol::ErrorCode::Overloaded
                    || error->code == protocol::ErrorCode::RateLimited)) {
                ++m_retryableErrors;
            }
        }
    }
}

void Chatter::sendNext()
{
    const std::string clientId = m_user + "-" + std::to_string(m_sent.size() + 1);
    m_sent.push_back(clientId);
    m_client->send(protocol::Send { m_client->nextId(), m_room, clientId, "body of " + clientId });
}

void Chatter::resendUnacked()
{
    for (const std::string& clientId : m_sent) {
        if (m_acks.count(clientId) == 0) {
            m_client->send(
                protocol::Send { m_client->nextId(), m_room, clientId, "body of " + clientId });
        }
    }
}

std::size_t Chatter::unacked() const
{
    std::size_t count = 0;
    for (const std::string& clientId : m_sent) {
        count += m_acks.count(clientId) == 0 ? 1 : 0;
    }
    return count;
}

} // namespace parley::test
