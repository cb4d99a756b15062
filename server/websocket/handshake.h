// The server side of the WebSocket opening handshake (RFC 6455 4.2): from a complete request
// head that the RequestSniffer classified as an upgrade (GET /v1/ws, Upgrade: websocket,
// Connection: upgrade, and a Host header), checks that it is an HTTP/1.1 GET, the version and
// the key, and builds the response bytes: either `101 Switching Protocols` with
// Sec-WebSocket-Accept, or an error response (400, or 426 with `Sec-WebSocket-Version: 13` for
// another WebSocket version) with a JSON body, after which the caller closes the connection. No
// subprotocol and no extension (permessage-deflate) is negotiated.
#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace parley::server::websocket {

struct HandshakeReply {
    bool accepted = false;
    int status = 400; //!< 101 when accepted
    QByteArray code; //!< stable error code when refused, e.g. "bad_websocket_key"
    QByteArray response; //!< the complete HTTP response to write
};

//! Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)).
QByteArray acceptKey(QByteArrayView key);

//! Answers the upgrade request whose head (request line to blank line) is `head`.
HandshakeReply answerHandshake(QByteArrayView head);

} // namespace parley::server::websocket
