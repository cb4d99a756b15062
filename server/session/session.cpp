#include "session.h"

#include "app/servercontext.h"
#include "auth/authenticator.h"
#include "broker/broker.h"
#include "common/clock.h"
#include "common/ids.h"
#include "hub/roomhub.h"
#include "io/iothread.h"
#include "protocol/codec.h"

#include <QLoggingCategory>

namespace parley::server {

Q_LOGGING_CATEGORY(lcSession, "parley.session", QtInfoMsg)

namespace {

// A session that started closing and did not finish within this time is aborted.
constexpr std::int64_t kCloseTimeoutMs = 5000;

} // namespace

Session::Session(IoThread& io, std::uint64_t id, std::unique_ptr<SessionSink> sink)
    : m_io(io)
    , m_sink(std::move(sink))
    , m_id(id)
    , m_openedMs(std::uint32_t(monotonicMs()))
    , m_lastSeenMs(monotonicMs())
    , m_rate(io.context().config.rateLimit, m_lastSeenMs)
{
    qCInfo(lcSession, "event=session_open session=%llu thread=%d peer=%s", (unsigned long long)m_id,
        io.index(), qPrintable(m_sink->peer()));
}

Session::~Session() = default;

void Session::close(CloseCode code)
{
    if (m_state == State::Closing) {
        return;
    }
    qCInfo(lcSession, "event=session_close session=%llu code=%d reason=\"%s\"",
        (unsigned long long)m_id, int(code), closeReason(code));
    m_state = State::Closing;
    m_closingSinceMs = monotonicMs();
    m_sink->close(code);
}

void Session::detach()
{
    if (m_detached) {
        return;
    }
    m_detached = true;
    if (m_state != State::Closing) {
        m_state = State::Closing;
        m_closingSinceMs = monotonicMs();
    }
    if (m_user.empty()) {
        return;
    }
    std::vector<std::string> rooms;
    rooms.reserve(m_rooms.size());
    for (const auto& [room, state] : m_rooms) {
        if (state.phase != Phase::Joining) {
            m_io.removeRoomMember(room, this);
        }
        rooms.push_back(room);
    }
    m_rooms.clear();
    reportDown();
    if (!rooms.empty()) {
        m_io.context().hub->disconnect(&m_io, m_id, m_user, std::move(rooms));
    }
}

void Session::checkTimeouts(std::int64_t nowMs)
{
    if (m_state == State::Closing) {
        if (nowMs - m_closingSinceMs > kCloseTimeoutMs) {
            m_sink->abort();
        }
        return;
    }
    m_sink->checkDeadlines(nowMs);
    if (m_state == State::Closing) {
        return;
    }
    if (m_state == State::AwaitingHello
        && std::uint32_t(nowMs) - m_openedMs > m_io.context().config.helloTimeoutMs) {
        close(CloseCode::HelloTimeout);
        return;
    }
    if (nowMs - m_lastSeenMs > 2 * std::int64_t(m_io.context().config.heartbeatMs)) {
        close(CloseCode::HeartbeatTimeout);
        return;
    }
    refreshPresence(nowMs);
}

// --- input -------------------------------------------------------------------------------------

void Session::receiveBinary()
{
    if (m_state == State::Closing) {
        return;
    }
    m_lastSeenMs = monotonicMs();
    sendError({}, protocol::ErrorCode::BadFrame, "binary frames are not part of the protocol");
    close(CloseCode::BadFrame);
}

bool Session::receiveControl()
{
    if (m_state == State::Closing) {
        return false;
    }
    if (m_state == State::AwaitingHello
        || !m_rate.tryTake(m_io.context().config.rateLimit, monotonicMs())) {
        close(CloseCode::PolicyViolation);
        return false;
    }
    return true;
}

void Session::receiveText(QByteArrayView text)
{
    if (m_state == State::Closing) {
        return;
    }
    const std::int64_t now = monotonicMs();
    m_lastSeenMs = now;
    const ServerContext& context = m_io.context();
    auto decoded = protocol::decodeClientFrame(
        std::string_view(text.data(), std::size_t(text.size())), context.decodeLimits);
    if (!m_rate.tryTake(context.config.rateLimit, now)) {
        if (decoded && m_state == State::Welcomed) {
            if (const auto* request = std::get_if<protocol::Send>(&decoded.value())) {
                refuseSend(
                    *request, protocol::ErrorCode::RateLimited, "too many frames per second");
                return;
            }
        }
        sendError(decoded ? std::visit([](const auto& f) { return f.id; }, decoded.value())
                          : decoded.error().id,
            protocol::ErrorCode::RateLimited, "too many frames per second");
        return;
    }
    if (!decoded) {
        const protocol::DecodeError& error = decoded.error();
        if (m_state == State::AwaitingHello && error.code == protocol::ErrorCode::Unauthorized) {
            sendError(error.id, error.code, error.message);
            close(CloseCode::Unauthorized);
            return;
        }
        sendError(error.id, error.code, error.message);
        return;
    }
    const protocol::ClientFrame& frame = decoded.value();
    if (m_state == State::AwaitingHello && !std::holds_alternative<protocol::Hello>(frame)) {
        sendError(std::visit([](const auto& f) { return f.id; }, frame),
            protocol::ErrorCode::HelloRequired, "send hello first");
        return;
    }
    std::visit([this](const auto& f) { handle(f); }, frame);
}

void Session::handle(const protocol::Hello& hello)
{
    if (m_state != State::AwaitingHello) {
        sendError(
            hello.id, protocol::ErrorCode::AlreadyWelcomed, "this session already said hello");
        return;
    }
    const ServerContext& context = m_io.context();
    if (!context.auth->check(hello.user, hello.token)) {
        qCInfo(lcSession, "event=auth_failed session=%llu user=%s", (unsigned long long)m_id,
            hello.user.c_str());
        sendError(hello.id, protocol::ErrorCode::Unauthorized, "bad user name or token");
        close(CloseCode::Unauthorized);
        return;
    }
    m_user = hello.user;
    m_state = State::Welcomed;
    protocol::Welcome welcome;
    welcome.id = hello.id;
    welcome.session = randomHex(8);
    welcome.node = context.nodeId;
    welcome.user = m_user;
    welcome.heartbeatMs = context.config.heartbeatMs;
    welcome.limits = context.limits;
    send(welcome);
    reportAlive(monotonicMs());
    qCInfo(lcSession, "event=welcome session=%llu user=%s resume=%zu", (unsigned long long)m_id,
        m_user.c_str(), hello.resume.size());
    for (const protocol::ResumeCursor& cursor : hello.resume) {
        if (m_rooms.contains(cursor.room)) {
            continue; // the same room twice: the first cursor wins
        }
        if (m_rooms.size() >= context.config.maxRooms) {
            sendError({}, protocol::ErrorCode::TooManyRooms,
                "resume: cannot rejoin " + cursor.room + ", max_rooms reached");
            continue;
        }
        startJoin(cursor.room, {}, cursor.cursor);
    }
}

void Session::handle(const protocol::Join& join)
{
    const auto it = m_rooms.find(join.room);
    if (it == m_rooms.end() && m_rooms.size() >= m_io.context().config.maxRooms) {
        sendError(join.id, protocol::ErrorCode::TooManyRooms,
            "join: already in " + std::to_string(m_rooms.size()) + " rooms");
        return;
    }
    if (it != m_rooms.end()) {
        // Idempotent: the hub answers again with the room's current position.
        m_io.context().hub->join(&m_io, m_id, m_user, join.room, join.id);
        return;
    }
    startJoin(join.room, join.id, std::nullopt);
}

void Session::startJoin(
    const std::string& room, const std::string& requestId, std::optional<protocol::Cursor> resume)
{
    RoomState& state = m_rooms[room];
    state.phase = Phase::Joining;
    state.resume = std::move(resume);
    m_io.context().hub->join(&m_io, m_id, m_user, room, requestId);
}

void Session::handle(const protocol::Leave& leave)
{
    const auto it = m_rooms.find(leave.room);
    if (it == m_rooms.end()) {
        sendError(leave.id, protocol::ErrorCode::NotJoined, "leave: not in room " + leave.room);
        return;
    }
    if (it->second.phase != Phase::Joining) {
        m_io.removeRoomMember(leave.room, this);
    }
    m_rooms.erase(it);
    // The hub sees the join (if still in flight) before this leave: same FIFO path.
    m_io.context().hub->leave(&m_io, m_id, m_user, leave.room);
    send(protocol::Left { leave.id, leave.room });
    reportAlive(monotonicMs());
}

void Session::handle(const protocol::Send& request)
{
    const auto it = m_rooms.find(request.room);
    if (it == m_rooms.end() || it->second.phase == Phase::Joining) {
        sendError(request.id, protocol::ErrorCode::NotJoined, "send: not in room " + request.room,
            request.clientId);
        return;
    }
    if (it->second.barrier) {
        if (!it->second.barrier->isLiftedBy(request.clientId, monotonicMs())) {
            refuseSend(request, it->second.barrier->code(),
                "send: an earlier send to this room was refused; resend in order");
            return;
        }
        it->second.barrier.reset();
    }
    const ServerContext& context = m_io.context();
    // The codec checks these too; kept here so the server's limits never depend on a codec
    // default.
    if (request.body.empty()) {
        sendError(request.id, protocol::ErrorCode::EmptyBody, "send: empty body", request.clientId);
        return;
    }
    if (request.body.size() > context.config.maxBodyBytes) {
        sendError(request.id, protocol::ErrorCode::BodyTooLarge,
            "send: body exceeds " + std::to_string(context.config.maxBodyBytes) + " bytes",
            request.clientId);
        return;
    }
    if (!context.broker->tryReserve()) {
        refuseSend(request, protocol::ErrorCode::Overloaded, "send: storage queue full, retry");
        return;
    }
    IoThread* io = &m_io;
    const std::uint64_t id = m_id;
    context.broker->append(AppendRequest { request.room, m_user, request.clientId, request.body },
        [io, id, room = request.room, requestId = request.id, clientId = request.clientId](
            const StorageWorker::AppendReply& reply) {
            io->runOnSession(id, [room, requestId, clientId, reply](Session& session) {
                session.onAppended(room, requestId, clientId, reply);
            });
        });
}

void Session::refuseSend(
    const protocol::Send& request, protocol::ErrorCode code, std::string message)
{
    const auto it = m_rooms.find(request.room);
    if (it != m_rooms.end()) {
        const std::int64_t now = monotonicMs();
        if (!it->second.barrier) {
            it->second.barrier = std::make_unique<SendBarrier>(code, request.clientId, now);
        } else {
            it->second.barrier->refused(request.clientId, now);
        }
    }
    sendError(request.id, code, std::move(message), request.clientId);
}

void Session::onAppended(const std::string& room, const std::string& requestId,
    const std::string& clientId, const StorageWorker::AppendReply& reply)
{
    if (m_state == State::Closing) {
        return;
    }
    if (!reply.ok) {
        // Sends already handed to storage behind this one may still be stored before its resend
        // (documented in docs/protocol.md); the barrier keeps later ones from doing the same.
        protocol::Send refused;
        refused.id = requestId;
        refused.room = room;
        refused.clientId = clientId;
        refuseSend(refused, protocol::ErrorCode::Unavailable, "send: storage failed, retry");
        return;
    }
    const protocol::Message& message = reply.outcome.message;
    protocol::Ack ack;
    ack.id = requestId;
    ack.clientId = clientId;
    ack.room = message.room;
    ack.epoch = message.epoch;
    ack.seq = message.seq;
    ack.msgId = message.msgId;
    ack.ts = message.ts;
    ack.duplicate = reply.outcome.status == AppendOutcome::Status::Duplicate;
    send(ack);
}

void Session::handle(const protocol::Heartbeat& heartbeat)
{
    send(protocol::HeartbeatAck { heartbeat.id, wallClockMs() });
}

void Session::handle(const protocol::HistoryRequest& request)
{
    const auto it = m_rooms.find(request.room);
    if (it == m_rooms.end() || it->second.phase == Phase::Joining) {
        sendError(
            request.id, protocol::ErrorCode::NotJoined, "history: not in room " + request.room);
        return;
    }
    const ServerContext& context = m_io.context();
    if (!context.broker->tryReserve()) {
        sendError(
            request.id, protocol::ErrorCode::Overloaded, "history: storage queue full, retry");
        return;
    }
    HistoryQuery query;
    query.room = request.room;
    query.beforeSeq = request.beforeSeq;
    query.afterSeq = request.afterSeq;
    query.limit = std::clamp<std::uint32_t>(request.limit, 1, context.config.maxHistoryLimit);
    IoThread* io = &m_io;
    const std::uint64_t id = m_id;
    context.broker->read(std::move(query),
        [io, id, requestId = request.id, room = request.room](const HistoryResult& result) {
            io->runOnSession(id, [requestId, room, result](Session& session) {
                session.onHistory(requestId, room, result);
            });
        });
}

void Session::onHistory(
    const std::string& requestId, const std::string& room, const HistoryResult& result)
{
    if (m_state == State::Closing) {
        return;
    }
    if (!result.ok) {
        sendError(requestId, protocol::ErrorCode::Unavailable, "history: storage failed, retry");
        return;
    }
    protocol::HistoryPage page;
    page.id = requestId;
    page.room = room;
    page.epoch = result.position.epoch;
    page.messages = result.messages;
    page.hasMore = result.hasMore;
    send(page);
}

// --- joins and replay --------------------------------------------------------------------------

void Session::onJoinCompleted(const JoinResult& result)
{
    if (m_state == State::Closing) {
        return;
    }
    const auto it = m_rooms.find(result.room);
    if (it == m_rooms.end()) {
        return; // left (or never asked) meanwhile; the hub has seen the leave too
    }
    RoomState& state = it->second;
    if (!result.ok) {
        if (state.phase == Phase::Joining) {
            m_rooms.erase(it);
        }
        sendError(result.requestId, result.error, result.errorMessage);
        return;
    }
    const bool firstReply = state.phase == Phase::Joining;
    if (firstReply) {
        state.phase = Phase::Joined;
        state.epoch = result.epoch;
        m_io.addRoomMember(result.room, this);
        reportAlive(monotonicMs());
    }
    protocol::Joined joined;
    joined.id = result.requestId;
    joined.room = result.room;
    joined.cursor = protocol::Cursor { result.epoch, result.lastSeq };
    joined.members = result.members;
    send(joined);
    if (!firstReply || !state.resume) {
        return;
    }
    const protocol::Cursor cursor = *state.resume;
    state.resume.reset();
    if (cursor.epoch != result.epoch || cursor.seq > result.lastSeq) {
        // A cursor from another stream (or ahead of this one, which only a reset stream can
        // produce): nothing in it can be replayed.
        protocol::Recovered recovered;
        recovered.room = result.room;
        recovered.cursor = protocol::Cursor { result.epoch, result.lastSeq };
        recovered.recovered = false;
        recovered.epochChanged = true;
        send(recovered);
        return;
    }
    state.phase = Phase::Replaying;
    state.replayNext = cursor.seq;
    state.replayUpTo = result.lastSeq;
    if (state.replayNext >= state.replayUpTo) {
        finishReplay(result.room, state);
        return;
    }
    requestReplayChunk(result.room, state);
}

void Session::requestReplayChunk(const std::string& room, RoomState& state)
{
    Broker* storage = m_io.context().broker;
    if (!storage->tryReserve()) {
        // Cannot read now: say honestly what is missing rather than stall the room.
        state.missingFrom = state.missingFrom ? state.missingFrom : state.replayNext + 1;
        state.missingTo = state.replayUpTo;
        finishReplay(room, state);
        return;
    }
    HistoryQuery query;
    query.room = room;
    query.afterSeq = state.replayNext;
    query.maxSeq = state.replayUpTo;
    query.limit = kReplayChunk;
    IoThread* io = &m_io;
    const std::uint64_t id = m_id;
    storage->read(std::move(query), [io, id, room](const HistoryResult& result) {
        io->runOnSession(
            id, [room, result](Session& session) { session.onReplayChunk(room, result); });
    });
}

void Session::onReplayChunk(const std::string& room, const HistoryResult& result)
{
    if (m_state == State::Closing) {
        return;
    }
    const auto it = m_rooms.find(room);
    if (it == m_rooms.end() || it->second.phase != Phase::Replaying) {
        return;
    }
    RoomState& state = it->second;
    if (!result.ok || result.position.epoch != state.epoch) {
        state.missingFrom = state.missingFrom ? state.missingFrom : state.replayNext + 1;
        state.missingTo = state.replayUpTo;
        finishReplay(room, state);
        return;
    }
    for (const protocol::Message& message : result.messages) {
        if (message.seq != state.replayNext + 1 && !state.missingFrom) {
            // Not retained any more (retention, issue 4): report the hole, send the rest.
            state.missingFrom = state.replayNext + 1;
            state.missingTo = message.seq - 1;
        }
        send(message);
        state.replayNext = message.seq;
    }
    if (!result.hasMore || result.messages.empty() || state.replayNext >= state.replayUpTo) {
        if (state.replayNext < state.replayUpTo && !state.missingFrom) {
            state.missingFrom = state.replayNext + 1;
            state.missingTo = state.replayUpTo;
        }
        finishReplay(room, state);
        return;
    }
    requestReplayChunk(room, state);
}

void Session::finishReplay(const std::string& room, RoomState& state)
{
    protocol::Recovered recovered;
    recovered.room = room;
    recovered.cursor = protocol::Cursor { state.epoch, state.replayUpTo };
    recovered.recovered = state.missingFrom == 0;
    recovered.missingFrom = state.missingFrom;
    recovered.missingTo = state.missingTo;
    send(recovered);
    state.phase = Phase::Joined;
    qCDebug(lcSession, "event=replay_done session=%llu held=%zu", (unsigned long long)m_id,
        state.held.size());
    auto held = std::move(state.held);
    state.held.clear();
    for (const auto& [seq, frame] : held) {
        if (seq == 0 || seq > state.replayUpTo) {
            sendFrame(frame);
        }
    }
}

void Session::deliverLive(const std::string& room, std::uint64_t seq, const TextFrame& frame)
{
    if (m_state == State::Closing) {
        return;
    }
    const auto it = m_rooms.find(room);
    if (it == m_rooms.end()) {
        return;
    }
    if (it->second.phase == Phase::Replaying) {
        if (it->second.held.size() >= kMaxHeldFrames) {
            close(CloseCode::SlowConsumer);
            return;
        }
        it->second.held.emplace_back(seq, frame);
        return;
    }
    if (isSlowConsumer()) {
        close(CloseCode::SlowConsumer);
        return;
    }
    sendFrame(frame);
}

// --- output ------------------------------------------------------------------------------------

bool Session::isSlowConsumer() const
{
    return m_sink->pendingBytes() > qint64(m_io.context().config.maxOutboundBytes);
}

void Session::send(const protocol::ServerFrame& frame)
{
    sendFrame(TextFrame::fromUtf8(protocol::encode(frame)));
}

void Session::sendFrame(const TextFrame& frame)
{
    m_sink->send(frame);
}

void Session::sendError(const std::string& id, protocol::ErrorCode code, std::string message,
    const std::string& clientId)
{
    protocol::Error error;
    error.id = id;
    error.code = code;
    error.message = std::move(message);
    error.clientId = clientId;
    send(error);
}

} // namespace parley::server
