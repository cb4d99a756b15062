// WebSocketSink: a SessionSink over one QWebSocket (owned: deleted with the sink).
#pragma once

#include "sessionsink.h"

class QWebSocket;

namespace parley::server {

class WebSocketSink final : public SessionSink {
public:
    explicit WebSocketSink(QWebSocket* socket);
    ~WebSocketSink() override;
    WebSocketSink(const WebSocketSink&) = delete;
    WebSocketSink& operator=(const WebSocketSink&) = delete;

    QWebSocket* socket() const { return m_socket; }

    void sendText(const QString& text) override;
    qint64 pendingBytes() const override;
    void close(int code, const QString& reason) override;
    void abort() override;
    QString peer() const override;

private:
    QWebSocket* m_socket;
};

} // namespace parley::server
