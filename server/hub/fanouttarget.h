// FanoutTarget: what the hub needs from an I/O thread. The hub never touches sessions; it talks
// to the thread that owns them, through this interface, from the hub thread.
#pragma once

#include "protocol/frames.h"
#include "websocket/textframe.h"

#include <cstdint>
#include <string>
#include <vector>

namespace parley::server {

//! The hub's answer to a join request.
struct JoinResult {
    std::string room;
    std::string requestId;
    bool ok = false;
    protocol::ErrorCode error = protocol::ErrorCode::Internal; //!< when !ok
    std::string errorMessage;
    std::string epoch;
    std::uint64_t lastSeq = 0;
    std::vector<std::string> members;
};

class FanoutTarget {
public:
    virtual ~FanoutTarget() = default;

    // Both are called on the hub thread; implementations post to their own thread and return at
    // once. Calls reach the target's thread in the order the hub made them (FIFO), which is what
    // keeps "joined before the first live message" and per-room seq order.

    //! Deliver an already serialised frame to every local session that joined `room`.
    //! `seq` is the message's seq, 0 for frames outside the stream (presence). The frame is
    //! shared by every target and recipient (serialised once per fan-out).
    virtual void deliverToRoom(const std::string& room, std::uint64_t seq, TextFrame frame) = 0;
    //! Complete a join request of one local session.
    virtual void completeJoin(std::uint64_t sessionId, JoinResult result) = 0;
};

} // namespace parley::server
