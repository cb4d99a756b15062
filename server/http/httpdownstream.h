// HttpDownstream: the response an HttpSink writes a held event stream or a poll answer to.
//
// Either the client's own connection (SocketDownstream, below) or, in a cluster, a relay to the
// node that received the client's GET /v1/sse or /v1/poll while the session lives here
// (routing/relaydownstream.h). The sink does not know which: it writes bytes, flushes, looks at
// how much is still unsent (its slow-consumer bound) and finishes or aborts the response.
//
// Contract:
// - Lives on the session's I/O thread; every call is made there.
// - Self-deleting: once the client is gone (its connection closed, or the relay's holder said
//   so), after finish() once the response is out, or after abort(), the object deletes itself
//   (deleteLater). Holders keep a QPointer, which goes null then.
// - After finish() or abort() nothing more is written; write() on a downstream whose client is
//   gone is ignored.
// - A held request is over once its head is read: a client that sends anything more (an upload
//   on its event stream, bytes behind a held poll) breaks the protocol. watchInput()'s handler
//   is told, once, while the response is still held (never after finish() or abort()).
#pragma once

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <functional>

class QTcpSocket;

namespace parley::server {

//! Ends the HTTP response on `socket` without losing it: once what was written is handed to the
//! kernel, our side is shut down for writing (the client reads the whole response, then end of
//! file), and what the client still sends, e.g. the rest of a body refused from the request
//! head, is read and discarded, up to `discardCap` bytes (past it, nothing more is read: the
//! bounded read buffer fills and TCP flow control stops the client). The socket is closed when
//! the client closes its side, or aborted after kLingerMs. (Closing a socket with unread input
//! makes the kernel reset the connection, which can destroy the response before the client reads
//! it.) The socket deletes itself afterwards; its read buffer stays bounded as it was set
//! (kLingerReadBufferBytes if it was not).
void closeAfterResponse(QTcpSocket* socket, qint64 discardCap);

//! How long closeAfterResponse() waits for the client to read the response and close.
inline constexpr int kLingerMs = 5000;
//! closeAfterResponse()'s read buffer for a socket that had none set.
inline constexpr qint64 kLingerReadBufferBytes = 8 * 1024;

class HttpDownstream : public QObject {
public:
    using QObject::QObject;
    ~HttpDownstream() override = default;

    //! `handler` runs (later, on this thread, at most once) when the client sends anything
    //! while the response is held.
    virtual void watchInput(std::function<void()> handler) { static_cast<void>(handler); }

    //! Queues `bytes` of the response.
    virtual void write(const QByteArray& bytes) = 0;
    //! Hands what is queued on at once (the sink flushes after every event it writes).
    virtual void flush() = 0;
    //! Bytes written and not yet handed to the client (the sink's slow-consumer bound).
    virtual qint64 bytesToWrite() const = 0;
    //! Ends the response after what is queued (bounded: a client that does not read is dropped).
    virtual void finish() = 0;
    //! Drops the response at once.
    virtual void abort() = 0;
};

//! The client's own connection. Takes `socket` over (as a child); `Connection: close` responses,
//! so finishing closes the connection (closeAfterResponse(), with `discardCap`); the downstream
//! lives, counting the bytes the client has not read yet, until the socket is gone.
class SocketDownstream final : public HttpDownstream {
public:
    SocketDownstream(QTcpSocket* socket, qint64 discardCap, QObject* parent);

    void watchInput(std::function<void()> handler) override;
    void write(const QByteArray& bytes) override;
    void flush() override;
    qint64 bytesToWrite() const override;
    void finish() override;
    void abort() override;

private:
    void inputArrived();

    QPointer<QTcpSocket> m_socket;
    const qint64 m_discardCap;
    std::function<void()> m_inputHandler;
    bool m_done = false;
};

} // namespace parley::server
