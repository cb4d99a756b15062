// RedisPresence: the PresenceManager of a cluster (presencemanager.h states the contract).
//
// Keys, per user (hash tag {u:USER}, so a user's keys share a slot):
//   parley:{u:USER}:ps  sorted set  session -> expiry (ms, Redis clock)
//   parley:{u:USER}:pr  hash        session -> its rooms ("a,b,c")
//   parley:{u:USER}:on  string "1"  with PX = the latest session expiry: the O(1) online flag
// and two global keys: the sorted set parley:presence:exp ("USER|session" -> expiry) that every
// node sweeps once a second, and the hash parley:presence:rooms (room -> online users: each user
// once, on whichever nodes their sessions are); plus the channel parley:presence carrying
// transitions as JSON {"u": user, "o": online, "r": [rooms], "n": [users in each room]}. Every
// node keeps the rooms of at most its maxRoomUsers users (presencemanager.h).
//
// Every change is one Lua script (presencescripts.h) that updates the session's entries and the
// room counts and publishes the transition it causes, atomically, so two nodes can never both
// announce (or both miss) a user's first session or last one. Queries are one MGET over the `on`
// keys.
//
// A node that dies stops refreshing its sessions: they expire and the other nodes' sweeps
// announce the users offline (within ttl + 1 s). While Redis is unreachable updates fail (the
// sessions' next refresh repairs them) and queries answer ok == false.
//
// Threading: a QObject on its own thread; its Redis links (one for commands, one subscribed to
// the channel) are created there by start().
#pragma once

#include "presencemanager.h"
#include "redis/redisendpoint.h"
#include "redis/redisscript.h"

#include <QObject>
#include <QTimer>
#include <atomic>

namespace parley::server {

class RedisClient;
class RedisSubscriber;

class RedisPresence : public QObject, public PresenceManager {
public:
    //! The channel every transition is published on.
    static constexpr const char* kChannel = "parley:presence";
    //! The user's sorted set of live sessions "<node>/<session>" -> expiry (ms, Redis clock);
    //! also the user -> node routing read by routing/noderouter.h.
    static QByteArray sessionsKey(const std::string& user);

    //! Sessions live `ttlMs` after their client's last frame; transitions name only rooms of at
    //! most `maxRoomUsers` online users, cluster-wide (presencemanager.h).
    RedisPresence(RedisEndpoint endpoint, std::int64_t ttlMs, std::size_t maxRoomUsers);
    ~RedisPresence() override;

    //! Thread-safe, after moveToThread(): creates the links on the manager's thread.
    void start();
    //! Must run on the manager's thread: closes the links.
    void stopLinks();

    void setTransitionHandler(TransitionHandler handler) override
    {
        m_handler = std::move(handler);
    }
    void sessionAlive(std::string session, std::string user, std::vector<std::string> rooms,
        std::int64_t quietMs) override;
    void sessionDown(std::string session, std::string user) override;
    void query(std::vector<std::string> users, QueryDone done) override;
    std::int64_t ttlMs() const override { return m_ttlMs; }
    bool isHealthy() const override { return m_healthy.load(std::memory_order_relaxed); }

private:
    void sweep();
    void onChannelMessage(const QByteArray& channel, const QByteArray& payload);
    void updateHealth();

    const RedisEndpoint m_endpoint;
    const std::int64_t m_ttlMs;
    const std::size_t m_maxRoomUsers;
    RedisScript m_aliveScript;
    RedisScript m_downScript;
    RedisScript m_sweepScript;
    RedisClient* m_client = nullptr; // children, created on the manager's thread
    RedisSubscriber* m_subscriber = nullptr;
    QTimer* m_sweepTimer = nullptr;
    bool m_sweeping = false;
    TransitionHandler m_handler;
    std::atomic<bool> m_healthy { false };
};

} // namespace parley::server
