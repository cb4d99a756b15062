// SseTransport: the Transport over Server-Sent Events (GET /v1/sse) plus POST /v1/commands.
//
// Each event's id is its resume cursor: a dropped stream is re-opened with Last-Event-ID (after
// the server's `retry:` hint) and the server replays what was missed; repeats are dropped.
// `event: close` carries the server's close code.
#pragma once

#include "eventsourceparser.h"
#include "httptransport.h"

namespace parley {

class SseTransport final : public HttpTransport {
    Q_OBJECT

public:
    explicit SseTransport(QObject* parent = nullptr);
    QString kind() const override { return QStringLiteral("sse"); }

protected:
    void startDownstream() override;
    void stopDownstream() override;

private:
    void onBytes(int status, QByteArrayView bytes);

    quint64 m_stream = 0;
    EventSourceParser m_parser;
    bool m_gotBytes = false;
    QByteArray m_errorBody;
};

} // namespace parley
