#include "redisconnection_p.h"

#include <QHostAddress>
#include <QHostInfo>
#include <QPointer>
#include <QSocketNotifier>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <utility>
#include <vector>

namespace parley::server {

namespace {

RedisReply convertReply(const redisReply* reply)
{
    switch (reply->type) {
    case REDIS_REPLY_STATUS:
        return RedisReply::fromStatus(QByteArray(reply->str, qsizetype(reply->len)));
    case REDIS_REPLY_ERROR:
        return RedisReply::fromError(QByteArray(reply->str, qsizetype(reply->len)));
    case REDIS_REPLY_INTEGER:
        return RedisReply::fromInteger(reply->integer);
    case REDIS_REPLY_STRING:
        return RedisReply::fromString(QByteArray(reply->str, qsizetype(reply->len)));
    case REDIS_REPLY_ARRAY: {
        std::vector<RedisReply> elements;
        elements.reserve(reply->elements);
        for (size_t i = 0; i < reply->elements; ++i) {
            elements.push_back(convertReply(reply->element[i]));
        }
        return RedisReply::fromArray(std::move(elements));
    }
    case REDIS_REPLY_NIL:
    default:
        return RedisReply::nil();
    }
}

RedisConnection* connectionOf(void* privdata)
{
    return static_cast<RedisConnection*>(privdata);
}

} // namespace

void RedisConnection::NotifierDeleter::operator()(QSocketNotifier* notifier) const
{
    // Disabled at once (the fd is about to be closed by hiredis), deleted later (we may be inside
    // its activated() signal), and cut off so that no stray activation reaches a newer link.
    notifier->setEnabled(false);
    QObject::disconnect(notifier, nullptr, nullptr, nullptr);
    notifier->deleteLater();
}

RedisConnection::RedisConnection(QObject* parent)
    : QObject(parent)
{
    m_connectTimer.setSingleShot(true);
    connect(&m_connectTimer, &QTimer::timeout, this, &RedisConnection::onConnectTimeout);
}

RedisConnection::~RedisConnection()
{
    close();
}

void RedisConnection::open(const QString& host, quint16 port, int connectTimeoutMs)
{
    close();
    m_host = host;
    m_port = port;
    m_connectTimer.start(std::max(1, connectTimeoutMs));

    const QHostAddress literal(host);
    if (!literal.isNull()) {
        connectTo(literal.toString());
        return;
    }
    m_state = State::Resolving;
    m_lookupId = QHostInfo::lookupHost(host, this, &RedisConnection::onHostLookedUp);
}

void RedisConnection::close()
{
    ++m_generation;
    m_connectTimer.stop();
    m_openedPending = false;
    m_lostPending = false;
    m_lostReason.clear();
    if (m_lookupId >= 0) {
        QHostInfo::abortHostLookup(m_lookupId);
        m_lookupId = -1;
    }
    if (m_context) {
        redisAsyncContext* context = m_context;
        detach();
        // Immediate, or deferred by hiredis until the reply callback on the stack returns. Either
        // way every hook is detached: pending callbacks and the cleanup hook no longer reach us.
        redisAsyncFree(context);
    }
    m_state = State::Idle;
}

bool RedisConnection::send(const QList<QByteArray>& args)
{
    if (m_state != State::Open || !m_context || args.isEmpty()) {
        return false;
    }
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    argv.reserve(size_t(args.size()));
    lengths.reserve(size_t(args.size()));
    for (const QByteArray& arg : args) {
        argv.push_back(arg.constData());
        lengths.push_back(size_t(arg.size()));
    }
    return redisAsyncCommandArgv(m_context, &RedisConnection::onHiredisReply, nullptr,
               int(argv.size()), argv.data(), lengths.data())
        == REDIS_OK;
}

void RedisConnection::onHostLookedUp(const QHostInfo& info)
{
    if (m_state != State::Resolving || info.lookupId() != m_lookupId) {
        return;
    }
    m_lookupId = -1;
    const QList<QHostAddress> addresses = info.addresses();
    if (info.error() != QHostInfo::NoError || addresses.isEmpty()) {
        m_state = State::Idle;
        m_connectTimer.stop();
        emit lost(QStringLiteral("cannot resolve %1: %2").arg(m_host, info.errorString()));
        return;
    }
    // One address only (IPv4 preferred: Redis binds 127.0.0.1 by default); the next attempt after
    // a failure resolves again.
    QHostAddress chosen = addresses.first();
    for (const QHostAddress& address : addresses) {
        if (address.protocol() == QAbstractSocket::IPv4Protocol) {
            chosen = address;
            break;
        }
    }
    connectTo(chosen.toString());
}

void RedisConnection::connectTo(const QString& address)
{
    m_state = State::Connecting;
    // With an IP literal this returns at once: non-blocking socket, connect() in progress.
    redisAsyncContext* context = redisAsyncConnect(address.toUtf8().constData(), m_port);
    if (!context) {
        failSoon(QStringLiteral("cannot allocate a hiredis context"));
        return;
    }
    if (context->err) {
        const QString reason = QStringLiteral("cannot connect to %1:%2: %3")
                                   .arg(m_host)
                                   .arg(m_port)
                                   .arg(QString::fromLocal8Bit(context->errstr));
        redisAsyncFree(context);
        failSoon(reason);
        return;
    }
    m_context = context;
    context->data = this;
    context->ev.data = this;
    context->ev.addRead = &RedisConnection::hookAddRead;
    context->ev.delRead = &RedisConnection::hookDelRead;
    context->ev.addWrite = &RedisConnection::hookAddWrite;
    context->ev.delWrite = &RedisConnection::hookDelWrite;
    context->ev.cleanup = &RedisConnection::hookCleanup;

    m_readNotifier.reset(new QSocketNotifier(context->c.fd, QSocketNotifier::Read));
    m_readNotifier->setEnabled(false);
    connect(m_readNotifier.get(), &QSocketNotifier::activated, this, [this] { onReadable(); });
    m_writeNotifier.reset(new QSocketNotifier(context->c.fd, QSocketNotifier::Write));
    m_writeNotifier->setEnabled(false);
    connect(m_writeNotifier.get(), &QSocketNotifier::activated, this, [this] { onWritable(); });

    // Keepalive probes find a silently dead peer (network cut) on an idle link; a non-blocking
    // setsockopt. Failure only loses that extra detection, so the result is not checked.
    redisEnableKeepAlive(&context->c);
    // hiredis detects the end of connect() with the first write event: this arms addWrite.
    redisAsyncSetConnectCallback(context, &RedisConnection::onHiredisConnect);
}

void RedisConnection::onReadable()
{
    if (!m_context) {
        return;
    }
    QPointer<RedisConnection> guard(this);
    redisAsyncHandleRead(m_context);
    if (guard) {
        deliverDeferredEvents();
    }
}

void RedisConnection::onWritable()
{
    if (!m_context) {
        return;
    }
    QPointer<RedisConnection> guard(this);
    redisAsyncHandleWrite(m_context);
    if (guard) {
        deliverDeferredEvents();
    }
}

void RedisConnection::onConnectTimeout()
{
    if (m_state != State::Resolving && m_state != State::Connecting) {
        return;
    }
    const QString reason = QStringLiteral("connecting to %1:%2 timed out after %3 ms")
                               .arg(m_host)
                               .arg(m_port)
                               .arg(m_connectTimer.interval());
    close();
    emit lost(reason);
}

void RedisConnection::deliverDeferredEvents()
{
    if (m_lostPending) {
        // Opened and broken within one hiredis call: report only the loss.
        m_openedPending = false;
        m_lostPending = false;
        m_connectTimer.stop();
        emit lost(std::exchange(m_lostReason, {}));
        return;
    }
    if (m_openedPending) {
        m_openedPending = false;
        m_connectTimer.stop();
        emit opened();
    }
}

void RedisConnection::detach()
{
    m_context->data = nullptr;
    m_context->ev.data = nullptr;
    m_readNotifier.reset();
    m_writeNotifier.reset();
    m_context = nullptr;
}

void RedisConnection::failSoon(const QString& reason)
{
    m_state = State::Idle;
    m_connectTimer.stop();
    // Queued: open() never emits from inside itself.
    QMetaObject::invokeMethod(
        this,
        [this, generation = m_generation, reason] {
            if (generation == m_generation) {
                emit lost(reason);
            }
        },
        Qt::QueuedConnection);
}

void RedisConnection::hookAddRead(void* privdata)
{
    if (RedisConnection* self = connectionOf(privdata); self && self->m_readNotifier) {
        self->m_readNotifier->setEnabled(true);
    }
}

void RedisConnection::hookDelRead(void* privdata)
{
    if (RedisConnection* self = connectionOf(privdata); self && self->m_readNotifier) {
        self->m_readNotifier->setEnabled(false);
    }
}

void RedisConnection::hookAddWrite(void* privdata)
{
    if (RedisConnection* self = connectionOf(privdata); self && self->m_writeNotifier) {
        self->m_writeNotifier->setEnabled(true);
    }
}

void RedisConnection::hookDelWrite(void* privdata)
{
    if (RedisConnection* self = connectionOf(privdata); self && self->m_writeNotifier) {
        self->m_writeNotifier->setEnabled(false);
    }
}

void RedisConnection::hookCleanup(void* privdata)
{
    // Only reached while still attached, i.e. when hiredis itself tears the link down (connect
    // failure, read/write error, EOF) from inside redisAsyncHandleRead/Write. close() detaches
    // first, so its own free never lands here.
    RedisConnection* self = connectionOf(privdata);
    if (!self || !self->m_context) {
        return;
    }
    const redisContext& context = self->m_context->c;
    const QString detail = context.err ? QString::fromLocal8Bit(context.errstr)
                                       : QStringLiteral("connection closed");
    const bool wasOpen = self->m_state == State::Open;
    self->m_lostReason = wasOpen ? QStringLiteral("redis link to %1:%2 lost: %3")
                                       .arg(self->m_host)
                                       .arg(self->m_port)
                                       .arg(detail)
                                 : QStringLiteral("cannot connect to %1:%2: %3")
                                       .arg(self->m_host)
                                       .arg(self->m_port)
                                       .arg(detail);
    self->m_lostPending = true;
    self->detach();
    self->m_state = State::Idle;
}

void RedisConnection::onHiredisConnect(const redisAsyncContext* context, int status)
{
    // No signal here: hiredis continues with the context after this returns (and frees it on
    // failure), so the receivers must not run yet. The cleanup hook reports failures.
    RedisConnection* self = connectionOf(context->data);
    if (self && status == REDIS_OK) {
        self->m_state = State::Open;
        self->m_openedPending = true;
    }
}

void RedisConnection::onHiredisReply(redisAsyncContext* context, void* reply, void* /*privdata*/)
{
    // A null reply means the context is being freed: pending commands are failed by the owner,
    // which knows which ones they were, so nothing is done here. A detached context (no data)
    // belongs to a closed connection.
    RedisConnection* self = connectionOf(context->data);
    if (!self || !reply) {
        return;
    }
    emit self->replyReceived(convertReply(static_cast<const redisReply*>(reply)));
}

} // namespace parley::server
