// WebSocketTransport: the Transport over one QWebSocket (ws:// and wss://).
#pragma once

#include "transport.h"

#include <QPointer>
#include <QTimer>

class QWebSocket;

namespace parley {

class WebSocketTransport final : public Transport {
    Q_OBJECT

public:
    explicit WebSocketTransport(QObject* parent = nullptr);
    ~WebSocketTransport() override;

    void open(const QUrl& url) override;
    void close(int code = 1000, const QString& reason = QString()) override;
    bool sendFrame(const QByteArray& frame) override;
    bool isOpen() const override { return m_open; }
    QString kind() const override { return QStringLiteral("websocket"); }

private:
    void finish(int code, const QString& reason);

    // A fresh socket per open(): signals of a previous socket still queued are recognised and
    // ignored by comparing against m_socket.
    QPointer<QWebSocket> m_socket;
    bool m_open = false;
    bool m_closing = false;
    bool m_finished = true;
    bool m_requestWritten = false; // the upgrade request was written: TCP connected
    // A peer that never answers our close frame must not keep the transport open forever.
    QTimer m_closeTimer;
};

} // namespace parley
