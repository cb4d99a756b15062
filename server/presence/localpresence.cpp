#include "localpresence.h"

#include "common/clock.h"
#include "common/post.h"

#include <algorithm>

namespace parley::server {

LocalPresence::LocalPresence(std::int64_t ttlMs, std::size_t maxRoomUsers)
    : m_ttlMs(ttlMs)
    , m_maxRoomUsers(maxRoomUsers)
{
    m_sweepTimer.setParent(this);
    m_sweepTimer.setInterval(1000);
    QObject::connect(&m_sweepTimer, &QTimer::timeout, this, [this] { sweep(monotonicMs()); });
}

void LocalPresence::start()
{
    post(this, [this] { m_sweepTimer.start(); });
}

void LocalPresence::sessionAlive(
    std::string session, std::string user, std::vector<std::string> rooms, std::int64_t quietMs)
{
    const std::int64_t expiresMs = monotonicMs() - std::max<std::int64_t>(quietMs, 0) + m_ttlMs;
    post(this,
        [this, session = std::move(session), user = std::move(user), rooms = std::move(rooms),
            expiresMs]() mutable { doAlive(session, user, std::move(rooms), expiresMs); });
}

void LocalPresence::sessionDown(std::string session, std::string user)
{
    Q_UNUSED(user);
    post(this, [this, session = std::move(session)] { remove(session); });
}

void LocalPresence::query(std::vector<std::string> users, QueryDone done)
{
    post(this, [this, users = std::move(users), done = std::move(done)] {
        // Sessions past their expiry that the sweep has not reached yet are not online.
        sweep(monotonicMs());
        std::vector<bool> online;
        online.reserve(users.size());
        for (const std::string& user : users) {
            online.push_back(m_users.contains(user));
        }
        done(true, std::move(online));
    });
}

void LocalPresence::doAlive(const std::string& session, const std::string& user,
    std::vector<std::string> rooms, std::int64_t expiresMs)
{
    if (expiresMs <= monotonicMs()) {
        return; // silent for longer than the ttl: not alive, the sweep ends it
    }
    const auto it = m_sessions.find(session);
    if (it != m_sessions.end() && it->second.user != user) {
        remove(session); // a key reused for another user: not expected, but keep the maps exact
    }
    const std::unordered_set<std::string> before = roomsOf(user); // empty while offline
    SessionInfo& info = m_sessions[session];
    if (info.expiresMs != 0) {
        m_expiries.erase({ info.expiresMs, session });
    }
    info.user = user;
    info.expiresMs = expiresMs;
    m_expiries.emplace(expiresMs, session);
    m_users[user].insert(session);
    info.rooms = std::move(rooms);
    recount(before, roomsOf(user));
    // The rooms the user entered are among this session's (only its rooms changed); in its
    // order, each once, and only the small ones.
    Transition transition { user, true, {} };
    std::unordered_set<std::string> entered;
    for (const std::string& room : info.rooms) {
        if (!before.contains(room) && entered.insert(room).second
            && usersIn(room) <= m_maxRoomUsers) {
            transition.rooms.push_back(room);
        }
    }
    if (!transition.rooms.empty() && m_handler) {
        m_handler(transition);
    }
}

void LocalPresence::remove(const std::string& session)
{
    const auto it = m_sessions.find(session);
    if (it == m_sessions.end()) {
        return;
    }
    const std::unordered_set<std::string> before = roomsOf(it->second.user);
    SessionInfo info = std::move(it->second);
    m_sessions.erase(it);
    m_expiries.erase({ info.expiresMs, session });
    const auto userIt = m_users.find(info.user);
    if (userIt == m_users.end()) {
        return;
    }
    userIt->second.erase(session);
    if (!userIt->second.empty()) {
        recount(before, roomsOf(info.user)); // still online through another session
        return;
    }
    m_users.erase(userIt);
    // Counted before the user leaves the rooms (the same rule as RoomHub's presence frames).
    Transition transition { info.user, false, {} };
    std::unordered_set<std::string> left;
    for (const std::string& room : info.rooms) {
        if (left.insert(room).second && usersIn(room) <= m_maxRoomUsers) {
            transition.rooms.push_back(room);
        }
    }
    recount(before, {});
    if (!transition.rooms.empty() && m_handler) {
        m_handler(transition);
    }
}

void LocalPresence::sweep(std::int64_t nowMs)
{
    while (!m_expiries.empty() && m_expiries.begin()->first <= nowMs) {
        const std::string session = m_expiries.begin()->second;
        remove(session);
    }
}

std::unordered_set<std::string> LocalPresence::roomsOf(const std::string& user) const
{
    std::unordered_set<std::string> rooms;
    const auto it = m_users.find(user);
    if (it == m_users.end()) {
        return rooms;
    }
    for (const std::string& session : it->second) {
        const auto s = m_sessions.find(session);
        if (s != m_sessions.end()) {
            rooms.insert(s->second.rooms.begin(), s->second.rooms.end());
        }
    }
    return rooms;
}

std::size_t LocalPresence::usersIn(const std::string& room) const
{
    const auto it = m_roomUsers.find(room);
    return it == m_roomUsers.end() ? 0 : it->second;
}

void LocalPresence::recount(
    const std::unordered_set<std::string>& before, const std::unordered_set<std::string>& after)
{
    for (const std::string& room : after) {
        if (!before.contains(room)) {
            ++m_roomUsers[room];
        }
    }
    for (const std::string& room : before) {
        if (!after.contains(room)) {
            const auto it = m_roomUsers.find(room);
            if (it != m_roomUsers.end() && --it->second == 0) {
                m_roomUsers.erase(it);
            }
        }
    }
}

} // namespace parley::server
