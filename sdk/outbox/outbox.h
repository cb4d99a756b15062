// Outbox: the messages a Client has accepted from send() and not yet seen acknowledged.
//
// Pure bookkeeping, no I/O and no timers: the Client asks it what to send now, tells it what the
// server answered, and arms its own timer from nextWakeMs(). Times are milliseconds on a caller-
// supplied monotonic clock, so tests drive it without waiting.
//
// Contract:
// - Bounded: enqueue() refuses a message past maxMessages entries or maxBytes of bodies.
// - Order: takeReady() hands out queued entries in enqueue() order.
// - Identity: an entry keeps its clientId across resends (the server dedupes on it); each
//   clientId leaves the outbox exactly once (remove(), takeQueuedForRoom(), takeExpired()).
// - Persistence across restarts is OutboxJournal's (outboxjournal.h); this class is unchanged by it.
#pragma once

#include <parley/error.h>

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

#include <algorithm>
#include <functional>
#include <list>
#include <optional>

namespace parley {

struct OutboxEntry {
    enum class State {
        Queued, //!< waiting to be written to the server
        Sent, //!< written; waiting for the ack
    };

    QString clientId;
    QString room;
    QString body;
    qint64 bytes = 0; //!< UTF-8 size of body, counted against the byte bound
    State state = State::Queued;
    qint64 enqueuedMs = 0;
    qint64 notBeforeMs = 0; //!< a retry waits until then
    int attempts = 0; //!< how many times it was written
    //! Persistent outbox: the journal serial of its record; it is not sent before the journal
    //! reported that serial persisted (write-ahead). 0: nothing to wait for.
    quint64 journalSerial = 0;
    //! The last retryable error the server answered for it (the reason its resends did not
    //! succeed yet); reported if the message expires (ClientOptions::messageTimeout).
    std::optional<Error> lastRefusal;
};

class Outbox {
public:
    enum class Admission { Accepted, Full, DuplicateId };

    Outbox(int maxMessages, qint64 maxBytes);

    void setLimits(int maxMessages, qint64 maxBytes);

    //! Adds a message in state Queued at `nowMs`.
    Admission enqueue(const QString& clientId, const QString& room, const QString& body, qint64 nowMs);

    //! Queued entries whose room passes `roomReady` and whose retry time has come, in enqueue
    //! order; they become Sent (attempts + 1). An entry still waiting (retry not due, journal
    //! write pending) holds back the later entries of its room.
    QList<OutboxEntry> takeReady(qint64 nowMs, const std::function<bool(const QString&)>& roomReady);

    //! Write-ahead: entries whose journalSerial is above `serial` are not handed out yet.
    void setDurableSerial(quint64 serial) { m_durableSerial = std::max(m_durableSerial, serial); }
    //! Records the journal serial of entry `clientId`.
    void setJournalSerial(const QString& clientId, quint64 serial);

    //! Removes an entry (acked or failed); nothing when unknown (e.g. a duplicate ack).
    std::optional<OutboxEntry> remove(const QString& clientId);

    //! A Sent entry got the retryable error `refusal`: back to Queued, not before `notBeforeMs`;
    //! the refusal is kept as its lastRefusal. False when unknown.
    bool retryLater(const QString& clientId, qint64 notBeforeMs, std::optional<Error> refusal = {});

    //! The connection dropped: every Sent entry goes back to Queued (order kept), to be resent
    //! with the same clientId. Returns the ids that went back.
    QStringList requeueSent();

    //! Removes and returns the Queued (never written) entries of `room`, e.g. on leave.
    QList<OutboxEntry> takeQueuedForRoom(const QString& room);

    //! Removes and returns entries enqueued at least `timeoutMs` before `nowMs` (timeout > 0).
    QList<OutboxEntry> takeExpired(qint64 nowMs, qint64 timeoutMs);

    //! The earliest time at which something changes without outside input: a retry comes due
    //! or, when timeoutMs > 0, an entry expires. A retry that came due since the last
    //! takeReady() counts too (the time is then in the past: take now), so a caller that arms
    //! its timer from here never sleeps past a due retry. Nothing when there is no such time.
    std::optional<qint64> nextWakeMs(qint64 nowMs, qint64 timeoutMs) const;
    //! When the oldest entry expires (timeoutMs > 0); nothing when there is none. Offline, this
    //! is the only time that matters: due retries wait for the connection.
    std::optional<qint64> nextExpiryMs(qint64 timeoutMs) const;

    const OutboxEntry* find(const QString& clientId) const;
    int size() const { return int(m_entries.size()); }
    bool isEmpty() const { return m_entries.empty(); }
    qint64 bytes() const { return m_bytes; }

private:
    using Entries = std::list<OutboxEntry>;

    Entries m_entries;
    QHash<QString, Entries::iterator> m_index;
    int m_maxMessages;
    qint64 m_maxBytes;
    qint64 m_bytes = 0;
    quint64 m_durableSerial = 0;
    qint64 m_lastTakeMs = 0; //!< `nowMs` of the last takeReady()
};

} // namespace parley
