// NodeRouter: messages addressed to a node or to a user rather than to a room, in a cluster.
//
// Every node subscribes to its own channel parley:node:<NODE_ID> and acts on what arrives there:
// - forwarded HTTP commands: a `POST /v1/commands` that reached a node other than the
//   one holding the session (its token names the owner, "<thread>.<session>.<secret>~<node>") is
//   published to the owner's channel with a request id and the sender's channel; the owner runs
//   the frames through the session exactly as a local request and publishes the HTTP status back
//   (202 accepted, 404 no such session). The sender answers 503 when the owner is not subscribed
//   (PUBLISH reached nobody: node dead or cut off from Redis) or Redis is unreachable, and 504 when
//   no status came back within kForwardTimeoutMs. So HTTP transports need no sticky sessions.
//   `DELETE /v1/session` travels the same way (an "end" request: 200 ended, 404 no such session).
// - relayed responses: a `GET /v1/sse` or `GET /v1/poll` that reached a node other than the
//   session's owner is held by that node (the *holder*) and served by the owner through Redis.
//   The holder publishes an open request {k:"s"} with a relay id to the owner's channel; the
//   owner attaches a RelayDownstream (routing/relaydownstream.h) to the session's HttpSink, which
//   writes exactly the bytes it would write to a local socket; they travel as messages {k:"o"}
//   (a JSON head naming the relay and the owner, a newline, the raw bytes) to the holder's
//   channel, which writes them to the client. The first one acknowledges the open (status 200, and
//   the longest silence the owner will keep: its keep-alive or poll timeout), or refuses it (404,
//   no such session). Pub/Sub keeps one publisher's messages in order, so the response arrives as
//   the owner wrote it. The holder ends a relay with 503 when the owner's channel has no subscriber
//   any more (checked with PUBSUB NUMSUB every kRelayCheckMs while relays are held: a killed node
//   is noticed within about a second) or its own Redis link drops, and with 504 when the open was
//   not acknowledged within kForwardTimeoutMs or the owner was silent for longer than it announced
//   plus kForwardTimeoutMs. A client that leaves, or a relay the holder ends, is told to the owner
//   {k:"x"}, which drops the downstream (the session keeps its frames for the next request); an
//   owner whose PUBLISH reaches nobody (the holder is gone) drops it as well.
// - frames for a user (direct messages): user -> node routing reuses the presence entries
//   (presence/redispresence.h): the user's sorted set parley:{u:USER}:ps holds one member
//   "<node>/<session>" per live session with its expiry, refreshed by the session's heartbeats
//   (at least every ttl/3) and left to expire when a node dies. One Lua script reads the live
//   members and PUBLISHes the frame to each distinct node's channel, atomically; it returns how
//   many nodes received it (0: the user is offline). Each node hands the frame to its local
//   sessions of the user. At most once: a node that loses its Redis link at that moment misses the
//   frame, which the sender sees as an ack (the frame reached the node's channel) -- direct
//   messages are not stored.
//
// Health: healthy while the command link is up and Redis confirmed the node-channel subscription
// (without it forwarded commands and direct messages would be lost): /healthz reports it.
//
// Threading: a QObject on its own thread; public methods are thread-safe and post to it; every
// callback and handler runs on that thread. Its links are created there by start().
#pragma once

#include "redis/redisendpoint.h"
#include "redis/redisscript.h"
#include "relaylink.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>
#include <atomic>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>

class QTimer;

namespace parley::server {

class RedisClient;
class RedisSubscriber;

class NodeRouter : public QObject {
public:
    //! A forwarded request without an answer within this time is answered 504.
    static constexpr int kForwardTimeoutMs = 5000;
    //! Forwarded requests waiting for their answer; beyond: 503 at once.
    static constexpr std::size_t kMaxPendingForwards = 10000;
    //! Relayed responses held at once (holder side); beyond: 503 at once.
    static constexpr std::size_t kMaxHeldRelays = 20000;
    //! How often the holder checks that the owners of its relays are still subscribed.
    static constexpr int kRelayCheckMs = 1000;

    //! "parley:node:<node>"
    static QByteArray channelOf(const std::string& node);

    //! HTTP status for a forwarded request: 202, 404, 503 or 504.
    using StatusDone = std::function<void(int status)>;
    //! Owner side: runs `frames` for the session of `token`, then calls `reply` with the status.
    using CommandsHandler
        = std::function<void(QByteArray token, QList<QString> frames, StatusDone reply)>;
    //! Owner side: ends the session of `token`, then calls `reply` with the status.
    using EndSessionHandler = std::function<void(QByteArray token, StatusDone reply)>;
    //! `ok` false when Redis could not be asked; else `nodes` that received the frame (0: the
    //! user has no live session).
    using UserDone = std::function<void(bool ok, int nodes)>;
    //! Receiving side: deliver `frame` to the local sessions of `user`.
    using UserFrameHandler = std::function<void(std::string user, QString frame)>;

    //! Holder side: what becomes of relay `id` (called on the router's thread).
    struct RelayHandler {
        //! Bytes of the owner's response, in the order it wrote them.
        std::function<void(std::uint64_t id, QByteArray bytes)> data;
        //! The relay is over (called once, after the last data()): 0 the owner finished the
        //! response; 404 the owner has no such session; 503 the owner is gone or cannot be
        //! reached (or this node lost Redis); 504 the owner stopped answering.
        std::function<void(std::uint64_t id, int status)> ended;
    };
    //! Owner side: attach the event stream (`stream`) or the poll (after `cursor`) of the
    //! session of `token` to relay `link`; answer with sendRelay().
    using RelayOpenHandler
        = std::function<void(QByteArray token, bool stream, QByteArray cursor, RelayLink link)>;
    //! Owner side: the holder dropped relay `link` (its client left, or it gave up).
    using RelayCloseHandler = std::function<void(QByteArray token, RelayLink link)>;
    //! Owner side: one part of a relayed response was published (true) or reached nobody or
    //! failed (false: the holder is gone or Redis is). Runs on the router's thread.
    using RelaySent = std::function<void(bool delivered)>;

    NodeRouter(RedisEndpoint endpoint, std::string nodeId);
    ~NodeRouter() override;

    //! Set before start().
    void setCommandsHandler(CommandsHandler handler) { m_commandsHandler = std::move(handler); }
    void setEndSessionHandler(EndSessionHandler handler)
    {
        m_endSessionHandler = std::move(handler);
    }
    void setUserFrameHandler(UserFrameHandler handler) { m_userHandler = std::move(handler); }
    void setRelayHandlers(RelayOpenHandler open, RelayCloseHandler close)
    {
        m_relayOpenHandler = std::move(open);
        m_relayCloseHandler = std::move(close);
    }

    //! Thread-safe, after moveToThread(): creates the links on the router's thread.
    void start();
    //! Must run on the router's thread: closes the links (pending forwards answer 503).
    void stopLinks();
    //! Thread-safe.
    bool isHealthy() const { return m_healthy.load(std::memory_order_relaxed); }
    const std::string& nodeId() const { return m_nodeId; }

    //! Thread-safe: forwards a /v1/commands request to `node` (see above).
    void forwardCommands(
        std::string node, QByteArray token, QList<QString> frames, StatusDone done);
    //! Thread-safe: forwards a DELETE /v1/session request to `node`.
    void forwardEndSession(std::string node, QByteArray token, StatusDone done);
    //! Thread-safe: sends `frame` to every node with a live session of `user` (see above).
    void sendToUser(std::string user, QString frame, UserDone done);

    //! Thread-safe, holder side: asks `node` to serve the event stream (`stream`) or the poll
    //! (after `cursor`) of `token` through a new relay; returns its id. `handler` gets the bytes
    //! and the end (see RelayHandler); not called after closeRelay().
    std::uint64_t openRelay(
        std::string node, QByteArray token, bool stream, QByteArray cursor, RelayHandler handler);
    //! Thread-safe, holder side: the client of relay `id` left; the owner is told.
    void closeRelay(std::uint64_t id);
    //! Thread-safe, owner side: publishes one part of relay `link`'s response to its holder, in
    //! call order: `status` 200 (with `silenceMs`, the longest the owner stays silent) on the
    //! first, or 404 (and `end`) to refuse; then `bytes`; `end` completes the response. `sent`
    //! may be empty.
    void sendRelay(const RelayLink& link, int status, int silenceMs, QByteArray bytes, bool end,
        RelaySent sent);

private:
    struct Pending {
        StatusDone done;
        qint64 deadlineMs = 0;
    };

    //! On the router's thread: publishes request `fields` (plus its id and our node) to `node`.
    void forward(const std::string& node, QJsonObject fields, StatusDone done);
    void onMessage(const QByteArray& channel, const QByteArray& payload);
    void expirePending();
    void failAllPending(int status);
    void updateHealth();
    void onRelayPart(const QJsonObject& head, QByteArray bytes);
    //! Ends held relay `id` with `status`; `tellOwner`: publish {k:"x"} so it lets go.
    void endRelay(std::uint64_t id, int status, bool tellOwner);
    void endAllRelays(int status);
    void checkRelays();
    void publishRelayClose(const std::string& node, std::uint64_t id, const QByteArray& token);

    struct HeldRelay {
        std::string node;
        QByteArray token;
        RelayHandler handler;
        qint64 openedMs = 0;
        qint64 lastHeardMs = 0;
        qint64 silenceMs = -1; // announced by the owner's acknowledgement; -1 before
    };

    const RedisEndpoint m_endpoint;
    const std::string m_nodeId;
    const QByteArray m_channel;
    RedisScript m_routeScript;
    RedisClient* m_client = nullptr; // children, created on the router's thread
    RedisSubscriber* m_subscriber = nullptr;
    QTimer* m_timeoutTimer = nullptr;
    CommandsHandler m_commandsHandler;
    EndSessionHandler m_endSessionHandler;
    UserFrameHandler m_userHandler;
    RelayOpenHandler m_relayOpenHandler;
    RelayCloseHandler m_relayCloseHandler;
    std::uint64_t m_nextRequest = 1;
    std::unordered_map<std::uint64_t, Pending> m_pending;
    std::atomic<std::uint64_t> m_nextRelay { 1 };
    std::unordered_map<std::uint64_t, HeldRelay> m_heldRelays;
    std::unordered_set<std::string> m_ownerChecks; // PUBSUB NUMSUB in flight, per owner node
    QTimer* m_relayTimer = nullptr;
    std::atomic<bool> m_healthy { false };
};

} // namespace parley::server
