// parleyd's configuration, parsed from the command line.
#pragma once

#include <QString>
#include <QStringList>
#include <cstdint>
#include <variant>

namespace parley::server {

struct ServerConfig {
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 8080; //!< 0: the OS chooses; the real port is printed on start
    QString dataDir = QStringLiteral("./parley-data");
    QString nodeId; //!< generated when not given
    bool devAuth = false;
    QString authFile; //!< lines "user token"; wins over devAuth when both are given
    int ioThreads = 0; //!< 0: one per core
    std::uint32_t maxFrameBytes = 64 * 1024;
    std::uint32_t maxBodyBytes = 16 * 1024;
    std::uint32_t maxRooms = 100;
    std::uint32_t maxHistoryLimit = 500;
    std::uint32_t heartbeatMs = 30000;
    //! Frames per second a session may send on average (token bucket, burst 2x).
    std::uint32_t rateLimit = 1000;
    //! Storage requests (appends, reads, room creations) in flight before `overloaded`.
    std::uint32_t storageQueue = 10000;
    //! Bytes queued to one client before it is closed with 4003 (slow consumer).
    std::uint32_t maxOutboundBytes = 1024 * 1024;
    //! Time a connection may take to send its HTTP request head (slow-loris bound).
    std::uint32_t headerTimeoutMs = 10000;
    //! Bytes an HTTP request head may have.
    std::uint32_t maxHeaderBytes = 8 * 1024;
    //! Rooms with more members than this get no `presence` frames and carry no `user_presence`
    //! (a broadcast per join would make filling a room O(N^2)); 0 turns both off entirely.
    std::uint32_t presenceMaxMembers = 1000;
    //! Cluster: redis://HOST:PORT[/DB] of the shared Redis; empty: the node runs alone (SQLite).
    QString redisUrl;
    //! Cluster: messages kept in each room's Redis history (approximate cap).
    std::uint32_t redisHistory = 10000;
    //! Cluster: age in seconds past which messages leave the Redis history (0: any age).
    std::uint32_t redisHistoryAgeS = 0;
    //! Cluster: seconds a (sender, client id) is remembered for dedupe.
    std::uint32_t redisDedupeTtlS = 86400;
    //! Seconds a session counts as online after its client's last frame (refreshed every ttl/3
    //! while the client is heard from; clients heartbeat more often than this).
    std::uint32_t presenceTtlS = 60;
    //! Messages kept per room for replay and history (0: all).
    std::uint32_t historyRetainCount = 0;
    //! Age in seconds of the oldest message kept (0: any age).
    std::uint32_t historyRetainAgeS = 0;
    //! Seconds during which a resent client id is answered with the original ack.
    std::uint32_t dedupeWindowS = 600;
    //! HTTP transports: how long GET /v1/poll is held open without events (at most 25 s, so
    //! proxies with a 30 s idle timeout do not cut it).
    std::uint32_t pollTimeoutMs = 25000;
    //! HTTP transports: interval of the keep-alive comment lines on /v1/sse.
    std::uint32_t sseKeepAliveMs = 15000;
    //! HTTP transports: the `retry:` reconnect hint sent at the start of /v1/sse.
    std::uint32_t sseRetryMs = 2000;
    //! HTTP transports: bytes a POST /v1/session body (a hello) may have; checked from the
    //! request head, before the body is read (the largest hello valid under the default limits,
    //! 100 resume cursors and a 4 KiB token, is about 23 KB).
    std::uint32_t maxSessionBodyBytes = 32 * 1024;
    //! Lines per second one log site writes at most (the rest are counted, and the count is
    //! logged with the next line); 0: no limit.
    std::uint32_t logRateLimit = 10;
    //! WebSocket: time an upgraded connection has to send `hello` (then closed with 4005).
    std::uint32_t helloTimeoutMs = 10000;
    //! WebSocket: time a frame (or fragmented message) may be in progress before it must keep up
    //! minFrameRate; each minFrameRate bytes received extend it by a second (else 4006).
    std::uint32_t frameTimeoutMs = 5000;
    //! WebSocket: bytes per second a frame in progress must average past frameTimeoutMs.
    std::uint32_t minFrameRate = 1024;
    //! WebSocket: a connection whose outbound queue is over maxOutboundBytes is not read
    //! (backpressure); it is closed with 4003 when nothing of the queue is written for this long.
    std::uint32_t stallTimeoutMs = 10000;

    // Connection and session caps (docs/security.md, "Connection and session caps"). Per-address
    // limits count IPv4 addresses and IPv6 /64 networks; 0 turns a limit off.
    //! Descriptors kept free below the open-file limit when maxConnections is derived from it:
    //! storage, Redis links, event loops, and the refusals being answered.
    static constexpr std::uint32_t kReservedDescriptors = 256;
    //! TCP connections held at once (all kinds); 0: the open-file limit less
    //! kReservedDescriptors (effectiveMaxConnections()).
    std::uint32_t maxConnections = 0;
    //! TCP connections from one address at once.
    std::uint32_t maxConnectionsPerIp = 1000;
    //! Sessions (any transport) one user holds on this node at once.
    std::uint32_t maxSessionsPerUser = 64;
    //! New HTTP sessions (POST /v1/session) per second from one address; bursts of 5 s worth.
    std::uint32_t sessionRatePerIp = 20;
    //! Time an HTTP session has, from its POST /v1/session, to attach a stream or a poll.
    std::uint32_t httpAttachTimeoutMs = 10000;

    //! What the command line asked for: run with a config, or print text and exit.
    struct Exit {
        int code = 0;
        QString text; //!< printed to stdout when code == 0, stderr otherwise
    };
    using ParseResult = std::variant<ServerConfig, Exit>;

    //! Parses `arguments` (arguments[0] is the program name). Never exits the process itself.
    //! Refuses a configuration without any authentication (neither --dev-auth nor --auth-file).
    static ParseResult parse(const QStringList& arguments);

    //! The number of I/O threads to start (resolves 0 to the core count).
    int effectiveIoThreads() const;
    //! maxConnections, or when 0 the process's open-file limit (RLIMIT_NOFILE, soft) less
    //! kReservedDescriptors (at least 64).
    std::uint32_t effectiveMaxConnections() const;
};

} // namespace parley::server
