#include "messageformat.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace parley::cli {

QString humanLine(const parley::Message& message)
{
    return QStringLiteral("[%1] %2: %3")
        .arg(message.timestamp.toLocalTime().toString(QStringLiteral("HH:mm:ss")), message.sender,
            message.body);
}

QByteArray jsonLine(const parley::Message& message)
{
    const QJsonObject object {
        { QStringLiteral("room"), message.room },
        { QStringLiteral("seq"), qint64(message.seq) },
        { QStringLiteral("epoch"), message.epoch },
        { QStringLiteral("id"), message.id },
        { QStringLiteral("sender"), message.sender },
        { QStringLiteral("client_id"), message.clientId },
        { QStringLiteral("body"), message.body },
        { QStringLiteral("ts"), message.timestamp.toMSecsSinceEpoch() },
        { QStringLiteral("time"), message.timestamp.toUTC().toString(Qt::ISODateWithMs) },
    };
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

QByteArray ackJsonLine(const QString& clientId, const QString& room, quint64 seq, qint64 line)
{
    const QJsonObject object {
        { QStringLiteral("client_id"), clientId },
        { QStringLiteral("room"), room },
        { QStringLiteral("seq"), qint64(seq) },
        { QStringLiteral("line"), line },
    };
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

} // namespace parley::cli
