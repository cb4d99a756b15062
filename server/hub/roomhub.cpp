#include "roomhub.h"

#include "broker/broker.h"
#include "common/post.h"
#include "protocol/codec.h"

#include <QLoggingCategory>

namespace parley::server {

Q_LOGGING_CATEGORY(lcHub, "parley.hub", QtInfoMsg)

namespace {

TextFrame serialise(const protocol::ServerFrame& frame)
{
    return TextFrame::fromUtf8(protocol::encode(frame));
}

} // namespace

RoomHub::RoomHub(Broker* broker, std::size_t presenceMaxMembers)
    : m_broker(broker)
    , m_presenceMaxMembers(presenceMaxMembers)
{
}

void RoomHub::loadRooms(const std::vector<RoomPosition>& rooms)
{
    for (const RoomPosition& position : rooms) {
        Room& room = m_rooms[position.room];
        room.ready = true;
        room.epoch = position.epoch;
        room.lastSeq = position.lastSeq;
    }
}

void RoomHub::join(FanoutTarget* target, std::uint64_t sessionId, std::string user,
    std::string room, std::string requestId)
{
    post(this,
        [this, target, sessionId, user = std::move(user), room = std::move(room),
            requestId = std::move(requestId)]() mutable {
            doJoin(target, sessionId, std::move(user), std::move(room), std::move(requestId));
        });
}

void RoomHub::leave(
    FanoutTarget* target, std::uint64_t sessionId, std::string user, std::string room)
{
    post(this, [this, target, sessionId, user = std::move(user), room = std::move(room)] {
        removeMember(target, sessionId, user, room);
    });
}

void RoomHub::disconnect(
    FanoutTarget* target, std::uint64_t sessionId, std::string user, std::vector<std::string> rooms)
{
    post(this, [this, target, sessionId, user = std::move(user), rooms = std::move(rooms)] {
        for (const std::string& room : rooms) {
            removeMember(target, sessionId, user, room);
        }
    });
}

void RoomHub::publish(std::vector<protocol::Message> messages)
{
    post(this, [this, messages = std::move(messages)] {
        const bool allRooms = m_broker->deliversAllRooms();
        for (const protocol::Message& message : messages) {
            if (!allRooms) {
                // Cluster: only rooms opened on this node are delivered; a message that was in
                // flight while its room closed, or before a reopened room's position is known,
                // is covered by that position (the joiners replay or see it live).
                const auto it = m_rooms.find(message.room);
                if (it == m_rooms.end() || !it->second.ready || message.seq <= it->second.lastSeq) {
                    continue;
                }
            }
            Room& room = m_rooms[message.room];
            if (!room.ready) {
                // Only possible if storage created the room on append; adopt its epoch.
                room.ready = true;
                room.epoch = message.epoch;
            }
            room.lastSeq = std::max(room.lastSeq, message.seq);
            if (!room.threads.empty()) {
                // Serialised once here (the whole WebSocket frame); every I/O thread and every
                // recipient shares the same bytes.
                broadcast(message.room, room, message.seq, serialise(message));
            }
        }
    });
}

void RoomHub::doJoin(FanoutTarget* target, std::uint64_t sessionId, std::string user,
    std::string name, std::string requestId)
{
    auto [it, inserted] = m_rooms.try_emplace(name);
    Room& room = it->second;
    PendingJoin join { target, sessionId, std::move(user), std::move(requestId) };
    if (room.ready) {
        admit(name, room, join);
        return;
    }
    room.pending.push_back(std::move(join));
    if (room.pending.size() > 1) {
        return; // creation already requested
    }
    if (!m_broker->tryReserve()) {
        roomCreated(name, false, "storage queue full", {});
        return;
    }
    m_broker->openRoom(name, [this, name](const Broker::RoomReply& reply) {
        // Broker thread: hop back to the hub thread.
        post(this,
            [this, name, reply] { roomCreated(name, reply.ok, reply.error, reply.position); });
    });
}

void RoomHub::roomCreated(
    const std::string& name, bool ok, const std::string& error, const RoomPosition& position)
{
    const auto it = m_rooms.find(name);
    if (it == m_rooms.end()) {
        return;
    }
    Room& room = it->second;
    std::vector<PendingJoin> pending;
    pending.swap(room.pending);
    if (!ok) {
        qCWarning(
            lcHub, "event=room_create_failed room=%s error=\"%s\"", name.c_str(), error.c_str());
        const bool overloaded = error == "storage queue full";
        for (const PendingJoin& join : pending) {
            JoinResult result;
            result.room = name;
            result.requestId = join.requestId;
            result.error
                = overloaded ? protocol::ErrorCode::Overloaded : protocol::ErrorCode::Unavailable;
            result.errorMessage = "join: cannot create the room now: " + error;
            join.target->completeJoin(join.sessionId, std::move(result));
        }
        if (room.sessions.empty()) {
            m_rooms.erase(it);
        }
        return;
    }
    room.ready = true;
    room.epoch = position.epoch;
    room.lastSeq = std::max(room.lastSeq, position.lastSeq);
    for (const PendingJoin& join : pending) {
        admit(name, room, join);
    }
    if (room.sessions.empty() && !m_broker->deliversAllRooms()) {
        // Every joiner left while the room was being opened.
        m_rooms.erase(it);
        m_broker->closeRoom(name);
    }
}

void RoomHub::admit(const std::string& name, Room& room, const PendingJoin& join)
{
    const bool isNewMember = room.sessions.insert(join.sessionId).second;
    bool userCameOnline = false;
    if (isNewMember) {
        ++room.threads[join.target];
        userCameOnline = ++room.users[join.user] == 1;
    }
    JoinResult result;
    result.room = name;
    result.requestId = join.requestId;
    result.ok = true;
    result.epoch = room.epoch;
    result.lastSeq = room.lastSeq;
    result.members.reserve(std::min(room.users.size(), kMaxMembersListed));
    for (const auto& [user, count] : room.users) {
        if (result.members.size() == kMaxMembersListed) {
            break;
        }
        result.members.push_back(user);
    }
    join.target->completeJoin(join.sessionId, std::move(result));
    if (userCameOnline && room.users.size() <= m_presenceMaxMembers) {
        announcePresence(name, room, join.user, true);
    }
}

void RoomHub::removeMember(
    FanoutTarget* target, std::uint64_t sessionId, const std::string& user, const std::string& name)
{
    const auto it = m_rooms.find(name);
    if (it == m_rooms.end()) {
        return;
    }
    Room& room = it->second;
    // A join still waiting for the room's creation is simply dropped.
    std::erase_if(
        room.pending, [&](const PendingJoin& join) { return join.sessionId == sessionId; });
    if (room.sessions.erase(sessionId) == 0) {
        return;
    }
    if (const auto t = room.threads.find(target); t != room.threads.end() && --t->second == 0) {
        room.threads.erase(t);
    }
    if (const auto u = room.users.find(user); u != room.users.end() && --u->second == 0) {
        const bool announce = room.users.size() <= m_presenceMaxMembers; // counted before
        room.users.erase(u);
        if (announce) {
            announcePresence(name, room, user, false);
        }
    }
    if (room.sessions.empty() && room.pending.empty() && !m_broker->deliversAllRooms()) {
        // Cluster: stop receiving the room's channel; a later join opens it again from the
        // authority's position.
        m_rooms.erase(it);
        m_broker->closeRoom(name);
    }
}

void RoomHub::broadcast(
    const std::string& name, Room& room, std::uint64_t seq, const TextFrame& frame)
{
    for (const auto& [target, count] : room.threads) {
        target->deliverToRoom(name, seq, frame);
    }
}

void RoomHub::announcePresence(
    const std::string& name, Room& room, const std::string& user, bool online)
{
    if (room.threads.empty()) {
        return;
    }
    broadcast(name, room, 0, serialise(protocol::Presence { name, user, online }));
}

} // namespace parley::server
