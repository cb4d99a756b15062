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
#pragma once

#include <QByteArray>
#include <QObject>

class QTcpSocket;

namespace parley::server {

class HttpDownstream : public QObject {
public:
    using QObject::QObject;
    ~HttpDownstream() override = default;

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
//! so finishing closes the connection, with kFinishTimeoutMs for the client to read it.
class SocketDownstream final : public HttpDownstream {
public:
    static constexpr int kFinishTimeoutMs = 5000;

    SocketDownstream(QTcpSocket* socket, QObject* parent);

    void write(const QByteArray& bytes) override;
    void flush() override;
    qint64 bytesToWrite() const override;
    void finish() override;
    void abort() override;

private:
    QTcpSocket* m_socket;
    bool m_done = false;
};

} // namespace parley::server
