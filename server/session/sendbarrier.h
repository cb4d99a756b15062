// SendBarrier: keeps one client's sends to one room in the order the client sent them, across a
// retryable refusal.
//
// Why: a client pipelines sends (m1, m2, m3 leave before the first answer comes back). If the
// server refuses m1 with a retryable error (rate_limited, overloaded) but stores m2 and m3, the
// client's resend of m1 lands after them and the room shows the user's messages out of the order
// they were written. So once a send to a room is refused, the session refuses every later send to
// that room as well (same code, retryable) until the refused one, the barrier's head, comes back.
// A client that resends in order (the SDK's outbox does) lifts the barrier with it, and the rest
// follows in order; if the head is refused again, it stays the head.
//
// No dead end: a client may give a message up (the SDK fails it after its deadline and the user
// can discard it). A head not resent for kHeadTimeoutMs since its last refusal is taken as given
// up, and the next send passes.
//
// A plain value owned by the session's per-room state, allocated only while the barrier is up
// (memory per connection matters). Times come from the caller's monotonic clock.
#pragma once

#include "protocol/frames.h"

#include <cstdint>
#include <string>

namespace parley::server {

class SendBarrier {
public:
    static constexpr std::int64_t kHeadTimeoutMs = 30000;

    SendBarrier(protocol::ErrorCode code, std::string head, std::int64_t nowMs)
        : m_code(code)
        , m_head(std::move(head))
        , m_headRefusedMs(nowMs)
    {
    }

    //! The error code the barrier answers with: the one of the refusal that raised it.
    protocol::ErrorCode code() const { return m_code; }
    const std::string& head() const { return m_head; }

    //! A send with `clientId` was refused while the barrier is up.
    void refused(const std::string& clientId, std::int64_t nowMs)
    {
        if (clientId == m_head) {
            m_headRefusedMs = nowMs;
        }
    }

    //! Whether a send with `clientId` lifts the barrier: the head's resend, or any send once the
    //! head looks given up.
    bool isLiftedBy(const std::string& clientId, std::int64_t nowMs) const
    {
        return clientId == m_head || nowMs - m_headRefusedMs >= kHeadTimeoutMs;
    }

private:
    protocol::ErrorCode m_code;
    std::string m_head;
    std::int64_t m_headRefusedMs;
};

} // namespace parley::server
