// SessionSink: where a Session writes its frames, so the session logic does not depend on the
// transport (a WebSocket, or the HTTP transports' stream/poll queue).
//
// Contract: all calls on the session's I/O thread. sendText() never blocks and never fails
// synchronously; pendingBytes() is what is queued but not yet handed to the kernel or to a
// client (the slow-consumer rule compares it with maxOutboundBytes). close() starts an orderly
// close carrying a WebSocket-style code; the owner learns that the connection is gone through its
// own signal (IoThread::sessionDisconnected), never from inside these calls.
#pragma once

#include <QString>
#include <QtGlobal>

namespace parley::server {

class SessionSink {
public:
    virtual ~SessionSink() = default;
    //! Queues one frame for the client.
    virtual void sendText(const QString& text) = 0;
    //! Bytes queued and not yet delivered.
    virtual qint64 pendingBytes() const = 0;
    //! Starts an orderly close with `code`.
    virtual void close(int code, const QString& reason) = 0;
    //! Drops the connection now (close handshake took too long).
    virtual void abort() = 0;
    //! Peer address for logs.
    virtual QString peer() const = 0;
};

} // namespace parley::server
