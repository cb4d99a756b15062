// RequestOrder: the order of one session's requests and of their answers (docs/protocol.md,
// "Request order").
//
// Every frame a session receives is a request: it gets a ticket, in arrival order, and exactly
// one answer. Answers leave in ticket order: an answer that is ready while an earlier request is
// still unanswered (a send waiting for its storage ack, a join waiting for the hub) is held here
// until every earlier one went out. Frames that depend on an outcome still pending wait here
// too, per room, and start in arrival order once they may (the Session decides when: a room
// whose join is in flight, a join or history that must see every earlier request answered).
//
// Cost: a session whose answers come back in order (the usual case, pipelined sends included)
// holds nothing and allocates nothing: two counters. The held answers and the waiting frames
// live in a backlog allocated when first needed and freed once empty (memory per connection
// matters). Bounds are the caller's: heldBytes() against the outbound limit, wait() refuses past
// kMaxWaitingFrames frames or `maxBytes` bytes.
//
// Not thread-safe: the session's I/O thread only.
#pragma once

#include "protocol/frames.h"
#include "websocket/textframe.h"

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::server {

class RequestOrder {
public:
    //! A request's place in the order. Wraps around after 2^32 requests; only differences matter.
    using Ticket = std::uint32_t;

    //! Frames that may wait for an outcome at once, per session (then the caller closes it).
    static constexpr std::size_t kMaxWaitingFrames = 4096;

    //! A request that cannot start yet.
    struct Waiting {
        Ticket ticket = 0;
        protocol::ClientFrame frame;
        bool rateLimited = false; //!< refused by the rate limit on arrival: answered with that
        std::size_t bytes = 0; //!< its size on the wire, counted against the bound
    };

    RequestOrder();
    ~RequestOrder();
    RequestOrder(const RequestOrder&) = delete;
    RequestOrder& operator=(const RequestOrder&) = delete;

    //! A new request: the next ticket.
    Ticket open() { return m_next++; }
    //! Whether every request before `ticket` has been answered (its answer goes out at once).
    bool isHead(Ticket ticket) const { return ticket == m_head; }
    //! Requests opened and not answered yet.
    std::uint32_t unanswered() const { return m_next - m_head; }

    //! Answers `ticket` with `frame`: `out(frame)` is called now for it and for each held answer
    //! it releases, in ticket order; or the answer is held until the earlier ones are answered.
    template <typename Out> void answer(Ticket ticket, TextFrame frame, Out&& out)
    {
        if (ticket != m_head) {
            hold(ticket, std::move(frame));
            return;
        }
        out(frame);
        ++m_head;
        if (m_backlog) {
            while (std::optional<TextFrame> next = releaseHead()) {
                out(*next);
            }
            headAdvanced();
        }
    }
    //! Bytes of the answers held back, waiting for earlier ones.
    std::size_t heldBytes() const;

    //! Whether frames for `room` wait already (a later one for it must wait behind them).
    bool hasWaiting(const std::string& room) const;
    //! Puts `request` behind the frames waiting for `room`. False, and nothing kept, when the
    //! session already has kMaxWaitingFrames frames or `maxBytes` bytes waiting.
    bool wait(const std::string& room, Waiting request, std::size_t maxBytes);
    //! The first frame waiting for `room`, or nullptr.
    const Waiting* front(const std::string& room) const;
    //! Removes and returns the first frame waiting for `room` (front() must not be null).
    Waiting take(const std::string& room);

    //! The first frame waiting for `room` may start only once every earlier request is
    //! answered: the room becomes runnable when its ticket reaches the head.
    void waitForHead(const std::string& room, Ticket ticket);
    //! Something `room`'s first waiting frame waited for happened: the room is runnable.
    void wake(const std::string& room);
    //! The next runnable room (its waiting frames may start), if any.
    std::optional<std::string> takeRunnable();

private:
    struct Backlog;

    void hold(Ticket ticket, TextFrame frame);
    std::optional<TextFrame> releaseHead();
    void headAdvanced();
    void releaseBacklogIfEmpty();

    Ticket m_next = 0;
    Ticket m_head = 0;
    std::unique_ptr<Backlog> m_backlog;
};

} // namespace parley::server
