// Private to server/redis: one hiredis async connection driven by the Qt event loop.
//
// This is our adapter in place of hiredis's bundled adapters/qt.h (see
// ../../../shared/platform-notes.md): it fills in hiredis's event hooks with two
// QSocketNotifiers, adds what hiredis 0.14.1 does not have, and keeps hiredis's re-entrancy rules
// away from the classes above it.
//
// hiredis 0.14.1 (Debian 12) has NO timer hook at all: redisAsyncContext.ev offers only
// addRead/delRead/addWrite/delWrite/cleanup (no scheduleTimer) and there is no
// redisAsyncSetTimeout. So timeouts are ours: this class enforces the connect timeout (host lookup
// + TCP connect) with a QTimer, and RedisClient / RedisSubscriber enforce command and
// confirmation deadlines with one QTimer each over their FIFO of pending replies.
//
// Never blocking: host names are resolved with QHostInfo::lookupHost (a thread pool), so
// hiredis's connect only ever sees an IP literal and its getaddrinfo() returns at once; the
// socket is non-blocking and hiredis's sync API is never used.
//
// Re-entrancy contract (why signals are deferred): hiredis frees its context inside
// redisAsyncHandleRead/Write when the link breaks, and crashes if the context is freed from
// inside its connect/disconnect callbacks. So the hiredis-facing hooks only record what happened;
// opened() and lost() are emitted after hiredis has returned to us. replyReceived() is emitted
// from inside hiredis's reply processing: there, receivers may send more commands, close() the
// connection or even delete its owner (hiredis defers the free until the callback returns and
// every hook of a closed connection is detached first).
#pragma once

#include "redisreply.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>
#include <memory>

struct redisAsyncContext;
class QHostInfo;
class QSocketNotifier;

namespace parley::server {

class RedisConnection : public QObject {
    Q_OBJECT

public:
    enum class State { Idle, Resolving, Connecting, Open };

    explicit RedisConnection(QObject* parent = nullptr);
    //! close()s without emitting anything.
    ~RedisConnection() override;

    //! Starts one connection attempt (closing any current one). Emits opened() once the TCP
    //! connection is established, or lost() if the lookup/connect fails or takes longer than
    //! connectTimeoutMs. Never emits from inside this call.
    void open(const QString& host, quint16 port, int connectTimeoutMs);
    //! Drops the link at once (replies still pending are never delivered) and emits nothing.
    //! Safe to call from a replyReceived() receiver.
    void close();

    State state() const { return m_state; }
    bool isOpen() const { return m_state == State::Open; }

    //! Queues a command (binary-safe argv) for writing; replies arrive in order through
    //! replyReceived(). Returns false (nothing queued) when not open or when hiredis refuses it
    //! (the link is being torn down).
    bool send(const QList<QByteArray>& args);

signals:
    void opened();
    //! The attempt failed or the open link broke; the connection is Idle again. Not emitted for
    //! close().
    void lost(const QString& reason);
    //! One reply (a regular reply, or a Pub/Sub push when the connection is subscribed).
    void replyReceived(const RedisReply& reply);

private:
    // hiredis hooks (C callbacks); `privdata`/ac->data point at the RedisConnection until detach().
    static void hookAddRead(void* privdata);
    static void hookDelRead(void* privdata);
    static void hookAddWrite(void* privdata);
    static void hookDelWrite(void* privdata);
    static void hookCleanup(void* privdata);
    static void onHiredisConnect(const redisAsyncContext* context, int status);
    static void onHiredisReply(redisAsyncContext* context, void* reply, void* privdata);

    void onHostLookedUp(const QHostInfo& info);
    void connectTo(const QString& address);
    void onReadable();
    void onWritable();
    void onConnectTimeout();
    //! Emits what the hooks recorded while hiredis was on the stack.
    void deliverDeferredEvents();
    //! Unhooks the context from this object (notifiers disposed, ac->data and ev.data cleared) so
    //! that whatever hiredis still does with it can no longer reach us.
    void detach();
    void failSoon(const QString& reason);

    State m_state = State::Idle;
    redisAsyncContext* m_context = nullptr;
    // Disposed with deleteLater(): a notifier may be detached from inside its own activated().
    struct NotifierDeleter {
        void operator()(QSocketNotifier* notifier) const;
    };
    std::unique_ptr<QSocketNotifier, NotifierDeleter> m_readNotifier;
    std::unique_ptr<QSocketNotifier, NotifierDeleter> m_writeNotifier;
    QTimer m_connectTimer;
    int m_lookupId = -1;
    QString m_host;
    quint16 m_port = 0;
    quint64 m_generation = 0; // bumps on every open()/close(): stale queued events are ignored
    bool m_openedPending = false;
    bool m_lostPending = false;
    QString m_lostReason;
};

} // namespace parley::server
