// Client::Private: the user's side of the outbox — accepting messages, their states
// (queued, sent, acked, failed), retry()/discard() of failed ones, and the persistent journal.
#include "client_p.h"
#include "wireconversion.h"

#include <algorithm>

namespace parley {

namespace {
// Failed messages kept for retry()/discard(); past this the oldest are forgotten, so an
// application that never looks at them cannot grow memory without bound.
constexpr qsizetype kMaxFailedKept = 1000;
} // namespace

void Client::Private::submit(
    const QString& clientId, const QString& room, const QString& text, bool journal)
{
    OutboxEntry refused;
    refused.clientId = clientId;
    refused.room = room;
    refused.body = text;
    const auto fail = [&](ErrorCode code, const QString& why) {
        failMessage(refused, makeError(code, why), true);
    };
    const auto it = rooms.constFind(room);
    if (it == rooms.constEnd() || it->phase == Room::Phase::Leaving) {
        return fail(
            ErrorCode::NotJoined, QStringLiteral("join room '%1' before sending to it").arg(room));
    }
    if (text.isEmpty()) {
        return fail(ErrorCode::EmptyBody, QStringLiteral("the message is empty"));
    }
    if (welcomed && text.toUtf8().size() > qint64(limits.maxBodyBytes)) {
        return fail(ErrorCode::BodyTooLarge,
            QStringLiteral("the message exceeds the server's %1-byte limit")
                .arg(limits.maxBodyBytes));
    }
    switch (outbox.enqueue(clientId, room, text, now())) {
    case Outbox::Admission::Accepted:
        break;
    case Outbox::Admission::Full:
        return fail(ErrorCode::OutboxFull,
            QStringLiteral("the outbox holds %1 unacknowledged messages (%2 bytes)")
                .arg(outbox.size())
                .arg(outbox.bytes()));
    case Outbox::Admission::DuplicateId:
        return fail(ErrorCode::Internal, QStringLiteral("client id collision"));
    }
    if (m_journal && journal) {
        outbox.setJournalSerial(clientId, m_journal->append(clientId, room, text));
    }
    announce(clientId, MessageState::Queued);
    scheduleFlush();
    armOutboxTimer();
}

void Client::Private::openJournal()
{
    if (m_journal || options.outboxPath.isEmpty()) {
        return;
    }
    m_journal = new OutboxJournal(options.outboxPath, 2 * options.maxOutboxMessages + 16, q);
    QObject::connect(m_journal, &OutboxJournal::persisted, q, [this](quint64 serial) {
        outbox.setDurableSerial(serial);
        scheduleFlush();
    });
    QObject::connect(m_journal, &OutboxJournal::failed, q, [this](const QString& reason) {
        Q_EMIT q->errorOccurred(makeError(ErrorCode::Internal,
            QStringLiteral("persistent outbox %1: %2").arg(options.outboxPath, reason)));
    });
    QObject::connect(
        m_journal, &OutboxJournal::loaded, q, [this](const QList<OutboxJournal::Record>& records) {
            for (const OutboxJournal::Record& record : records) {
                if (outbox.find(record.clientId)) {
                    continue;
                }
                // The user had joined the room to send there: follow it again.
                if (!rooms.contains(record.room)) {
                    join(record.room);
                }
                submit(record.clientId, record.room, record.body, false);
            }
        });
    m_journal->load();
}

bool Client::Private::retry(const QString& clientId)
{
    const auto it = failed.find(clientId);
    if (it == failed.end()) {
        return false;
    }
    const OutboxEntry entry = it.value();
    failed.erase(it);
    failedOrder.removeOne(clientId);
    submit(entry.clientId, entry.room, entry.body);
    return true;
}

bool Client::Private::discard(const QString& clientId)
{
    if (failed.remove(clientId) == 0) {
        return false;
    }
    failedOrder.removeOne(clientId);
    return true;
}

std::optional<MessageState> Client::Private::messageState(const QString& clientId) const
{
    if (const OutboxEntry* entry = outbox.find(clientId)) {
        return entry->state == OutboxEntry::State::Sent ? MessageState::Sent : MessageState::Queued;
    }
    if (failed.contains(clientId)) {
        return MessageState::Failed;
    }
    return std::nullopt;
}

void Client::Private::announce(const QString& clientId, MessageState state)
{
    post([this, clientId, state] { Q_EMIT q->messageStateChanged(clientId, state); });
}

void Client::Private::failMessage(const OutboxEntry& entry, const Error& error, bool deferred)
{
    if (m_journal) {
        m_journal->remove(entry.clientId); // failed messages live in memory until retry()
    }
    failed.insert(entry.clientId, entry);
    failedOrder.append(entry.clientId);
    while (failedOrder.size() > kMaxFailedKept) {
        failed.remove(failedOrder.takeFirst());
    }
    announce(entry.clientId, MessageState::Failed);
    if (deferred) {
        post([this, id = entry.clientId, error] { Q_EMIT q->messageFailed(id, error); });
    } else {
        Q_EMIT q->messageFailed(entry.clientId, error);
    }
}

} // namespace parley
