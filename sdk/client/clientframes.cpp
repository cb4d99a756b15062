// Client::Private: what the client does with each server frame, and the outbox flow.
#include "client_p.h"
#include "base/backoff.h"
#include "protocol/codec.h"
#include "transport/transport.h"
#include "wireconversion.h"

namespace parley {

namespace {

// Server frames may be much larger than client frames (a history page carries up to the server's
// history limit of messages); the server's own bounds apply to what it accepts, not to this.
protocol::DecodeLimits serverFrameLimits()
{
    protocol::DecodeLimits limits;
    limits.maxFrameBytes = 64 * 1024 * 1024;
    limits.maxBodyBytes = 1024 * 1024;
    limits.maxNameBytes = 1024;
    limits.maxResumeCursors = 100000;
    limits.maxHistoryLimit = 1000000;
    return limits;
}

// Backoff for a message the server asked us to resend later (rate_limited, overloaded, ...):
// 250 ms doubling to 10 s by the message's own attempts.
qint64 retryDelayMs(int attempts)
{
    constexpr BackoffSchedule kResend { std::chrono::milliseconds(250), std::chrono::seconds(10),
        2.0, Jitter::None };
    return kResend.delay(attempts, 0.0).count();
}

} // namespace

bool Client::Private::sendFrame(const protocol::ClientFrame& frame)
{
    if (!m_transport) {
        return false;
    }
    return m_transport->sendFrame(QByteArray::fromStdString(protocol::encode(frame)));
}

void Client::Private::onFrame(const QByteArray& frame)
{
    m_lastReceivedMs = now();
    static const protocol::DecodeLimits limits = serverFrameLimits();
    auto decoded = protocol::decodeServerFrame(
        std::string_view(frame.constData(), std::size_t(frame.size())), limits);
    if (!decoded) {
        Q_EMIT q->errorOccurred(makeError(ErrorCode::ProtocolError,
            QStringLiteral("undecodable frame from the server: %1")
                .arg(fromWire(decoded.error().message))));
        return;
    }
    const bool wasWelcomed = welcomed;
    std::visit([this](const auto& f) { handle(f); }, decoded.value());
    if (welcomed && m_transport && (wasWelcomed || m_transport->welcomeProvesDownstream())) {
        noteFrame();
    }
    // Welcome, joined, recovered and a failed join are what can finish the resume.
    checkConnectionProven();
}

void Client::Private::handle(const protocol::Welcome& welcome)
{
    if (welcomed) {
        return;
    }
    m_requests.remove(m_helloId);
    armRequestTimer();
    welcomed = true;
    sessionId = fromWire(welcome.session);
    serverNode = fromWire(welcome.node);
    limits = welcome.limits;
    heartbeatMs = welcome.heartbeatMs;
    m_healthyTimer->start(options.reconnect.healthyAfter);
    // Check at half the interval so a dead server is noticed within two intervals, not three.
    m_lastHeartbeatMs = now();
    m_heartbeatTimer->start(std::max<int>(10, int(welcome.heartbeatMs / 2)));
    setState(ConnectionState::Connected);
    if (!welcomed) {
        return; // a slot of stateChanged() closed the connection
    }
    for (auto it = rooms.begin(); it != rooms.end(); ++it) {
        if (it->phase == Room::Phase::Joining) {
            sendJoin(it.key());
        }
    }
}

void Client::Private::sendJoin(const QString& room)
{
    const QString id = nextRequestId(QLatin1Char('j'));
    rooms[room].requestId = id;
    Request request;
    request.kind = Request::Kind::Join;
    request.room = room;
    request.sent = true;
    request.deadlineMs = now() + options.requestTimeout.count();
    m_requests.insert(id, request);
    armRequestTimer();
    sendFrame(protocol::Join { toWire(id), toWire(room) });
}

void Client::Private::handle(const protocol::Joined& joined)
{
    const QString room = fromWire(joined.room);
    const QString id = fromWire(joined.id);
    const auto it = rooms.find(room);
    if (it == rooms.end() || it->phase != Room::Phase::Joining
        || (!id.isEmpty() && it->requestId != id)) {
        return; // left (or rejoined) meanwhile: this answer is stale
    }
    // A resumed room is joined by the server from the hello's cursors (`joined` without an id)
    // while the client's own join may be in flight: that join is answered too, then ignored as
    // stale, so its request ends here; left waiting it would time out and drop the room.
    m_requests.remove(id.isEmpty() ? it->requestId : id);
    armRequestTimer();
    it->phase = Room::Phase::Joined;
    it->requestId.clear();
    const auto outcome = tracker.anchor(room, fromWire(joined.cursor.epoch), joined.cursor.seq);
    QStringList members;
    for (const auto& member : joined.members) {
        members.append(fromWire(member));
    }
    Q_EMIT q->joined(room, joined.cursor.seq, members);
    apply(room, outcome);
    sendDeferredRequests(room);
    scheduleFlush();
}

void Client::Private::handle(const protocol::Left& left)
{
    const QString room = fromWire(left.room);
    const auto it = rooms.find(room);
    if (it == rooms.end() || it->phase != Room::Phase::Leaving
        || (!left.id.empty() && it->requestId != fromWire(left.id))) {
        return; // joined again meanwhile, or never ours
    }
    m_requests.remove(it->requestId);
    armRequestTimer();
    rooms.erase(it);
    tracker.forget(room);
    Q_EMIT q->left(room);
}

void Client::Private::handle(const protocol::Message& message)
{
    const QString room = fromWire(message.room);
    const auto it = rooms.constFind(room);
    if (it == rooms.constEnd() || it->phase == Room::Phase::Leaving) {
        return;
    }
    apply(room, tracker.accept(fromWire(message)));
}

void Client::Private::apply(const QString& room, const DeliveryTracker::Outcome& outcome)
{
    if (outcome.streamReset) {
        const auto cursor = tracker.cursor(room);
        Q_EMIT q->streamReset(room, cursor ? cursor->epoch : QString());
    }
    for (const auto& gap : outcome.gaps) {
        Q_EMIT q->historyGap(room, gap.from, gap.to);
    }
    for (const Message& message : outcome.deliver) {
        Q_EMIT q->messageReceived(message);
    }
    if (outcome.missing) {
        fetchMissing(room, *outcome.missing);
    }
}

void Client::Private::fetchMissing(const QString& room, const DeliveryTracker::Range& range)
{
    // One catch-up per room at a time; its answer looks for what is still missing.
    if (!welcomed || m_catchUps.contains(room) || range.to < range.from) {
        return;
    }
    const auto it = rooms.constFind(room);
    if (it == rooms.constEnd() || it->phase != Room::Phase::Joined) {
        return;
    }
    const QString id = nextRequestId(QLatin1Char('g'));
    Request request;
    request.kind = Request::Kind::CatchUp;
    request.room = room;
    request.missing = range;
    request.query = HistoryQuery::after(
        range.from - 1, int(std::min<quint64>(range.to - range.from + 1, limits.maxHistoryLimit)));
    request.deadlineMs = now() + options.requestTimeout.count();
    auto inserted = m_requests.insert(id, request);
    m_catchUps.insert(room, id);
    sendHistory(id, *inserted);
    armRequestTimer();
}

void Client::Private::sendHistory(const QString& requestId, Request& request)
{
    protocol::HistoryRequest frame;
    frame.id = toWire(requestId);
    frame.room = toWire(request.room);
    frame.beforeSeq = request.query.beforeSeq;
    frame.afterSeq = request.query.afterSeq;
    frame.limit = std::uint32_t(std::clamp<qint64>(request.query.limit, 1, limits.maxHistoryLimit));
    request.sent = true;
    sendFrame(frame);
}

void Client::Private::sendDeferredRequests(const QString& room)
{
    for (auto it = m_requests.begin(); it != m_requests.end(); ++it) {
        if (it->kind == Request::Kind::History && it->room == room && !it->sent) {
            sendHistory(it.key(), *it);
        }
    }
}

void Client::Private::handle(const protocol::Ack& ack)
{
    const QString clientId = fromWire(ack.clientId);
    if (const auto entry = outbox.remove(clientId)) {
        armOutboxTimer();
        announce(clientId, MessageState::Acked);
        if (m_journal) {
            m_journal->remove(clientId);
        }
        Q_EMIT q->messageAcked(clientId, entry->room, ack.seq);
    }
    // Unknown id: a second ack for a resend (the first one won), or a message that already
    // failed by timeout. Either way the application has its one answer.
}

void Client::Private::handle(const protocol::Recovered& recovered)
{
    const QString room = fromWire(recovered.room);
    m_resuming.remove(room); // a replay with a gap is finished too
    if (recovered.recovered) {
        return;
    }
    if (!rooms.contains(room)) {
        return;
    }
    if (recovered.cursorAhead) {
        // Same epoch, but the server lost what we delivered past its position: the seqs it
        // assigns next are new messages, not duplicates to drop.
        apply(room, tracker.restart(room, fromWire(recovered.cursor.epoch), recovered.cursor.seq));
    } else if (recovered.epochChanged) {
        apply(room, tracker.anchor(room, fromWire(recovered.cursor.epoch), recovered.cursor.seq));
    } else {
        apply(room, tracker.skipTo(room, recovered.missingTo));
    }
}

void Client::Private::handle(const protocol::HistoryPage& page)
{
    const QString id = fromWire(page.id);
    const auto it = m_requests.constFind(id);
    if (it == m_requests.constEnd()) {
        return; // timed out or cancelled meanwhile
    }
    const Request request = it.value();
    m_requests.erase(it);
    armRequestTimer();
    QList<Message> messages;
    messages.reserve(qsizetype(page.messages.size()));
    for (const auto& message : page.messages) {
        messages.append(fromWire(message));
    }
    if (request.kind == Request::Kind::History) {
        Q_EMIT q->historyReceived(id, request.room, messages, page.hasMore);
        return;
    }

    // A catch-up page: feed it through the tracker like live messages.
    m_catchUps.remove(request.room);
    if (!rooms.contains(request.room)) {
        return;
    }
    const quint64 from = request.missing.from;
    if (messages.isEmpty()) {
        // The server has nothing in the hole: it is gone for good.
        apply(request.room, tracker.skipTo(request.room, request.missing.to));
        return;
    }
    if (messages.first().seq > from) {
        // Retention starts later than the hole.
        apply(request.room, tracker.skipTo(request.room, messages.first().seq - 1));
    }
    for (const Message& message : std::as_const(messages)) {
        if (!rooms.contains(request.room)) {
            return;
        }
        apply(request.room, tracker.accept(message));
    }
    // A page shorter than the hole: continue from where it ended.
    const auto cursor = tracker.cursor(request.room);
    if (cursor && cursor->seq < request.missing.to && !m_catchUps.contains(request.room)) {
        fetchMissing(request.room, { cursor->seq + 1, request.missing.to });
    }
}

void Client::Private::handle(const protocol::HeartbeatAck&)
{
    // Its arrival already counted as traffic in onFrame().
}

void Client::Private::onHeartbeatTimer()
{
    if (!welcomed) {
        return;
    }
    const qint64 t = now();
    const qint64 interval = std::max<qint64>(20, heartbeatMs);
    if (t - m_lastReceivedMs > 2 * interval) {
        dropConnection(
            makeError(ErrorCode::ConnectionLost,
                QStringLiteral("nothing from the server for %1 ms").arg(t - m_lastReceivedMs)),
            ConnectionState::Disconnected);
        return;
    }
    if (t - m_lastHeartbeatMs >= interval) {
        m_lastHeartbeatMs = t;
        sendFrame(protocol::Heartbeat { std::string() });
    }
    // Wake exactly when the next heartbeat is due or the silence reaches two intervals,
    // whichever comes first, so a dead server is declared dead within two intervals of the last
    // frame, not up to half an interval later.
    const qint64 next = std::min(m_lastHeartbeatMs + interval, m_lastReceivedMs + 2 * interval + 1);
    m_heartbeatTimer->start(int(std::clamp<qint64>(next - t, 1, interval)));
}

void Client::Private::handle(const protocol::Presence& presence)
{
    Q_EMIT q->presenceChanged(fromWire(presence.room), fromWire(presence.user), presence.online);
}

void Client::Private::handle(const protocol::Error& wireError)
{
    const Error error = fromWire(wireError);
    const QString clientId = fromWire(wireError.clientId);
    if (!clientId.isEmpty()) {
        if (const OutboxEntry* entry = outbox.find(clientId)) {
            if (error.retryable) {
                outbox.retryLater(clientId, now() + retryDelayMs(entry->attempts), error);
                announce(clientId, MessageState::Queued);
                armOutboxTimer();
            } else {
                const auto removed = outbox.remove(clientId);
                armOutboxTimer();
                failMessage(*removed, error, false);
            }
            return;
        }
    }
    const auto it = m_requests.constFind(error.requestId);
    if (error.requestId.isEmpty() || it == m_requests.constEnd()) {
        Q_EMIT q->errorOccurred(error);
        return;
    }
    const Request request = it.value();
    m_requests.erase(it);
    armRequestTimer();
    if (request.kind == Request::Kind::Hello) {
        if (error.code == ErrorCode::Overloaded) {
            // A cap refused the session (e.g. too many sessions of this user; close 4007
            // follows): stay away as long as the server says.
            m_serverRetryAfter = Transport::retryAfterFromReason(error.message);
        }
        dropConnection(error,
            error.code == ErrorCode::Unauthorized ? ConnectionState::Closed
                                                  : ConnectionState::Disconnected);
        return;
    }
    if (request.kind == Request::Kind::CatchUp) {
        m_catchUps.remove(request.room);
        Q_EMIT q->errorOccurred(error);
        return;
    }
    failRequest(error.requestId, request, error);
}

// ---------------------------------------------------------------------------------------------
// Outbox flow.

void Client::Private::scheduleFlush()
{
    // Coalesce: many send() calls in one event-loop turn cost one pass over the outbox.
    if (m_flushScheduled) {
        return;
    }
    m_flushScheduled = true;
    QMetaObject::invokeMethod(
        q, [this] { flushOutbox(); }, Qt::QueuedConnection);
}

void Client::Private::flushOutbox()
{
    m_flushScheduled = false;
    if (!welcomed || !m_transport) {
        armOutboxTimer(); // offline, the message deadlines still run
        return;
    }
    const auto ready = outbox.takeReady(now(), [this](const QString& room) {
        const auto it = rooms.constFind(room);
        return it != rooms.constEnd() && it->phase == Room::Phase::Joined;
    });
    for (const OutboxEntry& entry : ready) {
        announce(entry.clientId, MessageState::Sent);
        sendFrame(protocol::Send {
            std::string(), toWire(entry.room), toWire(entry.clientId), toWire(entry.body) });
    }
    armOutboxTimer();
}

void Client::Private::armOutboxTimer()
{
    const qint64 t = now();
    // Offline, a due retry waits for the connection (flushOutbox() runs again on the welcome):
    // waking for it would spin. Only the message deadlines count then.
    const auto next = welcomed && m_transport
        ? outbox.nextWakeMs(t, options.messageTimeout.count())
        : outbox.nextExpiryMs(options.messageTimeout.count());
    if (next) {
        m_outboxTimer->start(
            int(std::clamp<qint64>(*next - t, 0, std::numeric_limits<int>::max())));
    } else {
        m_outboxTimer->stop();
    }
}

void Client::Private::onOutboxTimer()
{
    const auto expired = outbox.takeExpired(now(), options.messageTimeout.count());
    for (const OutboxEntry& entry : expired) {
        const QString late
            = QStringLiteral("not acknowledged within %1 ms").arg(options.messageTimeout.count());
        // The resends ran out: if the server refused the message, its last refusal is the cause
        // (e.g. `unavailable`, "send: storage failed: ... disk is full"), not the clock.
        Error error = makeError(ErrorCode::Timeout, late);
        if (entry.lastRefusal) {
            error = *entry.lastRefusal;
            error.message = QStringLiteral("%1 (%2)").arg(error.message, late);
            error.requestId.clear();
        }
        failMessage(entry, error, false);
    }
    flushOutbox();
}

} // namespace parley
