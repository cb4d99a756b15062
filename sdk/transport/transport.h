// Transport: how the SDK carries protocol frames to a server and back.
//
// A Transport moves opaque frames (one JSON envelope each) over one connection; it never parses
// them: the Client encodes and decodes with the protocol codec. The implementations:
// WebSocketTransport, and the HTTP transports SseTransport and LongPollTransport (httptransport.h).
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
// - A server refusing for capacity (close 4007 on WebSocket; HTTP 429 or 503 with Retry-After)
//   closes the transport with 4007, and retryAfter() says how long it asked the client to wait
//   (the Client's next attempt waits at least that long).
#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>
#include <QUrl>
#include <algorithm>
#include <chrono>

namespace parley {

class Transport : public QObject {
    Q_OBJECT

public:
    //! Close code for a connection that failed or dropped without a close handshake.
    static constexpr int AbnormalClosure = 1006;
    //! Close code of a refusal for capacity (docs/protocol.md): try again after retryAfter().
    static constexpr int TryAgainLater = 4007;
    //! The wait a 4007 close reason names ("... retry after N s"), or `fallback` without one.
    static std::chrono::seconds retryAfterFromReason(
        const QString& reason, std::chrono::seconds fallback = std::chrono::seconds(5));
    //! The longest wait a server may ask for; longer asks are cut to this.
    static constexpr std::chrono::seconds kMaxRetryAfter { 600 };

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
    //! After closed(): how long the server asked the client to wait before it tries again
    //! (close 4007, or an HTTP Retry-After on a refusal); 0 when it did not ask.
    std::chrono::milliseconds retryAfter() const { return m_retryAfter; }

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
    //! Implementations record, before closed(), a wait the server asked for (bounded by
    //! kMaxRetryAfter); open() starts with none.
    void setRetryAfter(std::chrono::milliseconds wait)
    {
        m_retryAfter = std::clamp(wait, std::chrono::milliseconds(0),
            std::chrono::milliseconds(kMaxRetryAfter));
    }

private:
    bool m_reachedServer = true;
    std::chrono::milliseconds m_retryAfter { 0 };
};

} // namespace parley
