#include "serverconfig.h"

#include "redis/redisendpoint.h"

#include <QCommandLineParser>
#include <QHostAddress>
#include <QRegularExpression>
#include <QThread>
#include <limits>
#include <sys/resource.h>

namespace parley::server {

namespace {

// Parses "HOST:PORT" or "[V6]:PORT". Returns false on anything else.
bool parseListen(const QString& text, QString* host, quint16* port)
{
    QString h;
    QString p;
    if (text.startsWith(u'[')) {
        const auto close = text.indexOf(u']');
        if (close < 0 || close + 1 >= text.size() || text[close + 1] != u':') {
            return false;
        }
        h = text.mid(1, close - 1);
        p = text.mid(close + 2);
    } else {
        const auto colon = text.lastIndexOf(u':');
        if (colon <= 0) {
            return false;
        }
        h = text.left(colon);
        p = text.mid(colon + 1);
    }
    bool ok = false;
    const uint value = p.toUInt(&ok);
    if (!ok || value > 65535 || h.isEmpty()) {
        return false;
    }
    if (h != QLatin1String("localhost") && QHostAddress(h).isNull()) {
        return false;
    }
    *host = h;
    *port = quint16(value);
    return true;
}

bool parseUInt(const QString& text, std::uint32_t min, std::uint32_t max, std::uint32_t* out)
{
    bool ok = false;
    const qulonglong value = text.toULongLong(&ok);
    if (!ok || value < min || value > max) {
        return false;
    }
    *out = std::uint32_t(value);
    return true;
}

} // namespace

ServerConfig::ParseResult ServerConfig::parse(const QStringList& arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "parleyd: the Parley chat server (WebSocket /v1/ws and GET /healthz on one port).\n"
        "\n"
        "Exit codes: 0 stopped (SIGTERM/SIGINT); 1 could not start, the reason on stderr (a\n"
        "database it cannot write: read-only file, directory or filesystem, or a full disk; the\n"
        "address in use; an unreadable --auth-file); 2 bad command line."));
    const auto helpOption = parser.addHelpOption();
    const auto versionOption = parser.addVersionOption();

    const QCommandLineOption listen(QStringLiteral("listen"),
        QStringLiteral("Address to listen on (default 127.0.0.1:8080; port 0: OS chooses)."),
        QStringLiteral("HOST:PORT"));
    const QCommandLineOption dataDir(QStringLiteral("data-dir"),
        QStringLiteral("Directory of the SQLite history (default ./parley-data)."),
        QStringLiteral("DIR"));
    const QCommandLineOption nodeId(QStringLiteral("node-id"),
        QStringLiteral("Node id (default: generated)."), QStringLiteral("ID"));
    const QCommandLineOption devAuth(QStringLiteral("dev-auth"),
        QStringLiteral("Development only: accept any user name, ignore tokens."));
    const QCommandLineOption authFile(QStringLiteral("auth-file"),
        QStringLiteral("File of 'user token' lines; hello must carry the matching token."),
        QStringLiteral("FILE"));
    const QCommandLineOption ioThreads(QStringLiteral("io-threads"),
        QStringLiteral("Number of network I/O threads (default: number of cores)."),
        QStringLiteral("N"));
    const QCommandLineOption maxFrame(QStringLiteral("max-frame-bytes"),
        QStringLiteral("Largest frame accepted (default 65536)."), QStringLiteral("BYTES"));
    const QCommandLineOption maxBody(QStringLiteral("max-body-bytes"),
        QStringLiteral("Largest message body (default 16384)."), QStringLiteral("BYTES"));
    const QCommandLineOption maxRooms(QStringLiteral("max-rooms"),
        QStringLiteral("Rooms one session may join (default 100)."), QStringLiteral("N"));
    const QCommandLineOption heartbeat(QStringLiteral("heartbeat-ms"),
        QStringLiteral("Heartbeat interval announced to clients; silent sessions are closed "
                       "after two (default 30000)."),
        QStringLiteral("MS"));
    const QCommandLineOption rateLimit(QStringLiteral("rate-limit"),
        QStringLiteral("Frames per second one session may send on average (default 1000)."),
        QStringLiteral("N"));
    const QCommandLineOption storageQueue(QStringLiteral("storage-queue"),
        QStringLiteral("Storage requests in flight before sends get 'overloaded' (default 10000)."),
        QStringLiteral("N"));
    const QCommandLineOption maxOutbound(QStringLiteral("max-outbound-bytes"),
        QStringLiteral("Bytes queued to a client before it is closed as a slow consumer "
                       "(default 1048576)."),
        QStringLiteral("BYTES"));
    const QCommandLineOption pollTimeout(QStringLiteral("poll-timeout-ms"),
        QStringLiteral("How long GET /v1/poll waits for events (default 25000, max 25000)."),
        QStringLiteral("MS"));
    const QCommandLineOption sseKeepAlive(QStringLiteral("sse-keepalive-ms"),
        QStringLiteral("Interval of keep-alive comments on /v1/sse (default 15000)."),
        QStringLiteral("MS"));
    const QCommandLineOption headerTimeout(QStringLiteral("header-timeout-ms"),
        QStringLiteral("Time a connection has to send its HTTP request head (default 10000)."),
        QStringLiteral("MS"));
    const QCommandLineOption presenceMax(QStringLiteral("presence-max-members"),
        QStringLiteral("Rooms larger than this get no presence or user_presence frames; 0: none "
                       "at all (default 1000)."),
        QStringLiteral("N"));
    const QCommandLineOption redis(QStringLiteral("redis"),
        QStringLiteral("Join a cluster sharing this Redis (redis://HOST:PORT[/DB]); without it the "
                       "node runs alone on its SQLite history."),
        QStringLiteral("URL"));
    const QCommandLineOption redisHistory(QStringLiteral("redis-history"),
        QStringLiteral("Cluster: messages kept per room in Redis (default 10000)."),
        QStringLiteral("N"));
    const QCommandLineOption redisHistoryAge(QStringLiteral("redis-history-age"),
        QStringLiteral("Cluster: seconds a message stays in the Redis history; older ones are "
                       "trimmed when the room gets its next message (default 0: any age)."),
        QStringLiteral("S"));
    const QCommandLineOption redisDedupeTtl(QStringLiteral("redis-dedupe-ttl"),
        QStringLiteral("Cluster: seconds a client message id is remembered (default 86400)."),
        QStringLiteral("S"));
    const QCommandLineOption presenceTtl(QStringLiteral("presence-ttl"),
        QStringLiteral("Seconds a user stays online after their client's last frame (default 60)."),
        QStringLiteral("S"));
    const QCommandLineOption retainCount(QStringLiteral("history-retain-count"),
        QStringLiteral("Messages kept per room for replay and history; older ones are trimmed "
                       "(default 0: all)."),
        QStringLiteral("N"));
    const QCommandLineOption retainAge(QStringLiteral("history-retain-age"),
        QStringLiteral("Age in seconds past which messages are trimmed (default 0: keep)."),
        QStringLiteral("S"));
    const QCommandLineOption dedupeWindow(QStringLiteral("dedupe-window"),
        QStringLiteral("Seconds during which a resent client id is answered with the original "
                       "ack instead of storing a second message (default 600)."),
        QStringLiteral("S"));
    const QCommandLineOption maxHeader(QStringLiteral("max-header-bytes"),
        QStringLiteral("Largest HTTP request head; also what a connection's read buffer holds "
                       "before its head is complete (default 8192, 431 past it)."),
        QStringLiteral("BYTES"));
    const QCommandLineOption maxSessionBody(QStringLiteral("max-session-body-bytes"),
        QStringLiteral("Largest POST /v1/session body (a hello), refused with 413 from the "
                       "request head (default 32768)."),
        QStringLiteral("BYTES"));
    const QCommandLineOption logRate(QStringLiteral("log-rate-limit"),
        QStringLiteral("Lines per second one kind of per-connection log line is written at "
                       "most; the next line says how many were suppressed (default 10, 0: all)."),
        QStringLiteral("N"));
    parser.addOptions({ listen, dataDir, nodeId, devAuth, authFile, ioThreads, maxFrame, maxBody,
        maxRooms, heartbeat, rateLimit, storageQueue, maxOutbound, headerTimeout, redis,
        redisHistory, redisDedupeTtl, presenceMax, retainCount, retainAge, dedupeWindow,
        pollTimeout, sseKeepAlive, presenceTtl, redisHistoryAge });
    // HTTP transport limits (docs/security.md).
    parser.addOptions({ maxHeader, maxSessionBody, logRate });
    const QCommandLineOption helloTimeout(QStringLiteral("hello-timeout-ms"),
        QStringLiteral("Time a WebSocket connection has to send hello after the upgrade; then it "
                       "is closed with 4005 (default 10000)."),
        QStringLiteral("MS"));
    const QCommandLineOption frameTimeout(QStringLiteral("frame-timeout-ms"),
        QStringLiteral("Time a WebSocket frame may be in progress, plus one second per "
                       "--min-frame-rate bytes received; slower frames close with 4006 "
                       "(default 5000)."),
        QStringLiteral("MS"));
    const QCommandLineOption minFrameRate(QStringLiteral("min-frame-rate"),
        QStringLiteral("Bytes per second a WebSocket frame in progress must average once "
                       "--frame-timeout-ms has passed (default 1024)."),
        QStringLiteral("BYTES"));
    const QCommandLineOption stallTimeout(QStringLiteral("stall-timeout-ms"),
        QStringLiteral("A WebSocket client whose unread output is over --max-outbound-bytes is "
                       "not read; it is closed with 4003 when none of that output is written for "
                       "this long (default 10000)."),
        QStringLiteral("MS"));
    // WebSocket limits (docs/security.md).
    parser.addOptions({ helloTimeout, frameTimeout, minFrameRate, stallTimeout });
    // Connection and session caps (docs/security.md).
    const QCommandLineOption maxConnections(QStringLiteral("max-connections"),
        QStringLiteral("TCP connections held at once, of every kind; more are answered 503 "
                       "with Retry-After (WebSocket: close 4007) (default: the open-file limit "
                       "less %1).")
            .arg(kReservedDescriptors),
        QStringLiteral("N"));
    const QCommandLineOption maxConnectionsPerIp(QStringLiteral("max-connections-per-ip"),
        QStringLiteral("TCP connections from one IPv4 address or IPv6 /64 at once; more are "
                       "answered 429 with Retry-After (WebSocket: close 4007). Behind a balancer "
                       "every client has its address: raise it or use 0 (default 1000, 0: no "
                       "limit)."),
        QStringLiteral("N"));
    const QCommandLineOption maxSessionsPerUser(QStringLiteral("max-sessions-per-user"),
        QStringLiteral("Sessions one user holds on this node at once; another hello gets "
                       "'overloaded' and close 4007 (HTTP: 429 with Retry-After) (default 64, "
                       "0: no limit)."),
        QStringLiteral("N"));
    const QCommandLineOption sessionRatePerIp(QStringLiteral("session-rate-per-ip"),
        QStringLiteral("New HTTP sessions (POST /v1/session) per second from one IPv4 address "
                       "or IPv6 /64, in bursts of 5 s worth; more are answered 429 with "
                       "Retry-After (default 20, 0: no limit)."),
        QStringLiteral("N"));
    const QCommandLineOption httpAttachTimeout(QStringLiteral("http-attach-timeout-ms"),
        QStringLiteral("Time an HTTP session has to attach its first event stream or poll; "
                       "then it is closed (default 10000)."),
        QStringLiteral("MS"));
    parser.addOptions(
        { maxConnections, maxConnectionsPerIp, maxSessionsPerUser, sessionRatePerIp,
            httpAttachTimeout });

    auto usageError = [&parser](const QString& message) {
        return Exit { 2, QStringLiteral("parleyd: %1\n\n%2").arg(message, parser.helpText()) };
    };

    if (!parser.parse(arguments)) {
        return usageError(parser.errorText());
    }
    if (parser.isSet(helpOption)) {
        return Exit { 0, parser.helpText() };
    }
    if (parser.isSet(versionOption)) {
        return Exit { 0, QStringLiteral("parleyd %1\n").arg(QStringLiteral(PARLEY_VERSION)) };
    }
    if (!parser.positionalArguments().isEmpty()) {
        return usageError(QStringLiteral("unexpected argument '%1'")
                              .arg(parser.positionalArguments().constFirst()));
    }

    ServerConfig config;
    if (parser.isSet(listen) && !parseListen(parser.value(listen), &config.host, &config.port)) {
        return usageError(
            QStringLiteral("--listen wants HOST:PORT, got '%1'").arg(parser.value(listen)));
    }
    if (parser.isSet(dataDir)) {
        config.dataDir = parser.value(dataDir);
        if (config.dataDir.isEmpty()) {
            return usageError(QStringLiteral("--data-dir must not be empty"));
        }
    }
    if (parser.isSet(nodeId)) {
        config.nodeId = parser.value(nodeId);
        static const QRegularExpression valid(QStringLiteral("^[A-Za-z0-9._-]{1,64}$"));
        if (!valid.match(config.nodeId).hasMatch()) {
            return usageError(
                QStringLiteral("--node-id must be 1-64 characters of [A-Za-z0-9._-]"));
        }
    }
    config.devAuth = parser.isSet(devAuth);
    config.authFile = parser.value(authFile);
    if (parser.isSet(authFile) && config.authFile.isEmpty()) {
        return usageError(QStringLiteral("--auth-file must name a file"));
    }

    struct Numeric {
        const QCommandLineOption& option;
        std::uint32_t min;
        std::uint32_t max;
        std::uint32_t* target;
    };
    std::uint32_t threads = 0;
    const Numeric numerics[] = {
        { ioThreads, 1, 256, &threads },
        { maxFrame, 256, 16 * 1024 * 1024, &config.maxFrameBytes },
        { maxBody, 1, 16 * 1024 * 1024, &config.maxBodyBytes },
        { maxRooms, 1, 100000, &config.maxRooms },
        { heartbeat, 50, 3600 * 1000, &config.heartbeatMs },
        { rateLimit, 1, 1000000, &config.rateLimit },
        { storageQueue, 1, 10000000, &config.storageQueue },
        { maxOutbound, 1024, 1024 * 1024 * 1024, &config.maxOutboundBytes },
        { headerTimeout, 10, 3600 * 1000, &config.headerTimeoutMs },
        { presenceMax, 0, 10000000, &config.presenceMaxMembers },
        { redisHistory, 1, 100000000, &config.redisHistory },
        { redisDedupeTtl, 1, 365 * 86400, &config.redisDedupeTtlS },
        { presenceTtl, 1, 86400, &config.presenceTtlS },
        { redisHistoryAge, 0, 4000000000U, &config.redisHistoryAgeS },
        { retainCount, 0, 4000000000U, &config.historyRetainCount },
        { retainAge, 0, 4000000000U, &config.historyRetainAgeS },
        { dedupeWindow, 1, 4000000000U, &config.dedupeWindowS },
        { pollTimeout, 10, 25000, &config.pollTimeoutMs },
        { sseKeepAlive, 10, 3600 * 1000, &config.sseKeepAliveMs },
        { maxHeader, 1024, 1024 * 1024, &config.maxHeaderBytes },
        { maxSessionBody, 256, 16 * 1024 * 1024, &config.maxSessionBodyBytes },
        { logRate, 0, 1000000, &config.logRateLimit },
        { helloTimeout, 10, 3600 * 1000, &config.helloTimeoutMs },
        { frameTimeout, 10, 3600 * 1000, &config.frameTimeoutMs },
        { minFrameRate, 1, 1024 * 1024 * 1024, &config.minFrameRate },
        { stallTimeout, 10, 3600 * 1000, &config.stallTimeoutMs },
        // Connection and session caps.
        { maxConnections, 1, 100000000, &config.maxConnections },
        { maxConnectionsPerIp, 0, 100000000, &config.maxConnectionsPerIp },
        { maxSessionsPerUser, 0, 100000000, &config.maxSessionsPerUser },
        { sessionRatePerIp, 0, 1000000, &config.sessionRatePerIp },
        { httpAttachTimeout, 10, 3600 * 1000, &config.httpAttachTimeoutMs },
    };
    for (const Numeric& n : numerics) {
        if (parser.isSet(n.option) && !parseUInt(parser.value(n.option), n.min, n.max, n.target)) {
            return usageError(QStringLiteral("--%1 wants a number in %2..%3, got '%4'")
                                  .arg(n.option.names().constFirst())
                                  .arg(n.min)
                                  .arg(n.max)
                                  .arg(parser.value(n.option)));
        }
    }
    config.ioThreads = int(threads);
    if (parser.isSet(redis)) {
        config.redisUrl = parser.value(redis);
        if (!RedisEndpoint::fromUrl(config.redisUrl)) {
            return usageError(QStringLiteral("--redis wants redis://HOST:PORT[/DB], got '%1'")
                                  .arg(config.redisUrl));
        }
    }
    if (config.maxBodyBytes >= config.maxFrameBytes) {
        return usageError(
            QStringLiteral("--max-body-bytes must be smaller than --max-frame-bytes"));
    }
    if (!config.devAuth && config.authFile.isEmpty()) {
        return Exit { 2,
            QStringLiteral("parleyd: refusing to start without authentication: pass --auth-file "
                           "FILE (lines 'user token') or, for development only, --dev-auth "
                           "(accepts any user name)\n") };
    }
    return config;
}

std::uint32_t ServerConfig::effectiveMaxConnections() const
{
    if (maxConnections > 0) {
        return maxConnections;
    }
    rlimit limit {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
        return 100000;
    }
    const rlim_t open = std::min<rlim_t>(limit.rlim_cur, 100000000);
    return std::uint32_t(std::max<rlim_t>(64, open > kReservedDescriptors ? open - kReservedDescriptors : 0));
}

int ServerConfig::effectiveIoThreads() const
{
    if (ioThreads > 0) {
        return ioThreads;
    }
    return std::max(1, QThread::idealThreadCount());
}

} // namespace parley::server
