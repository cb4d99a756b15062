#include "redisendpoint.h"

#include <QUrl>

namespace parley::server {

std::optional<RedisEndpoint> RedisEndpoint::fromUrl(const QString& url)
{
    const QUrl parsed(url, QUrl::StrictMode);
    if (!parsed.isValid() || parsed.scheme() != QLatin1String("redis") || parsed.host().isEmpty()) {
        return std::nullopt;
    }
    if (!parsed.userInfo().isEmpty() || parsed.hasQuery() || parsed.hasFragment()) {
        return std::nullopt;
    }
    RedisEndpoint endpoint;
    endpoint.host = parsed.host();
    const int port = parsed.port(6379);
    if (port < 1 || port > 65535) {
        return std::nullopt;
    }
    endpoint.port = quint16(port);

    QString path = parsed.path();
    if (path.startsWith(QLatin1Char('/'))) {
        path.remove(0, 1);
    }
    if (!path.isEmpty()) {
        bool ok = false;
        const int database = path.toInt(&ok, 10);
        if (!ok || database < 0 || path.startsWith(QLatin1Char('+'))) {
            return std::nullopt;
        }
        endpoint.database = database;
    }
    return endpoint;
}

QString RedisEndpoint::toUrl() const
{
    const QString hostPart
        = host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host;
    QString url = QStringLiteral("redis://%1:%2").arg(hostPart).arg(port);
    if (database != 0) {
        url += QLatin1Char('/') + QString::number(database);
    }
    return url;
}

} // namespace parley::server
