#include "transportfactory.h"

#include "longpolltransport.h"
#include "ssetransport.h"
#include "websockettransport.h"

namespace parley {

namespace {

// Holds the cookie jar of one parent (a Client): every HTTP transport created for it shares the
// jar, so cookies survive reconnects and transport switches.
class CookieJarHolder final : public QObject {
public:
    explicit CookieJarHolder(QObject* parent)
        : QObject(parent)
    {
    }
    const std::shared_ptr<CurlCookieJar> jar = std::make_shared<CurlCookieJar>();
};

std::shared_ptr<CurlCookieJar> cookieJarOf(QObject* parent)
{
    if (!parent) {
        return std::make_shared<CurlCookieJar>();
    }
    for (QObject* child : parent->children()) {
        if (auto* holder = dynamic_cast<CookieJarHolder*>(child)) {
            return holder->jar;
        }
    }
    return (new CookieJarHolder(parent))->jar;
}

} // namespace

bool isSupportedEndpoint(const QUrl& url)
{
    const QString scheme = url.scheme();
    return url.isValid() && !url.host().isEmpty()
        && (scheme == QLatin1String("ws") || scheme == QLatin1String("wss"));
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
        transport->setCookieJar(cookieJarOf(parent));
        return transport;
    }
    case TransportKind::LongPoll: {
        auto* transport = new LongPollTransport(parent);
        transport->setProxy(proxy);
        transport->setCookieJar(cookieJarOf(parent));
        return transport;
    }
    default:
        return new WebSocketTransport(parent);
    }
}

} // namespace parley
