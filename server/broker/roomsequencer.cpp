#include "roomsequencer.h"

#include <algorithm>
#include <utility>

namespace parley::server {

void RoomSequencer::position(std::string epoch, std::uint64_t lastSeq)
{
    m_positioned = true;
    m_epochChanged = false;
    m_epoch = std::move(epoch);
    m_delivered = lastSeq;
}

std::optional<std::uint64_t> RoomSequencer::reposition(const std::string& epoch, std::uint64_t lastSeq)
{
    m_epochChanged = epoch != m_epoch;
    if (m_epochChanged) {
        m_epoch = epoch;
        m_delivered = std::min(m_delivered, lastSeq);
        m_pending.clear();
    }
    if (lastSeq > m_delivered) {
        return lastSeq;
    }
    return std::nullopt;
}

void RoomSequencer::receive(protocol::Message message)
{
    if (m_positioned && message.seq <= m_delivered) {
        return;
    }
    const std::uint64_t seq = message.seq;
    m_pending.try_emplace(seq, std::move(message));
}

std::optional<RoomSequencer::Range> RoomSequencer::fill(
    const std::vector<protocol::Message>& messages, std::uint64_t firstRetained)
{
    std::optional<Range> trimmed;
    if (firstRetained > m_delivered + 1) {
        trimmed = Range { m_delivered + 1, firstRetained - 1 };
        m_delivered = firstRetained - 1;
    }
    for (const protocol::Message& message : messages) {
        if (message.seq > m_delivered) {
            m_pending.try_emplace(message.seq, message);
        }
    }
    return trimmed;
}

std::vector<protocol::Message> RoomSequencer::take()
{
    std::vector<protocol::Message> ready;
    if (!m_positioned) {
        return ready;
    }
    while (!m_pending.empty()) {
        auto first = m_pending.begin();
        if (first->first <= m_delivered) {
            m_pending.erase(first);
            continue;
        }
        if (first->first != m_delivered + 1) {
            break;
        }
        m_delivered = first->first;
        ready.push_back(std::move(first->second));
        m_pending.erase(first);
    }
    return ready;
}

std::optional<std::uint64_t> RoomSequencer::gapEnd() const
{
    if (!m_positioned || m_pending.empty()) {
        return std::nullopt;
    }
    return m_pending.begin()->first - 1;
}

} // namespace parley::server
