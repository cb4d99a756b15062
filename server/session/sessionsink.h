// SessionSink: where a Session writes its frames, so the session logic does not depend on the
// transport (a WebSocket, or the HTTP transports' stream/poll queue).
//
// Contract: all calls on the session's I/O thread. send() never blocks and never fails
// synchronously; pendingBytes() is what is queued but not yet handed to the kernel or to a
// client (the slow-consumer rule compares it with maxOutboundBytes). close() starts an orderly
// close carrying a WebSocket-style code; the owner learns that the connection is gone through its
// own signal (IoThread::sessionDisconnected), never from inside these calls.
#pragma once

#include "websocket/closecode.h"
#include "websocket/textframe.h"

#include <QString>
#include <QtGlobal>
#include <cstdint>

namespace parley::server {

class SessionSink {
public:
    virtual ~SessionSink() = default;
    //! Queues one frame for the client. The frame is shared (a fan-out hands every recipient
    //! the same bytes): keep a copy of the TextFrame, never modify it.
    virtual void send(const TextFrame& frame) = 0;
    //! Bytes queued and not yet delivered.
    virtual qint64 pendingBytes() const = 0;
    //! Starts an orderly close with `code` (reason text: closeReason(code)).
    virtual void close(CloseCode code) = 0;
    //! Drops the connection now (close handshake took too long).
    virtual void abort() = 0;
    //! The I/O thread's sweep: the transport's own deadlines (a WebSocket frame arriving too
    //! slowly, a client not reading). May start closing the session through its close path.
    virtual void checkDeadlines(std::int64_t nowMs) { Q_UNUSED(nowMs); }
    //! Reads and handles what the client has already sent and the transport has not read yet
    //! (the sweep calls it before a deadline ends the session: on a busy thread the bytes the
    //! deadline waits for may be in the kernel's buffer, unread).
    virtual void readPending() { }
    //! Peer address for logs.
    virtual QString peer() const = 0;
};

} // namespace parley::server
