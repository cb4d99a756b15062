// Picks the Transport implementation for an endpoint URL.
#pragma once

#include <QUrl>

class QObject;

namespace parley {

class Transport;

//! A new, unopened transport for `url` (owned by `parent`), or nullptr when no transport speaks
//! the URL's scheme. ws:// and wss:// give a WebSocketTransport.
Transport* createTransport(const QUrl& url, QObject* parent);

//! Whether createTransport() has a transport for `url`'s scheme.
bool isSupportedEndpoint(const QUrl& url);

} // namespace parley
