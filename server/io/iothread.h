// IoThread: one network thread's worth of connections. Lives on its own QThread (own event loop,
// own event dispatcher); owns the sockets accepted onto it and the sessions made from them.
//
// Per connection: a QTcpSocket is made from the descriptor the Listener hands over. Its request
// head is sniffed with peek() (bounded by maxHeaderBytes, and by headerTimeoutMs against
// slow-loris). Its read buffer is bounded (QAbstractSocket::setReadBufferSize; Qt's default is
// unbounded): maxHeaderBytes while a head is read, raised to the head plus the declared body only
// once the head allowed that body (the endpoint's limit, and for the session endpoints a valid
// session token, checked from the head before a body byte is kept), and back to maxHeaderBytes
// after. A refused request is answered at once and its connection closed with
// closeAfterResponse() (http/httpdownstream.h: the rest of the body is read and discarded within
// a cap, so the answer is not lost to a reset). GET /healthz is answered here; GET /v1/ws with an
// Upgrade header is upgraded here (websocket/handshake.h): the head is read, the 101 written, and
// the descriptor taken over by a WebSocketConnection (dup()ed, then the QTcpSocket is closed: no
// QTcpSocket or QWebSocket stays per WebSocket connection: they cost ~17 KiB each). Bytes the client sent after
// its request head (frames before our 101, which RFC 6455 4.1 forbids but which we accept) were
// buffered by the QTcpSocket and are fed to the new connection's parser first, so nothing is lost.
// Anything else gets a JSON 4xx and is closed.
//
// Timers: ONE sweep timer per thread serves every connection on it — header deadlines, the hello
// deadline (4005), WebSocket frames in progress too slowly (4006) and queues stalled over their
// bound (4003), heartbeat timeouts (silent for 2 intervals -> 4002) and sessions stuck closing.
// A coarse sweep over all sessions costs O(sessions) per tick, which at 15,000 sessions is tens
// of microseconds every heartbeat/4 (or half the shortest of those deadlines, at most a second);
// a QTimer per session would cost a timer registration (and memory) per connection.
//
// HTTP transports (io/httprequests.cpp): POST /v1/session makes a Session with an
// HttpSink on the thread that got the request; its token "<thread>.<session>.<secret>~<node>"
// routes later requests: /v1/commands bodies are posted to the owning thread as text frames (the
// reply comes back here and the connection stays open for the next request), or, when the token
// names another node of the cluster, forwarded to it (routing/noderouter.h); /v1/sse and /v1/poll
// sockets are moved to the owning thread (QObject::moveToThread, parentless) and attached there.
// A /v1/sse or /v1/poll whose token names another node is relayed (routing/noderouter.h,
// "relayed responses"): this thread keeps the client's socket and writes what the owner's sink
// sends through Redis (the holder side, bounded by maxOutboundBytes of unsent bytes per client);
// on the owner, the sink writes to a RelayDownstream instead of a socket (the owner side).
// DELETE /v1/session (a client leaving, or switching to another transport) closes the session on
// its thread with 1000, like a WebSocket close: a held stream or poll gets the close event.
//
// Caps (io/iothreadcaps.cpp, caps/caps.h): adoptDescriptor() counts each connection under
// --max-connections and --max-connections-per-ip on the accept thread, before anything is made
// for it; the CapSlot it gets rides along as a child of the QTcpSocket (so every way a socket
// ends gives the place back, on whichever thread it ends), and is handed to the
// WebSocketConnection's sink on upgrade. A refused connection is answered, not dropped: its head
// is read (as any other, bounded), then a WebSocket upgrade gets its 101 and close 4007, anything
// else 503 or 429 with Retry-After; refusals being answered are capped too (ConnectionCaps::
// kMaxRefusing), past that a canned answer is written to the descriptor on the accept thread.
// POST /v1/session is rate-limited per address; an HTTP session that attaches no stream or poll
// within --http-attach-timeout-ms is closed by the sweep.
//
// Session ids are 56 random bits from the system's generator under the thread's index (unique
// per node by construction): they say nothing about how many sessions the node has made. HTTP
// session secrets are compared in constant time (common/constanttime.h).
//
// Fan-out: deliverToRoom() gets one serialised frame per thread from the hub and writes it to
// every local member. Session removal is always deferred to a later event (never done inside a
// delivery loop), so a session closing mid-fan-out cannot invalidate the iteration.
#pragma once

#include "caps/capslot.h"
#include "caps/connectioncaps.h"
#include "hub/fanouttarget.h"
#include "routing/relaylink.h"
#include "websocket/textframe.h"

#include <QList>
#include <QObject>
#include <QString>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>

class QTcpSocket;
class QTimer;

namespace parley::server {

class HttpSink;
class RelayDownstream;
struct HttpRequest;
struct SessionToken;
class Session;
struct ServerContext;

class IoThread : public QObject, public FanoutTarget {
public:
    IoThread(int index, ServerContext& context);
    ~IoThread() override;

    int index() const { return m_index; }
    ServerContext& context() const { return m_context; }

    // --- thread-safe ---------------------------------------------------------------------------
    //! Adopt an accepted socket descriptor (called by the Listener on the accept thread): counted
    //! under the connection caps there, then made into a socket on this thread, or refused.
    void adoptDescriptor(qintptr descriptor);
    //! Runs `f(session)` on this thread if the session still exists.
    void runOnSession(std::uint64_t sessionId, std::function<void(Session&)> f);
    //! Closes every connection (sessions with 1001 going away), then calls `drained` on this
    //! thread once they are gone (or after a grace period).
    void shutdown(std::function<void()> drained);

    // FanoutTarget (called on the hub thread).
    void deliverToRoom(const std::string& room, std::uint64_t seq, TextFrame frame) override;
    void completeJoin(std::uint64_t sessionId, JoinResult result) override;

    // Frames addressed to users rather than to one room (iothreadusers.cpp). Thread-safe.
    //! Sends `frame` once to every local session that joined any of `rooms` (presence events).
    void deliverToRooms(std::vector<std::string> rooms, TextFrame frame);
    //! Sends `frame` to every local session of `user` (direct messages).
    void deliverToUser(std::string user, TextFrame frame);
    //! Runs HTTP command frames for the session of `token` on its thread (a local /v1/commands
    //! request, or one forwarded by another node); `done` gets 202, or 404 when there is no
    //! such session here. `done` runs on the session's thread.
    void runCommands(
        const SessionToken& token, QList<QString> frames, std::function<void(int status)> done);
    //! Ends the HTTP session of `token` (a local DELETE /v1/session, or one forwarded by another
    //! node); `done` gets 200, or 404 when there is no such session here. Thread-safe.
    void endSession(const SessionToken& token, std::function<void(int status)> done);
    //! Owner side of a relayed GET /v1/sse (`stream`) or /v1/poll (after `cursor`): attaches
    //! relay `link` to the HTTP session of `token` as its stream or poll, or refuses it (404)
    //! when there is no such session here. Thread-safe.
    void attachRelay(const SessionToken& token, bool stream, QByteArray cursor, RelayLink link);
    //! Owner side: the holder of relay `link` let go. Thread-safe.
    void detachRelay(const SessionToken& token, RelayLink link);
    //! Whether `token` names an HTTP session of this thread and carries its secret (compared in
    //! constant time). Thread-safe: other I/O threads check tokens from request heads with it.
    bool hasHttpSession(const SessionToken& token) const;

    // --- this thread only (used by sessions) ----------------------------------------------------
    void addRoomMember(const std::string& room, Session* session);
    void removeRoomMember(const std::string& room, Session* session);

private:
    void start();
    void adopt(qintptr descriptor, CapSlot slot);

    // Caps (iothreadcaps.cpp).
    //! Makes the socket of a connection refused by a cap; its request head is answered with
    //! the refusal (answerRefused()).
    void adoptRefused(qintptr descriptor, ConnectionCaps::Refusal refusal, CapSlot place);
    //! Answers the head of a refused connection: 101 and close 4007 to a WebSocket upgrade,
    //! 503 (over --max-connections) or 429 (over --max-connections-per-ip) otherwise.
    void answerRefused(QTcpSocket* socket, ConnectionCaps::Refusal refusal, int headBytes,
        bool webSocket);
    //! The connection's place under the caps, taken off its socket (the WebSocket upgrade).
    static CapSlot takeConnectionSlot(QTcpSocket* socket);
    //! Makes `slot` ride along with `socket` (given back when the socket is destroyed).
    static void holdConnectionSlot(QTcpSocket* socket, CapSlot slot);
    //! Closes the HTTP sessions that attached no stream or poll in time (sweep).
    void closeUnattachedSessions(std::int64_t nowMs);
    //! A new session id: random, unique on this node (see above).
    std::uint64_t newSessionId() const;
    void sniff(QTcpSocket* socket);
    //! The session token of a request head (`tokenText`) is checked before its body is read:
    //! false after answering 401 (missing or malformed) or 404 (no such session here). A token
    //! naming another node of a cluster is left to that node.
    bool admitFromHead(QTcpSocket* socket, const QByteArray& tokenText);
    //! Answers a request refused from its head (logged, rate-limited) and closes.
    void refuseFromHead(
        QTcpSocket* socket, int status, const QByteArray& code, const QByteArray& message);
    //! What closeAfterResponse() reads and discards at most: the largest body we accept.
    qint64 discardCap() const;
    void dropPending(QTcpSocket* socket);
    //! Answers and closes; `retryAfterS` > 0 adds a Retry-After header (refusals by a cap).
    void answerHttp(QTcpSocket* socket, int status, const QByteArray& json, int retryAfterS = 0);
    //! Answers and keeps the connection for its next request when `keepAlive`.
    void respondHttp(QTcpSocket* socket, int status, const QByteArray& json, bool keepAlive);
    //! Answers a request run by a session, maybe on another node: 200/202 with `successJson`,
    //! 404 unknown session, 504 owner silent, anything else 503 owner unreachable.
    void respondSessionStatus(
        QTcpSocket* socket, int status, const QByteArray& successJson, bool keepAlive);
    void watchPending(QTcpSocket* socket);

    // HTTP transports (httprequests.cpp).

    void handleHttp(QTcpSocket* socket, const HttpRequest& request);
    void openHttpSession(QTcpSocket* socket, const HttpRequest& request);
    //! The request's session token, or nothing after answering 401 (missing, malformed, or
    //! naming an I/O thread this node does not have).
    std::optional<SessionToken> requireSessionToken(QTcpSocket* socket, const HttpRequest& request);
    void forwardCommands(QTcpSocket* socket, const HttpRequest& request);
    void endHttpSession(QTcpSocket* socket, const HttpRequest& request);
    void routeToSession(QTcpSocket* socket, const HttpRequest& request);
    //! Holder side: serves a stream or poll of a session on another node through a relay.
    void relayToOwner(QTcpSocket* socket, const SessionToken& token, bool stream,
        const QByteArray& cursor, bool cursorGiven);
    void onRelayData(std::uint64_t id, const QByteArray& bytes);
    void onRelayEnded(std::uint64_t id, int status);
    //! The client of held relay `id` is gone, or must go (`abort`): the owner is told.
    void dropHeldRelay(std::uint64_t id, bool abort);
    void attachHttp(QTcpSocket* socket, std::uint64_t sessionId, QByteArray secret, bool stream,
        QByteArray cursor);
    HttpSink* httpSink(std::uint64_t sessionId, const QByteArray& secret);
    //! Answers the upgrade request (RequestSniffer verdict WebSocket) and makes the session.
    void upgradeToWebSocket(QTcpSocket* socket, int headBytes);
    void sessionDisconnected(std::uint64_t sessionId);
    void sweep();
    void checkDrained();

    const int m_index;
    ServerContext& m_context;
    QTimer* m_sweepTimer = nullptr;
    std::int64_t m_sweepIntervalMs = 1000;
    std::unordered_map<QTcpSocket*, std::int64_t> m_pending; // socket -> header deadline
    // Pending sockets of connections refused by a cap (answered once their head is read).
    std::unordered_map<QTcpSocket*, ConnectionCaps::Refusal> m_refused;
    std::int64_t m_lastPruneMs = 0; // of the per-address session rate buckets (thread 0)
    std::unordered_map<std::uint64_t, std::unique_ptr<Session>> m_sessions;
    std::unordered_map<std::uint64_t, HttpSink*> m_httpSinks; // sessions opened over HTTP
    // Their secrets, for hasHttpSession() from other threads (written on this thread only).
    mutable std::mutex m_httpSecretsMutex;
    std::unordered_map<std::uint64_t, QByteArray> m_httpSecrets;
    // Relayed responses (cluster). Holder side: relay id -> the client's socket (a child of this
    // object) and whether any of the owner's bytes were written to it yet.
    struct HeldRelay {
        QTcpSocket* socket = nullptr;
        bool wrote = false;
    };
    std::unordered_map<std::uint64_t, HeldRelay> m_heldRelays;
    // Owner side: RelayLink::key() -> the downstream attached to a local session's sink (entries
    // leave when the downstream is destroyed).
    std::unordered_map<std::string, RelayDownstream*> m_relayDownstreams;
    std::unordered_map<std::string, std::unordered_set<Session*>> m_rooms;
    bool m_shuttingDown = false;
    std::function<void()> m_drained;
};

} // namespace parley::server
