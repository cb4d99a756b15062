#include "server.h"

#include "auth/authenticator.h"
#include "broker/localbroker.h"
#include "broker/redisbroker.h"
#include "caps/caps.h"
#include "common/ids.h"
#include "common/loglimiter.h"
#include "common/post.h"
#include "eventdispatcherfactory.h"
#include "http/httprequest.h"
#include "hub/roomhub.h"
#include "io/iothread.h"
#include "listener/listener.h"
#include "presence/localpresence.h"
#include "presence/redispresence.h"
#include "protocol/codec.h"
#include "routing/noderouter.h"
#include "storage/sqlitemessagestore.h"
#include "storage/storageworker.h"
#include "workerthread.h"

#include <QCoreApplication>
#include <QDir>
#include <QHostAddress>
#include <QLoggingCategory>
#include <QThread>

namespace parley::server {

Q_LOGGING_CATEGORY(lcServer, "parley.server", QtInfoMsg)

namespace {

// Every thread parleyd starts gets the dispatcher the main thread has (epoll unless
// PARLEY_EVENT_DISPATCHER=qt): must be called before QThread::start().
void installDispatcher(QThread* thread)
{
    if (auto dispatcher = createEventDispatcher()) {
        thread->setEventDispatcher(dispatcher.release());
    }
}

} // namespace

Server::Server(const ServerConfig& config, QObject* parent)
    : QObject(parent)
{
    m_context.config = config;
}

Server::~Server()
{
    delete m_listener;
    stopThreads();
}

bool Server::start(QString* error)
{
    const ServerConfig& config = m_context.config;
    LogLimiter::setLinesPerSecond(int(config.logRateLimit));
    m_context.nodeId
        = config.nodeId.isEmpty() ? "node-" + randomHex(4) : config.nodeId.toStdString();

    if (!config.authFile.isEmpty()) {
        auto auth = Authenticator::fromFile(config.authFile, error);
        if (!auth) {
            return false;
        }
        if (config.devAuth) {
            qCWarning(lcServer)
                << "event=config_warning message=\"--auth-file given: --dev-auth ignored\"";
        }
        m_auth = std::make_unique<Authenticator>(std::move(*auth));
    } else {
        m_auth = std::make_unique<Authenticator>(Authenticator::devMode());
        qCWarning(lcServer)
            << "event=config_warning message=\"--dev-auth: any user name is accepted\"";
    }
    m_context.auth = m_auth.get();
    m_caps = std::make_unique<Caps>(config.effectiveMaxConnections(), config.maxConnectionsPerIp,
        config.maxSessionsPerUser, config.sessionRatePerIp);
    m_context.caps = m_caps.get();

    m_context.decodeLimits.maxFrameBytes = config.maxFrameBytes;
    m_context.decodeLimits.maxBodyBytes = config.maxBodyBytes;
    m_context.decodeLimits.maxHistoryLimit = config.maxHistoryLimit;
    m_context.limits.maxFrameBytes = config.maxFrameBytes;
    m_context.limits.maxBodyBytes = config.maxBodyBytes;
    m_context.limits.maxRooms = config.maxRooms;
    m_context.limits.maxHistoryLimit = config.maxHistoryLimit;

    std::vector<RoomPosition> rooms;
    QString dbPath;
    if (!config.redisUrl.isEmpty()) {
        // Cluster: Redis is the authority for seqs, history and fanout; no local storage.
        RedisBroker::Options options;
        options.endpoint = *RedisEndpoint::fromUrl(config.redisUrl);
        options.historyMax = config.redisHistory;
        options.historyMaxAgeS = config.redisHistoryAgeS;
        options.dedupeTtlS = config.redisDedupeTtlS;
        options.queueLimit = config.storageQueue;
        m_redisBroker = new RedisBroker(options);
        m_context.broker = m_redisBroker;
        dbPath = QStringLiteral("redis:") + options.endpoint.toUrl();
    } else {
        // Storage thread: the store is opened there, so only that thread ever touches the
        // database.
        dbPath = QDir(config.dataDir).filePath(QStringLiteral("parley.db"));
        Retention retention;
        retention.maxCount = config.historyRetainCount;
        retention.maxAgeMs = std::int64_t(config.historyRetainAgeS) * 1000;
        retention.dedupeWindowMs = std::int64_t(config.dedupeWindowS) * 1000;
        m_storage = new StorageWorker(
            std::make_unique<SqliteMessageStore>(dbPath, retention), config.storageQueue);
        m_localBroker = std::make_unique<LocalBroker>(m_storage);
        m_context.storage = m_storage;
        m_context.broker = m_localBroker.get();
    }
    m_hub = new RoomHub(m_context.broker, config.presenceMaxMembers);
    m_context.hub = m_hub;
    RoomHub* hub = m_hub;
    m_context.broker->setDeliveredHandler(
        [hub](std::vector<protocol::Message> messages) { hub->publish(std::move(messages)); });

    if (m_storage) {
        m_storageThread = new WorkerThread(QStringLiteral("storage"));
        m_storage->moveToThread(m_storageThread);
        installDispatcher(m_storageThread);
        m_storageThread->start();
        std::string openError;
        StorageWorker* storage = m_storage;
        QMetaObject::invokeMethod(
            m_storage, [&] { openError = storage->openStore(&rooms); },
            Qt::BlockingQueuedConnection);
        if (!openError.empty()) {
            *error
                = QStringLiteral("cannot open storage: %1").arg(QString::fromStdString(openError));
            return false;
        }
        m_hub->loadRooms(rooms);
    }
    if (m_redisBroker) {
        m_brokerThread = new WorkerThread(QStringLiteral("broker"));
        m_redisBroker->moveToThread(m_brokerThread);
        installDispatcher(m_brokerThread);
        m_brokerThread->start();
        // Connects in the background: the node starts even while Redis is unreachable (/healthz
        // says so) and serves as soon as it appears.
        m_redisBroker->start();
    }

    m_hubThread = new WorkerThread(QStringLiteral("hub"));
    m_hub->moveToThread(m_hubThread);
    installDispatcher(m_hubThread);
    m_hubThread->start();

    const int threads = config.effectiveIoThreads();
    for (int i = 0; i < threads; ++i) {
        auto* thread = new QThread;
        thread->setObjectName(QStringLiteral("io-%1").arg(i));
        installDispatcher(thread);
        auto* io = new IoThread(i, m_context);
        io->moveToThread(thread);
        connect(thread, &QThread::finished, io, &QObject::deleteLater);
        thread->start();
        m_ioThreadHandles.push_back(thread);
        m_ioThreads.push_back(io);
    }

    m_context.ioThreads = m_ioThreads;
    startPresence(); // before the first session: sessions report to it
    m_listener = new Listener(m_ioThreads);
    const QHostAddress address = config.host == QLatin1String("localhost")
        ? QHostAddress(QHostAddress::LocalHost)
        : QHostAddress(config.host);
    if (!m_listener->start(address, config.port)) {
        *error = QStringLiteral("cannot listen on %1:%2: %3")
                     .arg(config.host)
                     .arg(config.port)
                     .arg(m_listener->errorString());
        return false;
    }
    qCInfo(lcServer).noquote().nospace()
        << "event=started node=" << QString::fromStdString(m_context.nodeId)
        << " listen=" << listenAddress() << " io_threads=" << threads
        << " dispatcher=" << eventDispatcherName(QCoreApplication::eventDispatcher())
        << " rooms=" << rooms.size() << " data=" << dbPath
        << " max_connections=" << m_caps->connections.maxConnections()
        << " max_connections_per_ip=" << config.maxConnectionsPerIp
        << " max_sessions_per_user=" << config.maxSessionsPerUser
        << " session_rate_per_ip=" << config.sessionRatePerIp;
    return true;
}

void Server::startPresence()
{
    const ServerConfig& config = m_context.config;
    const std::int64_t ttlMs = std::int64_t(config.presenceTtlS) * 1000;
    QObject* object = nullptr;
    if (m_redisBroker) {
        auto presence = std::make_unique<RedisPresence>(
            *RedisEndpoint::fromUrl(config.redisUrl), ttlMs, config.presenceMaxMembers);
        object = presence.get();
        m_presence = std::move(presence);
    } else {
        auto presence = std::make_unique<LocalPresence>(ttlMs, config.presenceMaxMembers);
        object = presence.get();
        m_presence = std::move(presence);
    }
    m_context.presence = m_presence.get();
    // Transitions are announced to the members of the user's rooms on this node: the frame is
    // serialised once and every I/O thread picks its own members. The manager names only rooms
    // within --presence-max-members (as RoomHub does for `presence`), so one transition costs
    // about rooms x that many recipients at most, never a walk over a big room's members.
    ServerContext* context = &m_context;
    m_presence->setTransitionHandler([context](const PresenceManager::Transition& transition) {
        const TextFrame frame = TextFrame::fromUtf8(
            protocol::encode(protocol::UserPresence { transition.user, transition.online }));
        for (IoThread* io : context->ioThreads) {
            io->deliverToRooms(transition.rooms, frame);
        }
    });
    m_presenceThread = new WorkerThread(QStringLiteral("presence"));
    object->moveToThread(m_presenceThread);
    if (m_redisBroker) {
        // The router shares the presence thread: both are light, and it reads presence's keys.
        m_router = new NodeRouter(*RedisEndpoint::fromUrl(config.redisUrl), m_context.nodeId);
        m_router->setCommandsHandler([context](QByteArray text, QList<QString> frames,
                                         NodeRouter::StatusDone reply) {
            const std::optional<SessionToken> token = SessionToken::parse(text);
            if (!token || context->ioThreads.empty()) {
                reply(404);
                return;
            }
            context->ioThreads.front()->runCommands(*token, std::move(frames), std::move(reply));
        });
        m_router->setEndSessionHandler([context](QByteArray text, NodeRouter::StatusDone reply) {
            const std::optional<SessionToken> token = SessionToken::parse(text);
            if (!token || context->ioThreads.empty()) {
                reply(404);
                return;
            }
            context->ioThreads.front()->endSession(*token, std::move(reply));
        });
        m_router->setRelayHandlers(
            [context](QByteArray text, bool stream, QByteArray cursor, RelayLink link) {
                const std::optional<SessionToken> token = SessionToken::parse(text);
                if (!token || context->ioThreads.empty()) {
                    context->router->sendRelay(link, 404, 0, {}, true, {});
                    return;
                }
                context->ioThreads.front()->attachRelay(*token, stream, cursor, link);
            },
            [context](QByteArray text, RelayLink link) {
                const std::optional<SessionToken> token = SessionToken::parse(text);
                if (token && !context->ioThreads.empty()) {
                    context->ioThreads.front()->detachRelay(*token, link);
                }
            });
        m_router->setUserFrameHandler([context](std::string user, QString json) {
            const TextFrame frame = TextFrame::fromUtf8(json.toUtf8());
            for (IoThread* io : context->ioThreads) {
                io->deliverToUser(user, frame);
            }
        });
        m_router->moveToThread(m_presenceThread);
        m_context.router = m_router;
    }
    installDispatcher(m_presenceThread);
    m_presenceThread->start();
    if (auto* redis = dynamic_cast<RedisPresence*>(m_presence.get())) {
        redis->start();
    } else if (auto* local = dynamic_cast<LocalPresence*>(m_presence.get())) {
        local->start();
    }
    if (m_router) {
        m_router->start();
    }
}

void Server::stopPresence()
{
    if (!m_presenceThread) {
        return;
    }
    if (auto* redis = dynamic_cast<RedisPresence*>(m_presence.get())) {
        QMetaObject::invokeMethod(
            redis, [redis] { redis->stopLinks(); }, Qt::BlockingQueuedConnection);
    }
    if (NodeRouter* router = m_router) {
        QMetaObject::invokeMethod(
            router, [router] { router->stopLinks(); }, Qt::BlockingQueuedConnection);
    }
    m_presenceThread->stopLoop();
}

QString Server::listenAddress() const
{
    if (!m_listener) {
        return {};
    }
    const QHostAddress address = m_listener->serverAddress();
    const QString host = address.protocol() == QAbstractSocket::IPv6Protocol
        ? QStringLiteral("[%1]").arg(address.toString())
        : address.toString();
    return QStringLiteral("%1:%2").arg(host).arg(m_listener->serverPort());
}

void Server::shutdown()
{
    if (m_stopping) {
        return;
    }
    m_stopping = true;
    qCInfo(lcServer) << "event=shutdown_begin";
    if (m_listener) {
        m_listener->close();
    }
    m_draining = int(m_ioThreads.size());
    if (m_draining == 0) {
        ioThreadDrained();
        return;
    }
    ++m_draining; // released below, so a thread finishing synchronously cannot end early
    for (IoThread* io : m_ioThreads) {
        io->shutdown([this] { post(this, [this] { ioThreadDrained(); }); });
    }
    ioThreadDrained();
}

void Server::ioThreadDrained()
{
    if (--m_draining > 0) {
        return;
    }
    qCInfo(lcServer) << "event=sessions_closed";
    const auto finish = [this] {
        stopThreads();
        qCInfo(lcServer) << "event=shutdown_done";
        Q_EMIT stopped();
    };
    if (!m_storage) {
        finish();
        return;
    }
    m_storage->shutdown([this, finish] { post(this, finish); });
}

void Server::stopThreads()
{
    if (m_threadsStopped) {
        return;
    }
    m_threadsStopped = true;
    // Step 1: end the event loops. The hub first: it posts to I/O threads, so it must be stopped
    // before they are deleted (a join still queued on the hub would otherwise answer a dead
    // thread). Events still queued for a stopped thread's objects are dropped with them.
    if (m_hubThread) {
        m_hubThread->stopLoop();
    }
    // Presence next, for the same reason (it posts transitions to I/O threads); its object is
    // destroyed only after the I/O threads, whose sessions post to it until they stop.
    stopPresence();
    // An IoThread is deleted on its own thread as the thread ends (deleteLater on finished).
    for (QThread* thread : m_ioThreadHandles) {
        thread->quit();
    }
    for (QThread* thread : m_ioThreadHandles) {
        thread->wait();
        delete thread;
    }
    m_ioThreadHandles.clear();
    m_ioThreads.clear();
    if (m_storageThread) {
        m_storageThread->stopLoop();
    }
    if (m_brokerThread) {
        RedisBroker* broker = m_redisBroker;
        QMetaObject::invokeMethod(
            broker, [broker] { broker->stopLinks(); }, Qt::BlockingQueuedConnection);
        m_brokerThread->stopLoop();
    }

    // Step 2: no thread processes events any more, so no object is in use: each thread destroys
    // the objects living on it (their timers and socket notifiers can only be stopped there),
    // one thread after the other, objects in the order they always were.
    m_context.presence = nullptr;
    m_context.router = nullptr;
    if (m_presenceThread) {
        m_presenceThread->finish([this] {
            m_presence.reset();
            delete m_router;
            m_router = nullptr;
        });
    }
    delete m_presenceThread;
    m_presenceThread = nullptr;
    if (m_brokerThread) {
        m_brokerThread->finish([this] {
            delete m_redisBroker;
            m_redisBroker = nullptr;
        });
    }
    delete m_brokerThread;
    m_brokerThread = nullptr;
    m_localBroker.reset();
    if (m_hubThread) {
        m_hubThread->finish([this] {
            delete m_hub;
            m_hub = nullptr;
        });
    }
    delete m_hubThread;
    m_hubThread = nullptr;
    if (m_storageThread) {
        m_storageThread->finish([this] {
            delete m_storage;
            m_storage = nullptr;
        });
    }
    delete m_storageThread;
    m_storageThread = nullptr;
    // Objects whose thread was never made (start() failed before) have never run: delete here.
    m_presence.reset();
    delete m_router;
    m_router = nullptr;
    delete m_redisBroker;
    m_redisBroker = nullptr;
    delete m_hub;
    m_hub = nullptr;
    delete m_storage;
    m_storage = nullptr;
}

} // namespace parley::server
