// Picks the Transport implementation for an endpoint URL.
#pragma once

#include <QUrl>
#include <parley/clientoptions.h>

class QObject;

namespace parley {

class Transport;

//! A new, unopened transport of `kind` for `url` (Auto gives WebSocket: negotiation picks a
//! concrete kind before calling this, see TransportNegotiator), or nullptr when the URL is not
//! supported. Endpoints stay ws:// or wss:// URLs: the HTTP
//! transports reach the same host and port over http(s). `proxy` applies to the HTTP transports.
//! The HTTP transports created for one `parent` (a Client) share one in-memory cookie jar, so
//! cookies a balancer or proxy sets last across reconnects and transport switches.
Transport* createTransport(
    const QUrl& url, TransportKind kind, const QString& proxy, QObject* parent);

//! Whether createTransport() has a transport for `url`'s scheme.
bool isSupportedEndpoint(const QUrl& url);

} // namespace parley
