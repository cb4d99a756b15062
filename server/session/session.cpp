#include "session.h"

#include "app/servercontext.h"
#include "auth/authenticator.h"
#include "broker/broker.h"
#include "caps/caps.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/loglimiter.h"
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
    static LogLimiter limiter("session_open"); // a connection flood is not a log flood
    if (const auto suppressed = limiter.admit(m_lastSeenMs)) {
        qCInfo(lcSession, "event=session_open session=%llu thread=%d peer=%s%s",
            (unsigned long long)m_id, io.index(), qPrintable(m_sink->peer()),
            LogLimiter::suffix(*suppressed));
    }
}

Session::~Session() = default;

void Session::close(CloseCode code)
{
    if (m_state == State::Closing) {
        return;
    }
    static LogLimiter limiter("session_close");
    if (const auto suppressed = limiter.admit()) {
        qCInfo(lcSession, "event=session_close session=%llu code=%d reason=\"%s\"%s",
            (unsigned long long)m_id, int(code), closeReason(code),
            LogLimiter::suffix(*suppressed));
    }
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
    m_userSlot.reset();
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
        // A hello that reached the kernel but not us (a busy thread) is not late: read first.
        m_sink->readPending();
        if (m_state == State::AwaitingHello) {
            close(CloseCode::HelloTimeout);
        }
        return;
    }
    if (nowMs - m_lastSeenMs > 2 * std::int64_t(m_io.context().config.heartbeatMs)) {
        close(CloseCode::HeartbeatTimeout);
        return;
    }
    refreshPresence(nowMs);
}

// --- input and request order -------------------------------------------------------------------

namespace {

// The room a frame is about, if any: frames for a room take effect in order with its join.
const std::string* roomOf(const protocol::ClientFrame& frame)
{
    if (const auto* join = std::get_if<protocol::Join>(&frame)) {
        return &join->room;
    }
    if (const auto* leave = std::get_if<protocol::Leave>(&frame)) {
        return &leave->room;
    }
    if (const auto* send = std::get_if<protocol::Send>(&frame)) {
        return &send->room;
    }
    if (const auto* history = std::get_if<protocol::HistoryRequest>(&frame)) {
        return &history->room;
    }
    return nullptr;
}

// The client_id an error answering `frame` names (a send's or a direct's message).
std::string clientIdOf(const protocol::ClientFrame& frame)
{
    if (const auto* send = std::get_if<protocol::Send>(&frame)) {
        return send->clientId;
    }
    if (const auto* direct = std::get_if<protocol::Direct>(&frame)) {
        return direct->clientId;
    }
    return {};
}

std::string idOf(const protocol::ClientFrame& frame)
{
    return std::visit([](const auto& f) { return f.id; }, frame);
}

// A join or a history starts only once every earlier request is answered: its answer then goes
// out the moment it is ready (a `joined` before any live message of the room; a history page
// never held back), and a history sees every send the client made before it.
bool startsAtHead(const RequestOrder::Waiting& request)
{
    return !request.rateLimited
        && (std::holds_alternative<protocol::Join>(request.frame)
            || std::holds_alternative<protocol::HistoryRequest>(request.frame));
}

} // namespace

void Session::receiveBinary()
{
    if (m_state == State::Closing) {
        return;
    }
    m_lastSeenMs = monotonicMs();
    // Not a request: the session ends with it, whatever is still unanswered.
    pushError(protocol::ErrorCode::BadFrame, "binary frames are not part of the protocol");
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
    Turn turn(*this);
    const std::int64_t now = monotonicMs();
    m_lastSeenMs = now;
    const ServerContext& context = m_io.context();
    auto decoded = protocol::decodeClientFrame(
        std::string_view(text.data(), std::size_t(text.size())), context.decodeLimits);
    const bool rateLimited = !m_rate.tryTake(context.config.rateLimit, now);
    const Ticket ticket = m_order.open();
    if (!decoded) {
        // Nothing to start: the answer is the error, in its turn.
        const protocol::DecodeError& error = decoded.error();
        if (rateLimited) {
            replyError(ticket, error.id, protocol::ErrorCode::RateLimited,
                "too many frames per second", error.clientId);
            return;
        }
        replyError(ticket, error.id, error.code, error.message, error.clientId);
        if (m_state == State::AwaitingHello && error.code == protocol::ErrorCode::Unauthorized) {
            close(CloseCode::Unauthorized);
        }
        return;
    }
    admit(Request { ticket, std::move(decoded).value(), rateLimited, std::size_t(text.size()) });
}

void Session::admit(Request request)
{
    const std::string* room = roomOf(request.frame);
    if (!room || m_state != State::Welcomed || !mustWait(*room, request)) {
        dispatch(std::move(request));
        return;
    }
    const std::string name = *room; // `room` points into the request, which moves
    const ServerContext& context = m_io.context();
    const std::size_t maxBytes
        = std::max<std::size_t>(kMinWaitingBytes, 4 * std::size_t(context.config.maxFrameBytes));
    if (!m_order.wait(name, std::move(request), maxBytes)) {
        static LogLimiter limiter("waiting_overflow");
        if (const auto suppressed = limiter.admit()) {
            qCInfo(lcSession, "event=waiting_overflow session=%llu room=%s%s",
                (unsigned long long)m_id, name.c_str(), LogLimiter::suffix(*suppressed));
        }
        close(CloseCode::SlowConsumer);
    }
}

bool Session::mustWait(const std::string& room, const Request& request)
{
    if (m_order.hasWaiting(room)) {
        return true; // behind earlier frames for the room
    }
    if (const auto it = m_rooms.find(room); it != m_rooms.end() && it->second.joinInFlight) {
        return true; // woken by the join's answer
    }
    if (startsAtHead(request) && !m_order.isHead(request.ticket)) {
        m_order.waitForHead(room, request.ticket);
        return true;
    }
    return false;
}

void Session::drainRoom(const std::string& room)
{
    while (m_state != State::Closing) {
        const Request* front = m_order.front(room);
        if (!front) {
            return;
        }
        if (const auto it = m_rooms.find(room); it != m_rooms.end() && it->second.joinInFlight) {
            return;
        }
        if (startsAtHead(*front) && !m_order.isHead(front->ticket)) {
            m_order.waitForHead(room, front->ticket);
            return;
        }
        dispatch(m_order.take(room));
    }
}

void Session::pump()
{
    // Frames started here answer (and may free more frames) inside this loop, not recursively.
    ++m_depth;
    while (m_state != State::Closing) {
        const std::optional<std::string> room = m_order.takeRunnable();
        if (!room) {
            break;
        }
        drainRoom(*room);
    }
    --m_depth;
}

void Session::dispatch(Request request)
{
    const Ticket ticket = request.ticket;
    const protocol::ClientFrame& frame = request.frame;
    if (request.rateLimited) {
        if (const auto* send = std::get_if<protocol::Send>(&frame);
            send && m_state == State::Welcomed) {
            refuseSend(
                ticket, *send, protocol::ErrorCode::RateLimited, "too many frames per second");
            return;
        }
        replyError(ticket, idOf(frame), protocol::ErrorCode::RateLimited,
            "too many frames per second", clientIdOf(frame));
        return;
    }
    if (m_state == State::AwaitingHello && !std::holds_alternative<protocol::Hello>(frame)) {
        replyError(ticket, idOf(frame), protocol::ErrorCode::HelloRequired, "send hello first",
            clientIdOf(frame));
        return;
    }
    std::visit([this, ticket](const auto& f) { handle(ticket, f); }, frame);
}

// --- requests ----------------------------------------------------------------------------------

void Session::handle(Ticket ticket, const protocol::Hello& hello)
{
    if (m_state != State::AwaitingHello) {
        replyError(ticket, hello.id, protocol::ErrorCode::AlreadyWelcomed,
            "this session already said hello");
        return;
    }
    const ServerContext& context = m_io.context();
    if (!context.auth->check(hello.user, hello.token)) {
        qCInfo(lcSession, "event=auth_failed session=%llu user=%s", (unsigned long long)m_id,
            hello.user.c_str());
        replyError(ticket, hello.id, protocol::ErrorCode::Unauthorized, "bad user name or token");
        close(CloseCode::Unauthorized);
        return;
    }
    // --max-sessions-per-user (caps/usersessioncaps.h): the place is held until the session
    // ends (detach(), or the destructor).
    std::optional<CapSlot> place = context.caps->users.tryAcquire(hello.user);
    if (!place) {
        static LogLimiter limiter("session_refused");
        if (const auto suppressed = limiter.admit()) {
            qCInfo(lcSession, "event=session_refused reason=max_sessions_per_user session=%llu "
                              "user=%s max=%u%s",
                (unsigned long long)m_id, hello.user.c_str(), context.caps->users.maxPerUser(),
                LogLimiter::suffix(*suppressed));
        }
        replyError(ticket, hello.id, protocol::ErrorCode::Overloaded,
            "too many sessions for this user (at most " + std::to_string(context.caps->users.maxPerUser())
                + " on this node); retry after " + std::to_string(ConnectionCaps::kRetryAfterS) + " s");
        close(CloseCode::TryAgainLater);
        return;
    }
    m_userSlot = std::move(*place);
    m_user = hello.user;
    m_state = State::Welcomed;
    protocol::Welcome welcome;
    welcome.id = hello.id;
    welcome.session = randomHex(8);
    welcome.node = context.nodeId;
    welcome.user = m_user;
    welcome.heartbeatMs = context.config.heartbeatMs;
    welcome.limits = context.limits;
    reply(ticket, welcome);
    reportAlive(monotonicMs());
    qCInfo(lcSession, "event=welcome session=%llu user=%s resume=%zu", (unsigned long long)m_id,
        m_user.c_str(), hello.resume.size());
    for (const protocol::ResumeCursor& cursor : hello.resume) {
        if (m_rooms.contains(cursor.room)) {
            continue; // the same room twice: the first cursor wins
        }
        if (m_rooms.size() >= context.config.maxRooms) {
            pushError(protocol::ErrorCode::TooManyRooms,
                "resume: cannot rejoin " + cursor.room + ", max_rooms reached");
            continue;
        }
        startJoin(cursor.room, {}, cursor.cursor, std::nullopt);
    }
}

void Session::handle(Ticket ticket, const protocol::Join& join)
{
    const auto it = m_rooms.find(join.room);
    if (it == m_rooms.end() && m_rooms.size() >= m_io.context().config.maxRooms) {
        replyError(ticket, join.id, protocol::ErrorCode::TooManyRooms,
            "join: already in " + std::to_string(m_rooms.size()) + " rooms");
        return;
    }
    if (it != m_rooms.end()) {
        // Idempotent: the hub answers again with the room's current position.
        it->second.joinInFlight = true;
        it->second.joinIsRequest = true;
        it->second.joinTicket = ticket;
        m_io.context().hub->join(&m_io, m_id, m_user, join.room, join.id);
        return;
    }
    startJoin(join.room, join.id, std::nullopt, ticket);
}

void Session::startJoin(const std::string& room, const std::string& requestId,
    std::optional<protocol::Cursor> resume, std::optional<Ticket> ticket)
{
    RoomState& state = m_rooms[room];
    state.phase = Phase::Joining;
    state.joinInFlight = true;
    state.joinIsRequest = ticket.has_value();
    state.joinTicket = ticket.value_or(0);
    state.resume = std::move(resume);
    m_io.context().hub->join(&m_io, m_id, m_user, room, requestId);
}

void Session::handle(Ticket ticket, const protocol::Leave& leave)
{
    const auto it = m_rooms.find(leave.room);
    if (it == m_rooms.end()) {
        replyError(
            ticket, leave.id, protocol::ErrorCode::NotJoined, "leave: not in room " + leave.room);
        return;
    }
    if (it->second.phase != Phase::Joining) {
        m_io.removeRoomMember(leave.room, this);
    }
    m_rooms.erase(it);
    m_io.context().hub->leave(&m_io, m_id, m_user, leave.room);
    reply(ticket, protocol::Left { leave.id, leave.room });
    reportAlive(monotonicMs());
}

void Session::handle(Ticket ticket, const protocol::Send& request)
{
    const auto it = m_rooms.find(request.room);
    if (it == m_rooms.end()) {
        replyError(ticket, request.id, protocol::ErrorCode::NotJoined,
            "send: not in room " + request.room, request.clientId);
        return;
    }
    if (it->second.barrier) {
        if (!it->second.barrier->isLiftedBy(request.clientId, monotonicMs())) {
            refuseSend(ticket, request, it->second.barrier->code(),
                "send: an earlier send to this room was refused; resend in order");
            return;
        }
        it->second.barrier.reset();
    }
    const ServerContext& context = m_io.context();
    // The codec checks these too; kept here so the server's limits never depend on a codec
    // default.
    if (request.body.empty()) {
        replyError(ticket, request.id, protocol::ErrorCode::EmptyBody, "send: empty body",
            request.clientId);
        return;
    }
    if (request.body.size() > context.config.maxBodyBytes) {
        replyError(ticket, request.id, protocol::ErrorCode::BodyTooLarge,
            "send: body exceeds " + std::to_string(context.config.maxBodyBytes) + " bytes",
            request.clientId);
        return;
    }
    if (!context.broker->tryReserve()) {
        refuseSend(
            ticket, request, protocol::ErrorCode::Overloaded, "send: storage queue full, retry");
        return;
    }
    IoThread* io = &m_io;
    const std::uint64_t id = m_id;
    context.broker->append(AppendRequest { request.room, m_user, request.clientId, request.body },
        [io, id, ticket, room = request.room, requestId = request.id, clientId = request.clientId](
            const StorageWorker::AppendReply& reply) {
            io->runOnSession(id, [ticket, room, requestId, clientId, reply](Session& session) {
                session.onAppended(ticket, room, requestId, clientId, reply);
            });
        });
}

void Session::refuseSend(
    Ticket ticket, const protocol::Send& request, protocol::ErrorCode code, std::string message)
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
    replyError(ticket, request.id, code, std::move(message), request.clientId);
}

void Session::onAppended(Ticket ticket, const std::string& room, const std::string& requestId,
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
        // The cause goes to the client: the SDK reports the last one if its resends run out.
        refuseSend(ticket, refused, protocol::ErrorCode::Unavailable,
            "send: storage failed: " + reply.error);
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
    this->reply(ticket, ack);
}

void Session::handle(Ticket ticket, const protocol::Heartbeat& heartbeat)
{
    reply(ticket, protocol::HeartbeatAck { heartbeat.id, wallClockMs() });
}

void Session::handle(Ticket ticket, const protocol::HistoryRequest& request)
{
    const auto it = m_rooms.find(request.room);
    if (it == m_rooms.end()) {
        replyError(ticket, request.id, protocol::ErrorCode::NotJoined,
            "history: not in room " + request.room);
        return;
    }
    const ServerContext& context = m_io.context();
    if (!context.broker->tryReserve()) {
        replyError(ticket, request.id, protocol::ErrorCode::Overloaded,
            "history: storage queue full, retry");
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
        [io, id, ticket, requestId = request.id, room = request.room](const HistoryResult& result) {
            io->runOnSession(id, [ticket, requestId, room, result](Session& session) {
                session.onHistory(ticket, requestId, room, result);
            });
        });
}

void Session::onHistory(Ticket ticket, const std::string& requestId, const std::string& room,
    const HistoryResult& result)
{
    if (m_state == State::Closing) {
        return;
    }
    if (!result.ok) {
        replyError(
            ticket, requestId, protocol::ErrorCode::Unavailable, "history: storage failed, retry");
        return;
    }
    protocol::HistoryPage page;
    page.id = requestId;
    page.room = room;
    page.epoch = result.position.epoch;
    page.messages = result.messages;
    page.hasMore = result.hasMore;
    reply(ticket, page);
}

// --- output ------------------------------------------------------------------------------------

bool Session::isSlowConsumer() const
{
    return m_sink->pendingBytes() > qint64(m_io.context().config.maxOutboundBytes);
}

void Session::reply(Ticket ticket, const protocol::ServerFrame& frame)
{
    if (m_state == State::Closing) {
        return;
    }
    Turn turn(*this); // an answer may free frames waiting for it
    m_order.answer(ticket, TextFrame::fromUtf8(protocol::encode(frame)),
        [this](const TextFrame& answer) { sendFrame(answer); });
    // Answers held back for order are replies queued to the client like those in the sink:
    // together they get the sink's bound for replies, twice maxOutboundBytes.
    const std::size_t held = m_order.heldBytes();
    if (held != 0
        && qint64(held) + m_sink->pendingBytes()
            > 2 * qint64(m_io.context().config.maxOutboundBytes)) {
        close(CloseCode::SlowConsumer);
    }
}

void Session::replyError(Ticket ticket, const std::string& id, protocol::ErrorCode code,
    std::string message, const std::string& clientId)
{
    protocol::Error error;
    error.id = id;
    error.code = code;
    error.message = std::move(message);
    error.clientId = clientId;
    reply(ticket, error);
}

void Session::push(const protocol::ServerFrame& frame)
{
    sendFrame(TextFrame::fromUtf8(protocol::encode(frame)));
}

void Session::pushError(protocol::ErrorCode code, std::string message)
{
    protocol::Error error;
    error.code = code;
    error.message = std::move(message);
    push(error);
}

void Session::sendFrame(const TextFrame& frame)
{
    m_sink->send(frame);
}

} // namespace parley::server
