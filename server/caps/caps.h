// Caps: the limits on how much of the server one client, one address or everybody together may
// hold (docs/security.md, "Connection and session caps"). One per server, shared by every
// thread (each part is thread-safe).
//
// - connections: TCP connections in all (--max-connections) and per address
//   (--max-connections-per-ip), counted from accept to close;
// - users: sessions per user on this node (--max-sessions-per-user), from hello to the end;
// - sessionRate: new HTTP sessions (POST /v1/session) per address and second
//   (--session-rate-per-ip).
// The deadline for an HTTP session's first stream or poll (--http-attach-timeout-ms) is the
// I/O thread's sweep.
#pragma once

#include "connectioncaps.h"
#include "peerratelimiter.h"
#include "usersessioncaps.h"

namespace parley::server {

struct Caps {
    Caps(std::uint32_t maxConnections, std::uint32_t maxConnectionsPerPeer,
        std::uint32_t maxSessionsPerUser, std::uint32_t sessionRatePerPeer)
        : connections(maxConnections, maxConnectionsPerPeer)
        , users(maxSessionsPerUser)
        , sessionRate(sessionRatePerPeer)
    {
    }

    ConnectionCaps connections;
    UserSessionCaps users;
    PeerRateLimiter sessionRate;
};

} // namespace parley::server
