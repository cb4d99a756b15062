// PresenceManager: the seam that knows which users are online (centrifuge's PresenceManager). Two
// implementations:
// - LocalPresence: the node alone, an in-process TTL map (the default).
// - RedisPresence: a cluster sharing one Redis (`--redis`); see redispresence.h for the keys.
//
// Model: a user is online while at least one of their sessions is alive. A session is alive
// until its expiry: every sessionAlive() call sets it to `lastSeen + ttl` (the session reports
// how long ago it last heard from its client, so a client that went silent without a goodbye --
// killed, network cut -- expires ttl after its last frame even though its socket looks open).
// Sessions call sessionAlive() on hello, whenever their set of joined rooms changes, and every
// ttl/6..ttl/3 while open (Session::checkTimeouts); sessionDown() when they end.
//
// Contract (what every implementation guarantees):
// - Transitions: the handler is called with {user, online: true, rooms} when a user's first
//   live session appears, or when a live user's sessions join a room none of them was in (the
//   audience: members of `rooms`); with {user, online: false, rooms} when the last session is
//   gone (down, or expired: within ttl + 1 s of the client's last frame; the sweep runs every
//   second), `rooms` then being that last session's rooms.
// - Room size: the manager counts every room's online users (each user once, however many of
//   their sessions are in it; cluster-wide in a cluster). A transition names only the rooms of
//   at most `maxRoomUsers` users, counted with the user (after the join for online, before the
//   leave for offline). So the fan-out of one transition is about rooms x maxRoomUsers users at
//   most (the members when it is delivered), whatever the rooms' sizes: announcing every join of a
//   15,000-member room to all of it would cost N^2/2 frames to fill it. `rooms` is never empty (a
//   transition nobody is told about, or nobody shares a room with, is not reported); maxRoomUsers 0
//   reports none. In a cluster every node receives every transition, in one total order (one Redis
//   channel), and applies its own maxRoomUsers to the cluster-wide counts.
// - query(): the online flag of each name, in the order asked; O(1) per name.
// - Failure: a lost update (Redis unreachable) is repaired by the session's next refresh
//   (ttl/3); a lost sessionDown() lets the session expire (ttl). A query that cannot be answered
//   calls `done` with ok == false (the session answers `unavailable`, retryable).
// - Threading: public methods are thread-safe, never block and return at once (they post to the
//   manager's own thread). Callbacks and the transition handler run on the manager's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace parley::server {

class PresenceManager {
public:
    //! An online/offline change to announce to the members of `rooms` on this node (only rooms
    //! of at most maxRoomUsers online users, see above).
    struct Transition {
        std::string user;
        bool online = false;
        std::vector<std::string> rooms;
    };
    using TransitionHandler = std::function<void(const Transition&)>;
    //! `online[i]` answers `users[i]` of the query; `ok` is false when it could not be answered.
    using QueryDone = std::function<void(bool ok, std::vector<bool> online)>;

    virtual ~PresenceManager() = default;

    //! Set before use.
    virtual void setTransitionHandler(TransitionHandler handler) = 0;

    //! Session `session` (a cluster-unique key) of `user`, currently in `rooms`, is alive and
    //! last heard from its client `quietMs` milliseconds ago: it expires at now - quietMs + ttl.
    //! Creates the session if it is unknown (again).
    virtual void sessionAlive(
        std::string session, std::string user, std::vector<std::string> rooms, std::int64_t quietMs)
        = 0;
    //! The session ended (clean disconnect): the user goes offline at once if it was the last.
    virtual void sessionDown(std::string session, std::string user) = 0;
    //! Online flags of `users` (at most a few hundred names).
    virtual void query(std::vector<std::string> users, QueryDone done) = 0;

    //! Milliseconds a session stays alive after its client's last frame.
    virtual std::int64_t ttlMs() const = 0;
    //! Thread-safe: whether presence works (the Redis link is up). Always true locally.
    virtual bool isHealthy() const = 0;
};

} // namespace parley::server
