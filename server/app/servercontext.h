// ServerContext: what every I/O thread and session shares, read-only after start-up (except the
// atomic counters).
#pragma once

#include "protocol/codec.h"
#include "serverconfig.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace parley::server {

class Authenticator;
class Broker;
struct Caps;
class IoThread;
class NodeRouter;
class PresenceManager;
class RoomHub;
class StorageWorker;

struct ServerContext {
    ServerConfig config;
    std::string nodeId;
    protocol::DecodeLimits decodeLimits;
    protocol::ServerLimits limits;
    const Authenticator* auth = nullptr;
    RoomHub* hub = nullptr;
    StorageWorker* storage = nullptr;
    //! Publish, history and room delivery go through the broker (local or Redis).
    Broker* broker = nullptr;
    //! Who is online (local TTL map, or Redis in a cluster).
    PresenceManager* presence = nullptr;
    //! Cluster only (null alone): messages to another node or to a user's nodes.
    NodeRouter* router = nullptr;
    //! Every I/O thread, by index (HTTP requests are routed to the thread owning the session).
    std::vector<IoThread*> ioThreads;
    //! Connection and session caps (thread-safe; caps/caps.h).
    Caps* caps = nullptr;

    //! Open WebSocket sessions on this node (for /healthz).
    std::atomic<int> sessions { 0 };
};

} // namespace parley::server
