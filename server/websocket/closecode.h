// CloseCode: the status codes of a WebSocket close frame (RFC 6455 7.4) that parleyd sends, and
// Parley's own codes in the 4000-4999 private range (docs/protocol.md, "Close codes"). The HTTP
// transports carry the same codes in their close event.
#pragma once

#include <QtGlobal>

namespace parley::server {

enum class CloseCode : quint16 {
    Normal = 1000,
    GoingAway = 1001, //!< server shutting down
    ProtocolError = 1002, //!< bad framing (masking, opcodes, control frames, fragmentation)
    UnsupportedData = 1003,
    NoStatus = 1005, //!< received only: a close frame without a code; never sent
    InvalidPayload = 1007, //!< a text message (or close reason) that is not UTF-8
    PolicyViolation = 1008, //!< a ping or pong before hello, or control frames over the rate limit
    MessageTooBig = 1009, //!< a message over the frame parser's limit
    InternalError = 1011,
    BadFrame = 4000, //!< a frame the Parley protocol does not allow (e.g. binary)
    Unauthorized = 4001, //!< hello refused
    HeartbeatTimeout = 4002, //!< silent for two heartbeat intervals
    SlowConsumer = 4003, //!< outbound queue over maxOutboundBytes; reconnect and replay
    HelloTimeout = 4005, //!< no hello within helloTimeoutMs of the upgrade
    FrameTimeout = 4006, //!< a frame in progress arrived slower than the minimum data rate
    //! Refused by a cap (connections, sessions per user): reconnect no sooner than the reason's
    //! "retry after N s" (caps/caps.h).
    TryAgainLater = 4007,
};

//! The reason text sent with `code` (short, ASCII).
const char* closeReason(CloseCode code);

//! Whether a peer may send `code` in a close frame (RFC 6455 7.4.1/7.4.2: 1000-1003, 1007-1011
//! and 3000-4999; 1004, 1005, 1006 and 1015 are reserved and never on the wire).
bool isValidCloseCodeOnWire(quint16 code);

} // namespace parley::server
