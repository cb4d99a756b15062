// LocalPresence: the PresenceManager of a node running alone: an in-process map of sessions and
// their expiry, swept once a second (presencemanager.h states the contract).
//
// Threading: a QObject living on its own thread (the server moves it there); the public methods
// post to it. Memory: per session its key, user, rooms and expiry; per user the set of sessions;
// per room with online users their count. Work per call: O(the user's sessions x their rooms),
// never a scan of a room's members.
#pragma once

#include "presencemanager.h"

#include <QObject>
#include <QTimer>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace parley::server {

class LocalPresence : public QObject, public PresenceManager {
public:
    //! Sessions live `ttlMs` after their client's last frame; transitions name only rooms of at
    //! most `maxRoomUsers` online users (presencemanager.h).
    LocalPresence(std::int64_t ttlMs, std::size_t maxRoomUsers);

    //! Thread-safe, after moveToThread(): starts the sweep timer on the manager's thread.
    void start();

    void setTransitionHandler(TransitionHandler handler) override
    {
        m_handler = std::move(handler);
    }
    void sessionAlive(std::string session, std::string user, std::vector<std::string> rooms,
        std::int64_t quietMs) override;
    void sessionDown(std::string session, std::string user) override;
    void query(std::vector<std::string> users, QueryDone done) override;
    std::int64_t ttlMs() const override { return m_ttlMs; }
    bool isHealthy() const override { return true; }

    //! Manager thread: ends every session expired at `nowMs` (monotonic). Called by the timer;
    //! public for tests.
    void sweep(std::int64_t nowMs);

private:
    struct SessionInfo {
        std::string user;
        std::vector<std::string> rooms;
        std::int64_t expiresMs = 0;
    };

    void doAlive(const std::string& session, const std::string& user,
        std::vector<std::string> rooms, std::int64_t expiresMs);
    //! Removes the session; announces the user offline if it was their last one.
    void remove(const std::string& session);
    //! Rooms of the user's live sessions.
    std::unordered_set<std::string> roomsOf(const std::string& user) const;
    //! Online users in `room`.
    std::size_t usersIn(const std::string& room) const;
    //! The user's rooms went from `before` to `after`: counts them in, or out of, each room.
    void recount(const std::unordered_set<std::string>& before,
        const std::unordered_set<std::string>& after);

    const std::int64_t m_ttlMs;
    const std::size_t m_maxRoomUsers;
    QTimer m_sweepTimer;
    TransitionHandler m_handler;
    std::unordered_map<std::string, SessionInfo> m_sessions;
    std::unordered_map<std::string, std::unordered_set<std::string>> m_users; // user -> sessions
    std::set<std::pair<std::int64_t, std::string>> m_expiries; // (expiry, session)
    std::unordered_map<std::string, std::size_t> m_roomUsers; // room -> online users in it
};

} // namespace parley::server
