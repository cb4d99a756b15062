#include "outbox.h"

#include <QSet>

#include <algorithm>

namespace parley {

Outbox::Outbox(int maxMessages, qint64 maxBytes)
    : m_maxMessages(maxMessages)
    , m_maxBytes(maxBytes)
{
}

void Outbox::setLimits(int maxMessages, qint64 maxBytes)
{
    m_maxMessages = maxMessages;
    m_maxBytes = maxBytes;
}

Outbox::Admission Outbox::enqueue(
    const QString& clientId, const QString& room, const QString& body, qint64 nowMs)
{
    if (m_index.contains(clientId)) {
        return Admission::DuplicateId;
    }
    const qint64 size = body.toUtf8().size();
    if (int(m_entries.size()) >= m_maxMessages || m_bytes + size > m_maxBytes) {
        return Admission::Full;
    }
    OutboxEntry entry;
    entry.clientId = clientId;
    entry.room = room;
    entry.body = body;
    entry.bytes = size;
    entry.enqueuedMs = nowMs;
    m_entries.push_back(std::move(entry));
    m_index.insert(clientId, std::prev(m_entries.end()));
    m_bytes += size;
    return Admission::Accepted;
}

QList<OutboxEntry> Outbox::takeReady(
    qint64 nowMs, const std::function<bool(const QString&)>& roomReady)
{
    QList<OutboxEntry> ready;
    m_lastTakeMs = std::max(m_lastTakeMs, nowMs);
    // Order within a room: an entry that must wait (a retry not yet due, a journal write not yet
    // done) holds back every later entry of its room, so nothing overtakes it.
    QSet<QString> held;
    for (auto& entry : m_entries) {
        if (entry.state != OutboxEntry::State::Queued || held.contains(entry.room)) {
            continue;
        }
        if (entry.notBeforeMs > nowMs || entry.journalSerial > m_durableSerial) {
            held.insert(entry.room);
            continue;
        }
        if (roomReady(entry.room)) {
            entry.state = OutboxEntry::State::Sent;
            ++entry.attempts;
            ready.append(entry);
        }
    }
    return ready;
}

void Outbox::setJournalSerial(const QString& clientId, quint64 serial)
{
    if (const auto it = m_index.constFind(clientId); it != m_index.constEnd()) {
        (*it)->journalSerial = serial;
    }
}

std::optional<OutboxEntry> Outbox::remove(const QString& clientId)
{
    const auto found = m_index.constFind(clientId);
    if (found == m_index.constEnd()) {
        return std::nullopt;
    }
    const Entries::iterator it = found.value();
    OutboxEntry entry = std::move(*it);
    m_index.erase(found);
    m_entries.erase(it);
    m_bytes -= entry.bytes;
    return entry;
}

bool Outbox::retryLater(const QString& clientId, qint64 notBeforeMs, std::optional<Error> refusal)
{
    const auto found = m_index.constFind(clientId);
    if (found == m_index.constEnd()) {
        return false;
    }
    OutboxEntry& entry = *found.value();
    entry.state = OutboxEntry::State::Queued;
    entry.notBeforeMs = notBeforeMs;
    if (refusal) {
        entry.lastRefusal = std::move(refusal);
    }
    return true;
}

QStringList Outbox::requeueSent()
{
    QStringList requeued;
    for (auto& entry : m_entries) {
        if (entry.state == OutboxEntry::State::Sent) {
            requeued.append(entry.clientId);
        }
        entry.state = OutboxEntry::State::Queued;
    }
    return requeued;
}

QList<OutboxEntry> Outbox::takeQueuedForRoom(const QString& room)
{
    QList<OutboxEntry> taken;
    for (auto it = m_entries.begin(); it != m_entries.end();) {
        if (it->room == room && it->state == OutboxEntry::State::Queued) {
            m_index.remove(it->clientId);
            m_bytes -= it->bytes;
            taken.append(std::move(*it));
            it = m_entries.erase(it);
        } else {
            ++it;
        }
    }
    return taken;
}

QList<OutboxEntry> Outbox::takeExpired(qint64 nowMs, qint64 timeoutMs)
{
    QList<OutboxEntry> expired;
    if (timeoutMs <= 0) {
        return expired;
    }
    for (auto it = m_entries.begin(); it != m_entries.end();) {
        if (nowMs - it->enqueuedMs >= timeoutMs) {
            m_index.remove(it->clientId);
            m_bytes -= it->bytes;
            expired.append(std::move(*it));
            it = m_entries.erase(it);
        } else {
            ++it;
        }
    }
    return expired;
}

std::optional<qint64> Outbox::nextWakeMs(qint64 nowMs, qint64 timeoutMs) const
{
    std::optional<qint64> next;
    const auto consider = [&next](qint64 t) { next = next ? std::min(*next, t) : t; };
    for (const auto& entry : m_entries) {
        // A retry due later, or one that came due after the last takeReady() (held back then, so
        // nobody has looked at it since). Retries already seen due by takeReady() wait for
        // outside input (the connection, the room's join): considering them would spin a timer.
        if (entry.state == OutboxEntry::State::Queued
            && (entry.notBeforeMs > nowMs || entry.notBeforeMs > m_lastTakeMs)) {
            consider(entry.notBeforeMs);
        }
        if (timeoutMs > 0) {
            consider(entry.enqueuedMs + timeoutMs);
        }
    }
    return next;
}

std::optional<qint64> Outbox::nextExpiryMs(qint64 timeoutMs) const
{
    if (timeoutMs <= 0 || m_entries.empty()) {
        return std::nullopt;
    }
    qint64 oldest = m_entries.front().enqueuedMs;
    for (const auto& entry : m_entries) {
        oldest = std::min(oldest, entry.enqueuedMs);
    }
    return oldest + timeoutMs;
}

const OutboxEntry* Outbox::find(const QString& clientId) const
{
    const auto found = m_index.constFind(clientId);
    return found == m_index.constEnd() ? nullptr : &*found.value();
}

} // namespace parley
