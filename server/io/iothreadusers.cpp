// IoThread: frames addressed to users rather than to one room's stream (presence transitions).
#include "common/post.h"
#include "iothread.h"
#include "session/session.h"

namespace parley::server {

void IoThread::deliverToRooms(std::vector<std::string> rooms, QString frame)
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

} // namespace parley::server
