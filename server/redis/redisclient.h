// parleyd's asynchronous Redis client: commands with callbacks, driven by the Qt event loop.
//
// Contract (what callers can rely on):
// - Threading: the client lives on the thread that created it (or was moved to before start()).
//   command(), start() and stop() must be called on that thread; every callback and signal runs
//   on it. Nothing ever blocks: the connection, host lookup, writes and reads are asynchronous.
// - Every callback is called exactly once, never from inside command() itself (a failure detected
//   at once is delivered from the event loop), unless the client is destroyed first: destroying
//   the client drops the callbacks it still holds without calling them (they typically capture
//   the owner that is being torn down); call stop() first to have them failed with Closed.
// - Replies arrive in the order the commands were issued (one connection, pipelined).
// - Never a silent drop. While not connected, command() fails fast with ErrorKind::Unavailable;
//   past maxInFlight outstanding commands with Overloaded (both: the command was not sent, retry
//   later). A command without a reply within commandTimeoutMs fails with Timeout and the link is
//   treated as broken: it is closed, every other outstanding command fails with ConnectionLost,
//   and the client reconnects. (hiredis 0.14.1 has no timer hook and no redisAsyncSetTimeout, so
//   the deadlines are ours: the outstanding commands form a FIFO whose deadlines are in issue
//   order, watched by a single QTimer re-armed lazily for the oldest command.)
// - Reconnects run forever until stop(), with exponential backoff and equal jitter
//   (redisReconnectSchedule); connected() is emitted once Redis has answered a handshake command on the new link (SELECT of
//   the endpoint's database, or PING for database 0).
// - Blocking commands (BLPOP, ...) count against commandTimeoutMs like any other: do not use them
//   with a timeout longer than that (use a separate client).
#pragma once

#include "base/backoff.h"
#include "redisendpoint.h"
#include "redisreply.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>
#include <cstdint>
#include <deque>
#include <functional>

namespace parley::server {

class RedisConnection;

class RedisClient : public QObject {
    Q_OBJECT

public:
    struct Options {
        int connectTimeoutMs = 2000; //!< host lookup + TCP connect
        int commandTimeoutMs = 2000; //!< per command, from command() to its reply
        int maxInFlight = 16384; //!< outstanding commands; beyond: Overloaded
        int reconnectInitialMs = 100;
        int reconnectMaxMs = 5000;
    };
    using Callback = std::function<void(const RedisReply& reply)>;

    explicit RedisClient(RedisEndpoint endpoint, QObject* parent = nullptr);
    RedisClient(RedisEndpoint endpoint, Options options, QObject* parent = nullptr);
    //! Drops the link and the callbacks still held, without calling them (see the contract).
    ~RedisClient() override;

    //! Starts connecting (and reconnecting after every loss) until stop(). Idempotent.
    void start();
    //! Closes the link, stops reconnecting, fails every outstanding command with Closed (in issue
    //! order, before returning), and emits disconnected() if it was connected.
    void stop();

    //! True between connected() and disconnected(): commands are being sent.
    bool isConnected() const { return m_state == State::Connected; }
    //! Sends one command, binary-safe (each argument is sent as is; no formatting, no quoting).
    //! The callback receives Redis's reply, or an Error reply with a client-side ErrorKind.
    void command(QList<QByteArray> args, Callback callback);
    //! Commands sent and not yet answered.
    int inFlight() const { return int(m_pending.size()); }

    const RedisEndpoint& endpoint() const { return m_endpoint; }
    const Options& options() const { return m_options; }

signals:
    //! The link is up and Redis answered (database selected); commands are sent from now on.
    void connected();
    //! The link went down after connected() (reconnecting unless stop() was called).
    void disconnected();
    //! A connect attempt failed, the link broke, or a command timed out; for logs and /healthz.
    void errorOccurred(const QString& message);

private:
    enum class State { Stopped, Connecting, Connected, WaitingToReconnect };

    struct Pending {
        std::int64_t deadlineMs = 0;
        Callback callback;
    };

    void connectNow();
    void onOpened();
    void onLost(const QString& reason);
    void onReply(const RedisReply& reply);
    void onDeadlineTimer();
    bool sendTracked(const QList<QByteArray>& args, Callback callback);
    void armDeadlineTimer();
    void becomeConnected();
    //! Tears the link down after a failure and schedules the next attempt. `timedOut` marks the
    //! oldest outstanding command as the one that timed out.
    void failLink(const QString& reason, bool timedOut);
    void failLater(Callback callback, RedisReply::ErrorKind kind, const char* message);
    static void failAll(std::deque<Pending> pending, RedisReply::ErrorKind firstKind,
        RedisReply::ErrorKind restKind, const QString& message);

    RedisEndpoint m_endpoint;
    Options m_options;
    State m_state = State::Stopped;
    RedisConnection* m_connection = nullptr; // child
    Backoff m_backoff;
    QTimer m_reconnectTimer;
    QTimer m_deadlineTimer;
    std::deque<Pending> m_pending;
};

} // namespace parley::server
