// Server addresses as people type them, turned into the endpoint a Client connects to.
#pragma once

#include <QString>
#include <QUrl>
#include <parley/export.h>

namespace parley {

//! A server address parsed from what a person typed (a command-line argument, a sign-in field, a
//! saved setting): either the WebSocket endpoint to put in ClientOptions::endpoints, or why the
//! text is not a server address. One parser for every Parley front end, so that they all accept
//! the same forms.
//!
//! Accepted forms (surrounding whitespace is ignored, the scheme is case-insensitive):
//! - `host:port` or `host` → `ws://host:port/v1/ws`
//! - `ws://host[:port][/path]`, `wss://host[:port][/path]` → as given
//! - `http://host[:port][/path]` → `ws://...`, `https://host[:port][/path]` → `wss://...`
//!
//! An empty path or `/` becomes the server's WebSocket path, `/v1/ws`; any other path (a server
//! behind a reverse proxy under a prefix) and a query are kept. `host` is a name, an IPv4 address
//! or an IPv6 address in brackets (`[::1]:8080`). Without a port the scheme's default applies
//! (80 for ws and http, 443 for wss and https).
//!
//! Refused, with a reason: an empty text, another scheme, a missing host, a port that is not a
//! number from 1 to 65535, user information (`user@host`: credentials go in
//! ClientOptions::token), a fragment (`#...`).
struct PARLEY_SDK_EXPORT ServerAddress {
    //! The endpoint: a ws:// or wss:// URL with a host and a path. Empty (and invalid) when the
    //! text is not a server address.
    QUrl url;
    //! Why the text is not a server address, in English for people (e.g. "the port must be a
    //! number from 1 to 65535"); it does not repeat the text. Empty when url is set.
    QString error;

    //! True when the text was a server address (url is set, error is empty).
    bool isValid() const { return error.isEmpty() && url.isValid(); }
    //! "host:port" of url, for messages: the scheme's default port when the address has none,
    //! an IPv6 host in brackets. Empty when not valid.
    QString hostAndPort() const;

    //! Parses `text` (see the forms above). Never throws.
    static ServerAddress parse(const QString& text);
    //! The path of the server's WebSocket endpoint filled in when an address has none: "/v1/ws".
    static QString defaultPath();
};

} // namespace parley
