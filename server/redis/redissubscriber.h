// Redis Pub/Sub on a connection of its own (a subscribed connection can run no other command).
//
// Contract:
// - Threading as RedisClient: lives on one thread, every call and signal on it; never blocks.
// - The subscriber keeps the SET of channels and patterns it should be subscribed to.
//   subscribe()/unsubscribe() are idempotent set operations: subscribing twice then unsubscribing
//   once leaves the channel unsubscribed. Reference counting (e.g. "subscribed while a room has
//   a local member") is the caller's business.
// - After every (re)connect, every channel and pattern of the set is subscribed again
//   automatically; subscribed(channel) / patternSubscribed(pattern) are emitted when Redis
//   confirms, on the first link and again after each reconnect.
// - Pub/Sub is at-most-once: messages published while the link is down are lost. disconnected()
//   marks where a gap may begin and the next subscribed(channel) where it ends; callers that
//   need every message (the broker) read their history for that window.
// - After unsubscribe(channel) returns, no messageReceived() for that channel is emitted any more
//   (unless it is subscribed again). A message that matches a channel and a pattern arrives
//   twice: messageReceived() and patternMessageReceived().
// - A dead link is detected by hiredis (EOF, error), by TCP keepalive, by confirmation deadlines
//   (every (P)SUBSCRIBE/(P)UNSUBSCRIBE must be confirmed within confirmTimeoutMs) and, on an idle
//   link, by a health probe: every healthCheckIntervalMs the subscriber re-subscribes to a private
//   channel of its own and expects the confirmation in time. (A plain PING is not usable: hiredis
//   0.14.1 cannot route its reply on a subscribed connection.) Then it reconnects with backoff.
#pragma once

#include "base/backoff.h"
#include "redisendpoint.h"
#include "redisreply.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QSet>
#include <QString>
#include <QTimer>
#include <cstdint>
#include <deque>

namespace parley::server {

class RedisConnection;

class RedisSubscriber : public QObject {
    Q_OBJECT

public:
    struct Options {
        int connectTimeoutMs = 2000;
        int confirmTimeoutMs = 2000; //!< per (P)SUBSCRIBE/(P)UNSUBSCRIBE command
        int healthCheckIntervalMs = 5000; //!< 0 disables the probe
        int reconnectInitialMs = 100;
        int reconnectMaxMs = 5000;
    };

    explicit RedisSubscriber(RedisEndpoint endpoint, QObject* parent = nullptr);
    RedisSubscriber(RedisEndpoint endpoint, Options options, QObject* parent = nullptr);
    ~RedisSubscriber() override;

    //! Starts connecting (and reconnecting after every loss) until stop(). Idempotent.
    void start();
    //! Closes the link and stops reconnecting; the channel set is kept for a later start().
    void stop();
    bool isConnected() const { return m_state == State::Connected; }

    void subscribe(const QByteArray& channel);
    void unsubscribe(const QByteArray& channel);
    //! PSUBSCRIBE: glob-style patterns ("room:*").
    void subscribePattern(const QByteArray& pattern);
    void unsubscribePattern(const QByteArray& pattern);

    //! In the set (whether or not confirmed yet).
    bool hasChannel(const QByteArray& channel) const { return m_channels.contains(channel); }
    //! Confirmed by Redis on the current link.
    bool isSubscribed(const QByteArray& channel) const
    {
        return m_confirmedChannels.contains(channel);
    }
    QList<QByteArray> channels() const { return m_channels.values(); }
    QList<QByteArray> patterns() const { return m_patterns.values(); }

signals:
    void connected();
    void disconnected();
    void errorOccurred(const QString& message);
    void subscribed(const QByteArray& channel);
    void patternSubscribed(const QByteArray& pattern);
    void messageReceived(const QByteArray& channel, const QByteArray& payload);
    void patternMessageReceived(
        const QByteArray& pattern, const QByteArray& channel, const QByteArray& payload);

private:
    enum class State { Stopped, Connecting, Connected, WaitingToReconnect };

    struct Expectation {
        int remaining = 0; // confirmations still due for one command (one per channel/pattern)
        std::int64_t deadlineMs = 0;
    };

    void connectNow();
    void onOpened();
    void onLost(const QString& reason);
    void onReply(const RedisReply& reply);
    void onDeadlineTimer();
    void onHealthTimer();
    //! Sends `command` for `names` in batches, each with its confirmation deadline.
    bool sendBatched(const QByteArray& command, const QList<QByteArray>& names);
    void confirmOne();
    void failLink(const QString& reason);

    RedisEndpoint m_endpoint;
    Options m_options;
    State m_state = State::Stopped;
    RedisConnection* m_connection = nullptr; // child
    Backoff m_backoff;
    QTimer m_reconnectTimer;
    QTimer m_deadlineTimer;
    QTimer m_healthTimer;
    QByteArray m_healthChannel;
    QSet<QByteArray> m_channels;
    QSet<QByteArray> m_patterns;
    QSet<QByteArray> m_confirmedChannels;
    QSet<QByteArray> m_confirmedPatterns;
    std::deque<Expectation> m_expectations;
};

} // namespace parley::server
