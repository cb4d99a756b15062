// RedisBroker: the Broker of a cluster. Every node of the cluster shares one Redis; Redis is the
// authority for each room's seq, history, dedupe records and epoch, and Pub/Sub fans messages
// out to the nodes that have members of the room.
//
// Keys: every key of a room shares the hash tag {room}, so the scripts run unchanged on Redis
// Cluster: parley:{ROOM}:seq (last seq), :epoch (SETNX-like, created once), :hist (a stream,
// entry id "<seq>-0", capped by count and optionally by age), :dd:<len>:<sender>:<client_id>
// (dedupe, with a TTL; holds the original message) and the channel parley:{ROOM}:ch.
//
// Publish: one Lua script (EVALSHA, re-loaded on NOSCRIPT) does, atomically, epoch creation,
// dedupe lookup, INCR of the seq, XADD to the history, the dedupe record and PUBLISH; the sender
// is answered after it succeeded. A script that may have run without a reply (timeout, lost link)
// is answered `unavailable`: the client's resend with the same client id is deduped.
//
// Delivery: a room is subscribed while the hub has it open (local members). Once Redis confirms
// the subscription, the room's position is read (so every message after it arrives on the
// channel); messages are buffered by seq and handed over contiguously; a gap (a message published
// while the subscriber link was down, or out-of-order arrival) is filled from the history. After a
// re-subscription the position is read again and anything missed is fetched from the history.
// The ordering rules are RoomSequencer's (roomsequencer.h); this class does the Redis I/O.
//
// Threading: the object lives on its own thread (the broker thread); the Broker methods post to
// it. Its Redis links are created there by start().
#pragma once

#include "broker.h"
#include "roomsequencer.h"
#include "redis/redisendpoint.h"
#include "redis/redisscript.h"

#include <QObject>
#include <atomic>
#include <map>
#include <unordered_map>

namespace parley::server {

class RedisClient;
class RedisReply;
class RedisSubscriber;

class RedisBroker : public QObject, public Broker {
public:
    struct Options {
        RedisEndpoint endpoint;
        std::uint32_t historyMax = 10000; //!< messages kept per room (approximate trim)
        std::uint32_t historyMaxAgeS = 0; //!< age of the oldest message kept; 0: any age
        std::uint32_t dedupeTtlS = 86400; //!< how long a (sender, client id) is remembered
        std::uint32_t queueLimit = 10000; //!< requests in flight before `overloaded`
    };

    explicit RedisBroker(Options options);
    ~RedisBroker() override;

    //! Thread-safe, after moveToThread(): creates the links on the broker thread and connects.
    void start();
    //! Must run on the broker thread: closes the links (pending requests fail).
    void stopLinks();

    void setDeliveredHandler(DeliveredHandler handler) override
    {
        m_delivered = std::move(handler);
    }
    bool tryReserve() override;
    void append(AppendRequest request, AppendDone done) override;
    void openRoom(std::string room, RoomDone done) override;
    void closeRoom(std::string room) override;
    void read(HistoryQuery query, HistoryDone done) override;
    bool deliversAllRooms() const override { return false; }
    bool isHealthy() const override { return m_healthy.load(std::memory_order_relaxed); }
    const char* kind() const override { return "redis"; }

private:
    struct RoomState {
        RoomSequencer order; // what was delivered, what waits behind a hole
        bool fetching = false; // a history read of the hole is in flight
        std::vector<RoomDone> waiting; // openRoom() callers
    };

    void doOpenRoom(const std::string& room, RoomDone done);
    void readPosition(const std::string& room);
    void onPosition(const std::string& room, const RedisReply& reply);
    void onChannelMessage(const QByteArray& channel, const QByteArray& payload);
    void drain(const std::string& room, RoomState& state);
    void fetchGap(const std::string& room, RoomState& state, std::uint64_t to);
    void runHistory(const HistoryQuery& query, HistoryDone done);
    void updateHealth();
    void failUnpositionedRooms();
    void release();

    Options m_options;
    RedisScript m_publishScript;
    RedisScript m_positionScript;
    RedisScript m_historyScript;
    RedisClient* m_client = nullptr; // children, created on the broker thread
    RedisSubscriber* m_subscriber = nullptr;
    DeliveredHandler m_delivered;
    std::unordered_map<std::string, RoomState> m_rooms;
    std::atomic<int> m_inFlight { 0 };
    std::atomic<bool> m_healthy { false };
};

} // namespace parley::server
