#include "transportfactory.h"

#include "longpolltransport.h"
#include "ssetransport.h"
#include "websockettransport.h"

namespace parley {

bool isSupportedEndpoint(const QUrl& url)
{
    const QString scheme = url.scheme();
    return url.isValid() && !url.host().isEmpty()
        && (scheme == QLatin1String("ws") || scheme == QLatin1String("wss"));
}

Transport* createTransport(const QUrl& url, QObject* parent)
{
    return createTransport(url, TransportKind::Auto, QString(), parent);
}

Transport* createTransport(
    const QUrl& url, TransportKind kind, const QString& proxy, QObject* parent)
{
    if (!isSupportedEndpoint(url)) {
        return nullptr;
    }
    switch (kind) {
    case TransportKind::Sse: {
        auto* transport = new SseTransport(parent);
        transport->setProxy(proxy);
        return transport;
    }
    case TransportKind::LongPoll: {
        auto* transport = new LongPollTransport(parent);
        transport->setProxy(proxy);
        return transport;
    }
    default:
        return new WebSocketTransport(parent);
    }
}

} // namespace parley
