#include "transportfactory.h"

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
    if (!isSupportedEndpoint(url)) {
        return nullptr;
    }
    return new WebSocketTransport(parent);
}

} // namespace parley
