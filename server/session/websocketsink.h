// WebSocketSink: the SessionSink of a WebSocket session. Owns the WebSocketConnection (the raw
// descriptor, framing, outgoing queue) and passes what it receives to its Session.
#pragma once

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

    WebSocketConnection m_connection;
    Session* m_session = nullptr;
    std::function<void()> m_gone;
};

} // namespace parley::server
