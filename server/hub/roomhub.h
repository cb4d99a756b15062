// RoomHub: the authority for rooms on this node: which I/O threads have members of which room,
// which users are in it (presence), and each room's epoch and last committed seq.
//
// Threading: the hub lives on its own thread. Its public methods are thread-safe: they post the
// work to the hub thread and return; nothing takes a lock. Results go back through the caller's
// FanoutTarget (an I/O thread), in the order the hub produced them.
//
// Ordering: the hub does not assign seqs (the broker's authority does: the storage inside the
// commit transaction on one node, the Redis script in a cluster — see broker/broker.h). It
// receives delivered messages from the broker in per-room seq order (publish()), updates the room's
// last seq and posts ONE serialised frame per I/O thread that has members of the room. A join is
// answered with the last seq the hub has published; since the join reply and later fan-outs travel
// the same FIFO path to the joiner's thread, the joiner gets exactly the messages after `last_seq`
// live.
//
// Presence: a user's first session joining a room, or last one leaving, is announced to the room
// only while the room has at most `presenceMaxMembers` users (counted after a join, before a
// leave). Announcing every join to everybody makes filling a room of N cost N^2/2 frames
// (15,000 members: 112 M); above the limit members rely on `joined.members` (capped the same
// way) and on history, as large-channel chat servers do. The presence manager applies the same
// limit to `user_presence` (presence/presencemanager.h).
//
// Memory: per room, a map I/O thread -> number of member sessions, user -> number of sessions
// (presence) and the set of member session ids (so a repeated join is idempotent).
#pragma once

#include "fanouttarget.h"
#include "storage/messagestore.h"

#include <QObject>
#include <unordered_map>
#include <unordered_set>

namespace parley::server {

class Broker;

class RoomHub : public QObject {
public:
    //! `joined` frames list at most this many member names (the first ones found).
    static constexpr std::size_t kMaxMembersListed = 1000;

    explicit RoomHub(Broker* broker, std::size_t presenceMaxMembers = kMaxMembersListed);

    //! Before the hub thread starts: the rooms known to storage.
    void loadRooms(const std::vector<RoomPosition>& rooms);

    //! Thread-safe. Adds the session to the room (creating the room in storage first if it is
    //! new) and answers through target->completeJoin(). Joining again is idempotent.
    void join(FanoutTarget* target, std::uint64_t sessionId, std::string user, std::string room,
        std::string requestId);
    //! Thread-safe. Removes the session from the room (no reply).
    void leave(FanoutTarget* target, std::uint64_t sessionId, std::string user, std::string room);
    //! Thread-safe. The session is gone: removes it from all `rooms`.
    void disconnect(FanoutTarget* target, std::uint64_t sessionId, std::string user,
        std::vector<std::string> rooms);
    //! Thread-safe. Messages delivered by the broker, per room in seq order: fan them out.
    void publish(std::vector<protocol::Message> messages);

private:
    struct PendingJoin {
        FanoutTarget* target;
        std::uint64_t sessionId;
        std::string user;
        std::string requestId;
    };
    struct Room {
        bool ready = false; // epoch known (created in storage)
        std::string epoch;
        std::uint64_t lastSeq = 0;
        std::unordered_map<FanoutTarget*, int> threads;
        std::unordered_map<std::string, int> users;
        std::unordered_set<std::uint64_t> sessions;
        std::vector<PendingJoin> pending; // waiting for the room's creation in storage
    };

    void doJoin(FanoutTarget* target, std::uint64_t sessionId, std::string user, std::string room,
        std::string requestId);
    void admit(const std::string& name, Room& room, const PendingJoin& join);
    void removeMember(FanoutTarget* target, std::uint64_t sessionId, const std::string& user,
        const std::string& name);
    void roomCreated(
        const std::string& name, bool ok, const std::string& error, const RoomPosition& position);
    void broadcast(const std::string& name, Room& room, std::uint64_t seq, const TextFrame& frame);
    void announcePresence(
        const std::string& name, Room& room, const std::string& user, bool online);

    Broker* m_broker;
    const std::size_t m_presenceMaxMembers;
    std::unordered_map<std::string, Room> m_rooms;
};

} // namespace parley::server
