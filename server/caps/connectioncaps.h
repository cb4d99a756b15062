// ConnectionCaps: how many TCP connections parleyd holds, in all and per peer address
// (--max-connections, --max-connections-per-ip; docs/security.md, "Connection and session
// caps").
//
// A connection is counted from the moment the listener hands its descriptor over (admit(), on
// the accept thread) until its last owner closes it (the CapSlot it carries is destroyed, on
// whichever I/O thread that is: a request's socket, a held stream moved to its session's
// thread, a WebSocket connection). Every kind of connection counts alike: WebSocket, HTTP
// requests and held streams or polls, /healthz, relayed responses.
//
// A connection over a cap is refused, not dropped: it is answered (HTTP 503 or 429 with
// Retry-After, or a WebSocket upgrade with close code 4007) and closed. Answering takes a
// descriptor and a little memory for a moment, so the refusals in progress are capped as well
// (kMaxRefusing): past that a refused connection gets a canned 503 written straight to its
// descriptor, which is then closed at once (refuseNow()).
//
// Thread-safe. The total is one atomic counter; per-address counts live in a sharded
// CounterTable (countertable.h). A cap of 0 is off.
#pragma once

#include "capslot.h"
#include "countertable.h"
#include "peerkey.h"

#include <atomic>
#include <cstdint>

namespace parley::server {

class ConnectionCaps final : private CapSlot::Owner {
public:
    //! Refused connections being answered at once, at most; more are refused with refuseNow().
    static constexpr int kMaxRefusing = 64;
    //! The Retry-After (seconds) of a refused connection or session.
    static constexpr int kRetryAfterS = 5;

    enum class Refusal { None, Total, PerPeer };
    struct Admission {
        CapSlot slot; //!< the connection's place (empty when refused)
        Refusal refusal = Refusal::None;
    };

    ConnectionCaps(std::uint32_t maxConnections, std::uint32_t maxPerPeer);

    //! Counts a new connection from `peer`, or says which cap refuses it.
    Admission admit(const PeerKey& peer);
    //! A place among the refusals in progress; empty when kMaxRefusing are being answered.
    CapSlot tryRefusing();

    //! Connections counted now.
    std::int64_t connections() const { return m_total.load(std::memory_order_relaxed); }
    //! Connections from `peer` counted now (0 when the per-address cap is off).
    std::uint32_t connectionsFrom(const PeerKey& peer) const { return m_perPeer.count(peer); }
    std::uint32_t maxConnections() const { return m_maxConnections; }
    std::uint32_t maxPerPeer() const { return m_maxPerPeer; }

    //! Writes a canned refusal (`refusal`'s status, Retry-After) to `fd` without blocking and
    //! closes it: for connections refused while kMaxRefusing others are being answered.
    static void refuseNow(int fd, Refusal refusal);

private:
    using PeerTable = CounterTable<PeerKey, PeerKeyHash>;

    // Refusals in progress give their place back through this owner.
    class Refusing final : public CapSlot::Owner {
    public:
        std::atomic<int> count { 0 };
        void release(void*) noexcept override { count.fetch_sub(1, std::memory_order_relaxed); }
    };

    void release(void* entry) noexcept override;

    const std::uint32_t m_maxConnections;
    const std::uint32_t m_maxPerPeer;
    std::atomic<std::int64_t> m_total { 0 };
    PeerTable m_perPeer;
    Refusing m_refusing;
};

} // namespace parley::server
