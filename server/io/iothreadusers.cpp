// IoThread: frames addressed to users rather than to one room's stream (presence transitions).
#include "common/post.h"
#include "iothread.h"
#include "session/session.h"

namespace parley::server {

void IoThread::deliverToRooms(std::vector<std::string> rooms, TextFrame frame)
{
    post(this, [this, rooms = std::move(rooms), frame = std::move(frame)] {
        // A session in several of the rooms gets the frame once. It goes through the first room
        // the session is in, so a session replaying that room holds it until the replay ends.
        std::unordered_set<Session*> reached;
        for (const std::string& room : rooms) {
            const auto it = m_rooms.find(room);
            if (it == m_rooms.end()) {
                continue;
            }
            for (Session* session : it->second) {
                if (reached.insert(session).second) {
                    session->deliverLive(room, 0, frame);
                }
            }
        }
    });
}

void IoThread::deliverToUser(std::string user, TextFrame frame)
{
    post(this, [this, user = std::move(user), frame = std::move(frame)] {
        // A scan of this thread's sessions: direct messages are rare next to room traffic; an
        // index user -> sessions would cost memory on every connection.
        for (const auto& [id, session] : m_sessions) {
            if (session->user() == user) {
                session->deliverDirect(frame);
            }
        }
    });
}

} // namespace parley::server
