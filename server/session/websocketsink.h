// WebSocketSink: the SessionSink of a WebSocket session. Owns the WebSocketConnection (the raw
// descriptor, framing, outgoing queue) and passes what it receives to its Session.
#pragma once

#include "caps/capslot.h"
#include "sessionsink.h"
#include "websocket/websocketconnection.h"

#include <functional>

namespace parley::server {

class Session;

class WebSocketSink final : public SessionSink, private WebSocketConnection::Handler {
public:
    //! Takes ownership of `fd`. `gone` is called once the connection is closed (from inside
    //! this sink's calls or a socket notification: the owner must defer removing the session).
    WebSocketSink(int fd, WebSocketConnection::Settings settings, std::function<void()> gone);
    WebSocketSink(const WebSocketSink&) = delete;
    WebSocketSink& operator=(const WebSocketSink&) = delete;

    //! The session that receives this connection's messages (set once, before any input).
    void attach(Session* session) { m_session = session; }
    WebSocketConnection& connection() { return m_connection; }
    //! The connection's place under the connection caps, given back with the sink.
    void holdConnectionSlot(CapSlot slot) { m_connectionSlot = std::move(slot); }

    // SessionSink
    void send(const TextFrame& frame) override;
    qint64 pendingBytes() const override;
    void close(CloseCode code) override;
    void abort() override;
    void checkDeadlines(std::int64_t nowMs) override;
    void readPending() override;
    QString peer() const override;

private:
    // WebSocketConnection::Handler
    void textReceived(QByteArrayView text) override;
    void binaryReceived(QByteArrayView data) override;
    bool controlReceived() override;
    void closing(CloseCode code) override;
    void disconnected() override;

    // Before m_connection, so destroyed after it: the place is given back once the descriptor
    // is closed.
    CapSlot m_connectionSlot;
    WebSocketConnection m_connection;
    Session* m_session = nullptr;
    std::function<void()> m_gone;
};

} // namespace parley::server
