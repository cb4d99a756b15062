// Server: wires parleyd together and owns its threads.
//
//   main thread:     Listener (accept only) + this object + signal handling
//   N I/O threads:   IoThread each: sockets, HTTP sniffing, WebSocket sessions
//   hub thread:      RoomHub: room membership, presence, fan-out decisions
//   storage thread:  StorageWorker + SqliteMessageStore: the only code touching the database
//                    (single node: LocalBroker forwards to it)
//   broker thread:   RedisBroker and its Redis links (cluster, --redis; no storage thread then)
//   presence thread: the PresenceManager (LocalPresence, or RedisPresence and its links)
//
// Shutdown (shutdown(), on SIGTERM/SIGINT): stop accepting; every I/O thread closes its sessions
// with 1001 going away and reports when they are gone (bounded grace period); then storage
// commits what is still queued and closes the database; then the threads stop and `stopped`
// is emitted. Stopping is two steps (stopThreads()): every event loop ends, in dependency order;
// then each thread destroys its own objects (workerthread.h says why both are needed).
#pragma once

#include "servercontext.h"

#include <QObject>
#include <memory>
#include <optional>
#include <vector>

class QThread;

namespace parley::server {

class Authenticator;
class Broker;
struct Caps;
class RedisBroker;
class IoThread;
class Listener;
class NodeRouter;
class PresenceManager;
class RoomHub;
class StorageWorker;
class WorkerThread;

class Server : public QObject {
    Q_OBJECT
public:
    explicit Server(const ServerConfig& config, QObject* parent = nullptr);
    ~Server() override;

    //! Opens storage, starts the threads and listens. False with `error` set on failure.
    bool start(QString* error);
    //! "HOST:PORT" actually listened on (the real port when 0 was asked).
    QString listenAddress() const;
    const std::string& nodeId() const { return m_context.nodeId; }

    //! Graceful stop (see above); emits stopped() when done. Safe to call twice.
    void shutdown();

Q_SIGNALS:
    void stopped();

private:
    void ioThreadDrained();
    void stopThreads();
    void startPresence();
    void stopPresence();

    ServerContext m_context;
    std::unique_ptr<Authenticator> m_auth;
    std::unique_ptr<Caps> m_caps; // outlives the I/O threads: their connections hold places
    StorageWorker* m_storage = nullptr;
    std::unique_ptr<Broker> m_localBroker;
    RedisBroker* m_redisBroker = nullptr;
    WorkerThread* m_brokerThread = nullptr;
    std::unique_ptr<PresenceManager> m_presence; // a QObject living on m_presenceThread
    WorkerThread* m_presenceThread = nullptr;
    NodeRouter* m_router = nullptr; // cluster only; lives on m_presenceThread too
    RoomHub* m_hub = nullptr;
    WorkerThread* m_storageThread = nullptr;
    WorkerThread* m_hubThread = nullptr;
    std::vector<QThread*> m_ioThreadHandles;
    std::vector<IoThread*> m_ioThreads;
    Listener* m_listener = nullptr;
    int m_draining = 0;
    bool m_stopping = false;
    bool m_threadsStopped = false;
};

} // namespace parley::server
