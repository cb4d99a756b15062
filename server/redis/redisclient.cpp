#include "redisclient.h"

#include "redisconnection_p.h"

#include <QPointer>
#include <QThread>
#include <algorithm>
#include <chrono>
#include <utility>

namespace parley::server {

namespace {

std::int64_t nowMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

} // namespace

RedisClient::RedisClient(RedisEndpoint endpoint, QObject* parent)
    : RedisClient(std::move(endpoint), Options {}, parent)
{
}

RedisClient::RedisClient(RedisEndpoint endpoint, Options options, QObject* parent)
    : QObject(parent)
    , m_endpoint(std::move(endpoint))
    , m_options(options)
    , m_connection(new RedisConnection(this))
    , m_backoff(redisReconnectSchedule(options.reconnectInitialMs, options.reconnectMaxMs))
{
    m_options.maxInFlight = std::max(1, m_options.maxInFlight);
    m_options.commandTimeoutMs = std::max(1, m_options.commandTimeoutMs);
    m_reconnectTimer.setSingleShot(true);
    m_deadlineTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &RedisClient::connectNow);
    connect(&m_deadlineTimer, &QTimer::timeout, this, &RedisClient::onDeadlineTimer);
    connect(m_connection, &RedisConnection::opened, this, &RedisClient::onOpened);
    connect(m_connection, &RedisConnection::lost, this, &RedisClient::onLost);
    connect(m_connection, &RedisConnection::replyReceived, this, &RedisClient::onReply);
}

RedisClient::~RedisClient()
{
    // Callbacks still held are dropped uncalled (see the header); the connection (a child) closes
    // itself and detaches from hiredis, which may still be on the stack if we are deleted from a
    // callback.
    m_pending.clear();
    m_state = State::Stopped;
}

void RedisClient::start()
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (m_state != State::Stopped) {
        return;
    }
    connectNow();
}

void RedisClient::stop()
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (m_state == State::Stopped) {
        return;
    }
    const bool wasConnected = m_state == State::Connected;
    m_state = State::Stopped;
    m_reconnectTimer.stop();
    m_deadlineTimer.stop();
    m_connection->close();
    m_backoff.reset();
    QPointer<RedisClient> guard(this);
    failAll(std::exchange(m_pending, {}), RedisReply::ErrorKind::Closed,
        RedisReply::ErrorKind::Closed, QStringLiteral("redis client stopped"));
    if (guard && wasConnected) {
        emit disconnected();
    }
}

void RedisClient::command(QList<QByteArray> args, Callback callback)
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (args.isEmpty()) {
        failLater(std::move(callback), RedisReply::ErrorKind::Invalid, "empty redis command");
        return;
    }
    if (m_state != State::Connected) {
        failLater(std::move(callback), RedisReply::ErrorKind::Unavailable,
            "redis unavailable (not connected)");
        return;
    }
    if (int(m_pending.size()) >= m_options.maxInFlight) {
        failLater(std::move(callback), RedisReply::ErrorKind::Overloaded,
            "too many redis commands in flight");
        return;
    }
    if (!sendTracked(args, callback)) {
        failLater(std::move(callback), RedisReply::ErrorKind::Unavailable,
            "redis unavailable (link closing)");
    }
}

void RedisClient::connectNow()
{
    if (m_state == State::Connected || m_state == State::Connecting) {
        return;
    }
    m_state = State::Connecting;
    m_connection->open(m_endpoint.host, m_endpoint.port, m_options.connectTimeoutMs);
}

void RedisClient::onOpened()
{
    if (m_state != State::Connecting) {
        return;
    }
    // connected() promises a server that answers, not just an accepted TCP connection (a server
    // stuck in a long script or DEBUG SLEEP still accepts): the handshake command must be
    // answered within the command timeout. It is SELECT when a database is configured (so it is
    // selected before any caller's command: command() refuses while Connecting), PING otherwise.
    QList<QByteArray> handshake { QByteArrayLiteral("PING") };
    if (m_endpoint.database != 0) {
        handshake = { QByteArrayLiteral("SELECT"), QByteArray::number(m_endpoint.database) };
    }
    const bool sent
        = sendTracked(handshake, [this, name = handshake.first()](const RedisReply& reply) {
              if (reply.isError() && reply.errorKind() != RedisReply::ErrorKind::Server) {
                  return; // the link went down meanwhile; failLink() reports it
              }
              if (reply.isError()) {
                  failLink(QStringLiteral("redis handshake %1 failed: %2")
                               .arg(QString::fromUtf8(name), QString::fromUtf8(reply.bytes())),
                      false);
                  return;
              }
              becomeConnected();
          });
    if (!sent) {
        failLink(QStringLiteral("cannot send the redis handshake"), false);
    }
}

void RedisClient::becomeConnected()
{
    m_state = State::Connected;
    m_backoff.reset();
    emit connected();
}

void RedisClient::onLost(const QString& reason)
{
    if (m_state == State::Stopped || m_state == State::WaitingToReconnect) {
        return;
    }
    failLink(reason, false);
}

void RedisClient::onReply(const RedisReply& reply)
{
    if (m_pending.empty()) {
        // Cannot happen with a healthy hiredis (one reply per command); a reply we cannot match
        // means the stream is out of step, which would misroute every later reply.
        failLink(QStringLiteral("unexpected redis reply %1").arg(reply.toString()), false);
        return;
    }
    Pending pending = std::move(m_pending.front());
    m_pending.pop_front();
    // The deadline timer is not re-armed here (one reply at a time would restart it thousands of
    // times a second under load): onDeadlineTimer() looks at whatever is oldest when it fires.
    // Nothing touches `this` after the callback: it may stop or delete the client.
    if (pending.callback) {
        pending.callback(reply);
    }
}

bool RedisClient::sendTracked(const QList<QByteArray>& args, Callback callback)
{
    if (!m_connection->send(args)) {
        return false;
    }
    m_pending.push_back(Pending { nowMs() + m_options.commandTimeoutMs, std::move(callback) });
    armDeadlineTimer();
    return true;
}

void RedisClient::armDeadlineTimer()
{
    if (m_deadlineTimer.isActive() || m_pending.empty()) {
        return;
    }
    const std::int64_t remaining
        = std::max<std::int64_t>(0, m_pending.front().deadlineMs - nowMs());
    m_deadlineTimer.start(int(remaining));
}

void RedisClient::onDeadlineTimer()
{
    if (m_pending.empty()) {
        return;
    }
    // Same timeout for every command, so the deadlines are in issue order: only the oldest counts.
    if (m_pending.front().deadlineMs > nowMs()) {
        armDeadlineTimer();
        return;
    }
    failLink(QStringLiteral("redis command timed out after %1 ms").arg(m_options.commandTimeoutMs),
        true);
}

void RedisClient::failLink(const QString& reason, bool timedOut)
{
    const bool wasConnected = m_state == State::Connected;
    m_connection->close();
    m_deadlineTimer.stop();
    m_state = State::WaitingToReconnect;
    m_reconnectTimer.start(m_backoff.next());

    // Callbacks may issue commands (they fail fast: we are no longer connected), stop the client
    // or delete it; the queue is ours alone by now, so every callback still runs exactly once.
    QPointer<RedisClient> guard(this);
    std::deque<Pending> pending = std::exchange(m_pending, {});
    failAll(std::move(pending),
        timedOut ? RedisReply::ErrorKind::Timeout : RedisReply::ErrorKind::ConnectionLost,
        RedisReply::ErrorKind::ConnectionLost, reason);
    if (!guard) {
        return;
    }
    emit errorOccurred(reason);
    // Emitted even if a callback stopped the client meanwhile: stop() saw no connected link.
    if (guard && wasConnected) {
        emit disconnected();
    }
}

void RedisClient::failAll(std::deque<Pending> pending, RedisReply::ErrorKind firstKind,
    RedisReply::ErrorKind restKind, const QString& message)
{
    const QByteArray text = message.toUtf8();
    bool first = true;
    for (Pending& entry : pending) {
        const RedisReply failure = RedisReply::fromError(text, first ? firstKind : restKind);
        first = false;
        if (entry.callback) {
            entry.callback(failure);
        }
    }
}

void RedisClient::failLater(Callback callback, RedisReply::ErrorKind kind, const char* message)
{
    if (!callback) {
        return;
    }
    QMetaObject::invokeMethod(
        this,
        [callback = std::move(callback),
            failure = RedisReply::fromError(QByteArray(message), kind)] { callback(failure); },
        Qt::QueuedConnection);
}

} // namespace parley::server
