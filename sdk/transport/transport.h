// Transport: how the SDK carries protocol frames to a server and back.
//
// A Transport moves opaque frames (one JSON envelope each) over one connection; it never parses
// them: the Client encodes and decodes with the protocol codec. WebSocketTransport is the first
// implementation; Server-Sent Events and long-poll transports slot in behind the same interface.
//
// Contract:
// - Lifecycle: open() → opened() → frameReceived()* → closed(); or open() → closed() when the
//   connection cannot be established. closed() is emitted exactly once per open(), also after
//   close(). After closed() the transport may be opened again.
// - Signals are never emitted from inside open(), close() or sendFrame(): always from the event
//   loop, on the thread the transport lives on.
// - Ordering: frames sent are delivered to the server in sendFrame() order; frames received are
//   emitted in the order the server sent them. Each frameReceived() carries exactly one frame.
// - sendFrame() never blocks; it returns false when the transport is not open (the frame is
//   dropped: the caller keeps what it must resend).
// - closed(code, reason) carries a WebSocket-style close code: the server's code when it closed
//   (1000 normal, 1001 going away, 4001 unauthorized, ...), 1006 when the connection failed or
//   dropped without a close handshake.
#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>
#include <QUrl>

namespace parley {

class Transport : public QObject {
    Q_OBJECT

public:
    //! Close code for a connection that failed or dropped without a close handshake.
    static constexpr int AbnormalClosure = 1006;

    using QObject::QObject;
    ~Transport() override = default;

    //! Starts connecting to `url`. Only valid when not already open or opening.
    virtual void open(const QUrl& url) = 0;
    //! Closes the connection with `code` (or abandons the attempt); closed() follows.
    virtual void close(int code = 1000, const QString& reason = QString()) = 0;
    //! Queues one frame for the server; false (frame dropped) when not open.
    virtual bool sendFrame(const QByteArray& frame) = 0;
    //! Whether opened() was emitted and closed() was not.
    virtual bool isOpen() const = 0;
    //! A short name of the mechanism ("websocket", "sse", "long-poll"), for logs and UIs.
    virtual QString kind() const = 0;
    //! Whether the handshake answer (the welcome) comes over the same downstream as every later
    //! frame, so receiving it proves the connection carries frames. False for the HTTP
    //! transports, whose welcome answers the session POST: there only a later frame proves the
    //! event stream or the polls work (what transport negotiation counts as "opened").
    virtual bool welcomeProvesDownstream() const { return true; }
    //! After closed(): false when the last open() never reached the server at all (connection
    //! refused, host not found, network unreachable): the server is down or the network is,
    //! which says nothing about this kind of transport, so negotiation does not count it.
    bool reachedServer() const { return m_reachedServer; }

Q_SIGNALS:
    //! The connection is established; frames may be sent.
    void opened();
    //! One frame from the server.
    void frameReceived(const QByteArray& frame);
    //! The connection is gone (or never came up); see the contract above for `code`.
    void closed(int code, const QString& reason);

protected:
    //! Implementations record, before closed(), whether this open() reached the server.
    void setReachedServer(bool reached) { m_reachedServer = reached; }

private:
    bool m_reachedServer = true;
};

} // namespace parley
