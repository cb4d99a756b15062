#include "redissubscriber.h"

#include "redisconnection_p.h"

#include <QPointer>
#include <QThread>
#include <QUuid>
#include <algorithm>
#include <chrono>
#include <utility>

namespace parley::server {

namespace {

// Channels per SUBSCRIBE command when resubscribing many: keeps each command (and the burst of
// confirmations it causes) small.
constexpr qsizetype kBatchSize = 512;

std::int64_t nowMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

} // namespace

RedisSubscriber::RedisSubscriber(RedisEndpoint endpoint, QObject* parent)
    : RedisSubscriber(std::move(endpoint), Options {}, parent)
{
}

RedisSubscriber::RedisSubscriber(RedisEndpoint endpoint, Options options, QObject* parent)
    : QObject(parent)
    , m_endpoint(std::move(endpoint))
    , m_options(options)
    , m_connection(new RedisConnection(this))
    , m_backoff(redisReconnectSchedule(options.reconnectInitialMs, options.reconnectMaxMs))
    , m_healthChannel(QByteArrayLiteral("__parley:redis-health:")
          + QUuid::createUuid().toByteArray(QUuid::WithoutBraces))
{
    m_options.confirmTimeoutMs = std::max(1, m_options.confirmTimeoutMs);
    m_reconnectTimer.setSingleShot(true);
    m_deadlineTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &RedisSubscriber::connectNow);
    connect(&m_deadlineTimer, &QTimer::timeout, this, &RedisSubscriber::onDeadlineTimer);
    connect(&m_healthTimer, &QTimer::timeout, this, &RedisSubscriber::onHealthTimer);
    connect(m_connection, &RedisConnection::opened, this, &RedisSubscriber::onOpened);
    connect(m_connection, &RedisConnection::lost, this, &RedisSubscriber::onLost);
    connect(m_connection, &RedisConnection::replyReceived, this, &RedisSubscriber::onReply);
}

RedisSubscriber::~RedisSubscriber() = default;

void RedisSubscriber::start()
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (m_state != State::Stopped) {
        return;
    }
    connectNow();
}

void RedisSubscriber::stop()
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (m_state == State::Stopped) {
        return;
    }
    const bool wasConnected = m_state == State::Connected;
    m_state = State::Stopped;
    m_connection->close();
    m_reconnectTimer.stop();
    m_deadlineTimer.stop();
    m_healthTimer.stop();
    m_expectations.clear();
    m_confirmedChannels.clear();
    m_confirmedPatterns.clear();
    m_backoff.reset();
    if (wasConnected) {
        emit disconnected();
    }
}

void RedisSubscriber::subscribe(const QByteArray& channel)
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (m_channels.contains(channel)) {
        return;
    }
    m_channels.insert(channel);
    if (m_state == State::Connected && !sendBatched(QByteArrayLiteral("SUBSCRIBE"), { channel })) {
        failLink(QStringLiteral("cannot send SUBSCRIBE"));
    }
}

void RedisSubscriber::unsubscribe(const QByteArray& channel)
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (!m_channels.remove(channel)) {
        return;
    }
    m_confirmedChannels.remove(channel);
    if (m_state == State::Connected
        && !sendBatched(QByteArrayLiteral("UNSUBSCRIBE"), { channel })) {
        failLink(QStringLiteral("cannot send UNSUBSCRIBE"));
    }
}

void RedisSubscriber::subscribePattern(const QByteArray& pattern)
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (m_patterns.contains(pattern)) {
        return;
    }
    m_patterns.insert(pattern);
    if (m_state == State::Connected && !sendBatched(QByteArrayLiteral("PSUBSCRIBE"), { pattern })) {
        failLink(QStringLiteral("cannot send PSUBSCRIBE"));
    }
}

void RedisSubscriber::unsubscribePattern(const QByteArray& pattern)
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (!m_patterns.remove(pattern)) {
        return;
    }
    m_confirmedPatterns.remove(pattern);
    if (m_state == State::Connected
        && !sendBatched(QByteArrayLiteral("PUNSUBSCRIBE"), { pattern })) {
        failLink(QStringLiteral("cannot send PUNSUBSCRIBE"));
    }
}

void RedisSubscriber::connectNow()
{
    if (m_state == State::Connected || m_state == State::Connecting) {
        return;
    }
    m_state = State::Connecting;
    m_connection->open(m_endpoint.host, m_endpoint.port, m_options.connectTimeoutMs);
}

void RedisSubscriber::onOpened()
{
    if (m_state != State::Connecting) {
        return;
    }
    m_state = State::Connected;
    m_backoff.reset();
    m_confirmedChannels.clear();
    m_confirmedPatterns.clear();
    m_expectations.clear();

    // The private health channel goes first: it keeps hiredis in subscribed mode even when the
    // caller's set is empty (hiredis 0.14.1 refuses UNSUBSCRIBE outside subscribed mode).
    QList<QByteArray> channels = m_channels.values();
    channels.prepend(m_healthChannel);
    bool sent = sendBatched(QByteArrayLiteral("SUBSCRIBE"), channels);
    if (sent && !m_patterns.isEmpty()) {
        sent = sendBatched(QByteArrayLiteral("PSUBSCRIBE"), m_patterns.values());
    }
    if (!sent) {
        failLink(QStringLiteral("cannot send SUBSCRIBE"));
        return;
    }
    if (m_options.healthCheckIntervalMs > 0) {
        m_healthTimer.start(m_options.healthCheckIntervalMs);
    }
    emit connected();
}

void RedisSubscriber::onLost(const QString& reason)
{
    if (m_state == State::Stopped || m_state == State::WaitingToReconnect) {
        return;
    }
    failLink(reason);
}

void RedisSubscriber::onReply(const RedisReply& reply)
{
    // Pub/Sub pushes are arrays: [kind, channel-or-pattern, ...].
    if (!reply.isArray() || reply.elements().size() < 3) {
        return;
    }
    const std::vector<RedisReply>& parts = reply.elements();
    const QByteArray kind = parts[0].bytes().toLower();
    const QByteArray& name = parts[1].bytes();

    if (kind == "message") {
        if (m_channels.contains(name)) {
            emit messageReceived(name, parts[2].bytes());
        }
        return;
    }
    if (kind == "pmessage") {
        if (parts.size() >= 4 && m_patterns.contains(name)) {
            emit patternMessageReceived(name, parts[2].bytes(), parts[3].bytes());
        }
        return;
    }
    if (kind == "subscribe") {
        confirmOne();
        if (name != m_healthChannel && m_channels.contains(name)
            && !m_confirmedChannels.contains(name)) {
            m_confirmedChannels.insert(name);
            emit subscribed(name);
        }
        return;
    }
    if (kind == "psubscribe") {
        confirmOne();
        if (m_patterns.contains(name) && !m_confirmedPatterns.contains(name)) {
            m_confirmedPatterns.insert(name);
            emit patternSubscribed(name);
        }
        return;
    }
    if (kind == "unsubscribe" || kind == "punsubscribe") {
        confirmOne();
    }
}

bool RedisSubscriber::sendBatched(const QByteArray& command, const QList<QByteArray>& names)
{
    for (qsizetype begin = 0; begin < names.size(); begin += kBatchSize) {
        const QList<QByteArray> batch = names.mid(begin, kBatchSize);
        QList<QByteArray> args;
        args.reserve(batch.size() + 1);
        args.append(command);
        args.append(batch);
        if (!m_connection->send(args)) {
            return false;
        }
        m_expectations.push_back(
            Expectation { int(batch.size()), nowMs() + m_options.confirmTimeoutMs });
    }
    if (!m_deadlineTimer.isActive() && !m_expectations.empty()) {
        m_deadlineTimer.start(
            int(std::max<std::int64_t>(0, m_expectations.front().deadlineMs - nowMs())));
    }
    return true;
}

void RedisSubscriber::confirmOne()
{
    // Redis confirms commands in order, one push per channel/pattern named.
    if (m_expectations.empty()) {
        return;
    }
    if (--m_expectations.front().remaining <= 0) {
        m_expectations.pop_front();
    }
}

void RedisSubscriber::onDeadlineTimer()
{
    if (m_expectations.empty()) {
        return;
    }
    const std::int64_t remaining = m_expectations.front().deadlineMs - nowMs();
    if (remaining > 0) {
        m_deadlineTimer.start(int(remaining));
        return;
    }
    failLink(QStringLiteral("redis subscription not confirmed within %1 ms")
                 .arg(m_options.confirmTimeoutMs));
}

void RedisSubscriber::onHealthTimer()
{
    if (m_state != State::Connected) {
        return;
    }
    // An unanswered probe fails the link at its confirmation deadline (normally well before the
    // next probe), so probes cannot pile up on a dead link for long.
    if (!sendBatched(QByteArrayLiteral("SUBSCRIBE"), { m_healthChannel })) {
        failLink(QStringLiteral("cannot send the health probe"));
    }
}

void RedisSubscriber::failLink(const QString& reason)
{
    const bool wasConnected = m_state == State::Connected;
    m_connection->close();
    m_deadlineTimer.stop();
    m_healthTimer.stop();
    m_expectations.clear();
    m_confirmedChannels.clear();
    m_confirmedPatterns.clear();
    m_state = State::WaitingToReconnect;
    m_reconnectTimer.start(m_backoff.next());

    QPointer<RedisSubscriber> guard(this);
    emit errorOccurred(reason);
    if (guard && wasConnected) {
        emit disconnected();
    }
}

} // namespace parley::server
