#include "requestorder.h"

#include <cassert>

namespace parley::server {

struct RequestOrder::Backlog {
    // Answers held back: held[i] answers ticket heldBase + i; a null frame is a request not
    // answered yet. While non-empty, heldBase is the head (answers before it went out).
    std::deque<TextFrame> held;
    Ticket heldBase = 0;
    std::size_t heldBytes = 0;
    // Frames waiting, per room, in arrival order.
    std::unordered_map<std::string, std::deque<Waiting>> waiting;
    std::size_t waitingFrames = 0;
    std::size_t waitingBytes = 0;
    // Rooms whose first waiting frame starts when its ticket is the head.
    std::map<Ticket, std::string> headWaiters;
    std::vector<std::string> runnable;

    bool empty() const
    {
        return held.empty() && waiting.empty() && headWaiters.empty() && runnable.empty();
    }
};

RequestOrder::RequestOrder() = default;
RequestOrder::~RequestOrder() = default;

std::size_t RequestOrder::heldBytes() const
{
    return m_backlog ? m_backlog->heldBytes : 0;
}

void RequestOrder::hold(Ticket ticket, TextFrame frame)
{
    const Ticket ahead = ticket - m_head; // modular: how far behind the head it is
    assert(ahead != 0 && ahead < unanswered()); // opened, not answered, not the head
    if (ahead == 0 || ahead >= unanswered()) {
        return;
    }
    if (!m_backlog) {
        m_backlog = std::make_unique<Backlog>();
    }
    Backlog& backlog = *m_backlog;
    if (backlog.held.empty()) {
        backlog.heldBase = m_head;
    }
    const std::size_t index = ticket - backlog.heldBase;
    if (index >= backlog.held.size()) {
        backlog.held.resize(index + 1);
    }
    assert(backlog.held[index].isNull()); // one answer per request
    backlog.heldBytes += std::size_t(frame.wire().size());
    backlog.held[index] = std::move(frame);
}

std::optional<TextFrame> RequestOrder::releaseHead()
{
    Backlog& backlog = *m_backlog;
    // Drop the slots of answers that went out directly (the head's, when it was answered at
    // once while later ones were held).
    while (!backlog.held.empty() && backlog.heldBase != m_head) {
        assert(backlog.held.front().isNull());
        backlog.held.pop_front();
        ++backlog.heldBase;
    }
    if (backlog.held.empty() || backlog.held.front().isNull()) {
        return std::nullopt;
    }
    TextFrame frame = std::move(backlog.held.front());
    backlog.held.pop_front();
    backlog.heldBytes -= std::size_t(frame.wire().size());
    ++backlog.heldBase;
    ++m_head;
    return frame;
}

void RequestOrder::headAdvanced()
{
    Backlog& backlog = *m_backlog;
    if (const auto it = backlog.headWaiters.find(m_head); it != backlog.headWaiters.end()) {
        backlog.runnable.push_back(std::move(it->second));
        backlog.headWaiters.erase(it);
    }
    releaseBacklogIfEmpty();
}

bool RequestOrder::hasWaiting(const std::string& room) const
{
    return m_backlog && m_backlog->waiting.contains(room);
}

bool RequestOrder::wait(const std::string& room, Waiting request, std::size_t maxBytes)
{
    if (!m_backlog) {
        m_backlog = std::make_unique<Backlog>();
    }
    Backlog& backlog = *m_backlog;
    if (backlog.waitingFrames >= kMaxWaitingFrames
        || backlog.waitingBytes + request.bytes > maxBytes) {
        releaseBacklogIfEmpty();
        return false;
    }
    ++backlog.waitingFrames;
    backlog.waitingBytes += request.bytes;
    backlog.waiting[room].push_back(std::move(request));
    return true;
}

const RequestOrder::Waiting* RequestOrder::front(const std::string& room) const
{
    if (!m_backlog) {
        return nullptr;
    }
    const auto it = m_backlog->waiting.find(room);
    return it == m_backlog->waiting.end() ? nullptr : &it->second.front();
}

RequestOrder::Waiting RequestOrder::take(const std::string& room)
{
    Backlog& backlog = *m_backlog;
    const auto it = backlog.waiting.find(room);
    Waiting request = std::move(it->second.front());
    it->second.pop_front();
    if (it->second.empty()) {
        backlog.waiting.erase(it);
    }
    --backlog.waitingFrames;
    backlog.waitingBytes -= request.bytes;
    releaseBacklogIfEmpty();
    return request;
}

void RequestOrder::waitForHead(const std::string& room, Ticket ticket)
{
    if (!m_backlog) {
        m_backlog = std::make_unique<Backlog>();
    }
    if (ticket == m_head) {
        m_backlog->runnable.push_back(room);
        return;
    }
    m_backlog->headWaiters.emplace(ticket, room);
}

void RequestOrder::wake(const std::string& room)
{
    if (hasWaiting(room)) {
        m_backlog->runnable.push_back(room);
    }
}

std::optional<std::string> RequestOrder::takeRunnable()
{
    if (!m_backlog || m_backlog->runnable.empty()) {
        return std::nullopt;
    }
    // Order among rooms does not matter (each room keeps its own order; answers are ordered
    // by ticket anyway): take the last, no shifting.
    std::string room = std::move(m_backlog->runnable.back());
    m_backlog->runnable.pop_back();
    releaseBacklogIfEmpty();
    return room;
}

void RequestOrder::releaseBacklogIfEmpty()
{
    if (m_backlog && m_backlog->empty()) {
        m_backlog.reset();
    }
}

} // namespace parley::server
