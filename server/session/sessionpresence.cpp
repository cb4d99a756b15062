// Session: its part of presence (presence/presencemanager.h) and the presence query.
#include "app/servercontext.h"
#include "io/iothread.h"
#include "presence/presencemanager.h"
#include "session.h"

#include <algorithm>

namespace parley::server {

std::string Session::presenceKey() const
{
    return m_io.context().nodeId + "/" + std::to_string(m_id);
}

void Session::reportAlive(std::int64_t nowMs)
{
    PresenceManager* presence = m_io.context().presence;
    if (!presence || m_state != State::Welcomed) {
        return;
    }
    std::vector<std::string> rooms;
    rooms.reserve(m_rooms.size());
    for (const auto& [room, state] : m_rooms) {
        if (state.phase != Phase::Joining) {
            rooms.push_back(room);
        }
    }
    m_presenceReportedMs = nowMs;
    presence->sessionAlive(presenceKey(), m_user, std::move(rooms), nowMs - m_lastSeenMs);
}

void Session::refreshPresence(std::int64_t nowMs)
{
    const PresenceManager* presence = m_io.context().presence;
    if (!presence || m_state != State::Welcomed) {
        return;
    }
    // Every ttl/3 at most; each session has its own interval between ttl/6 and ttl/3 (from its
    // id), so sessions that connected together (a reconnect storm) do not all refresh in the
    // same sweep tick forever after.
    const std::int64_t spread = std::max<std::int64_t>(1, presence->ttlMs() / 6);
    const std::int64_t interval
        = presence->ttlMs() / 3 - std::int64_t(m_id % std::uint64_t(spread));
    if (nowMs - m_presenceReportedMs >= interval) {
        reportAlive(nowMs);
    }
}

void Session::reportDown()
{
    PresenceManager* presence = m_io.context().presence;
    if (presence && m_presenceReportedMs != 0) {
        m_presenceReportedMs = 0;
        presence->sessionDown(presenceKey(), m_user);
    }
}

void Session::handle(Ticket ticket, const protocol::PresenceQuery& query)
{
    PresenceManager* presence = m_io.context().presence;
    if (!presence) {
        replyError(ticket, query.id, protocol::ErrorCode::Unavailable, "presence: not available");
        return;
    }
    IoThread* io = &m_io;
    const std::uint64_t id = m_id;
    presence->query(query.users,
        [io, id, ticket, requestId = query.id, users = query.users](
            bool ok, std::vector<bool> online) {
            io->runOnSession(id, [ticket, requestId, users, ok, online](Session& session) {
                if (session.isClosing()) {
                    return;
                }
                if (!ok || online.size() != users.size()) {
                    session.replyError(ticket, requestId, protocol::ErrorCode::Unavailable,
                        "presence: cannot read presence now, retry");
                    return;
                }
                protocol::PresenceState state;
                state.id = requestId;
                state.users.reserve(users.size());
                for (std::size_t i = 0; i < users.size(); ++i) {
                    state.users.push_back(protocol::UserPresence { users[i], online[i] });
                }
                session.reply(ticket, state);
            });
        });
}

} // namespace parley::server
