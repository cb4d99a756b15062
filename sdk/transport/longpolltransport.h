// LongPollTransport: the Transport over long polls (GET /v1/poll?cursor=N) plus
// POST /v1/commands. Each poll returns {"events":[...],"cursor":N[,"closed":{code,reason}]};
// the next poll carries that cursor, which also acknowledges the events to the server.
#pragma once

#include "httptransport.h"

namespace parley {

class LongPollTransport final : public HttpTransport {
    Q_OBJECT

public:
    explicit LongPollTransport(QObject* parent = nullptr);
    QString kind() const override { return QStringLiteral("long-poll"); }

protected:
    void startDownstream() override;
    void stopDownstream() override;

private:
    void onDone(int status, const QString& error);

    quint64 m_poll = 0;
    QByteArray m_body;
};

} // namespace parley
