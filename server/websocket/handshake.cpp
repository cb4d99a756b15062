#include "handshake.h"

#include <QCryptographicHash>

namespace parley::server::websocket {

namespace {

constexpr QByteArrayView kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

QByteArrayView trimmed(QByteArrayView v)
{
    while (!v.isEmpty() && (v.front() == ' ' || v.front() == '\t')) {
        v = v.sliced(1);
    }
    while (!v.isEmpty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) {
        v.chop(1);
    }
    return v;
}

bool equalsIgnoringCase(QByteArrayView a, QByteArrayView b)
{
    return a.compare(b, Qt::CaseInsensitive) == 0;
}

// The value of header `name` (first occurrence), or a null view.
QByteArrayView headerValue(QByteArrayView head, QByteArrayView name)
{
    qsizetype lineStart = head.indexOf('\n');
    while (lineStart >= 0 && lineStart + 1 < head.size()) {
        const QByteArrayView rest = head.sliced(lineStart + 1);
        const qsizetype end = rest.indexOf('\n');
        const QByteArrayView line = end < 0 ? rest : rest.first(end);
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && equalsIgnoringCase(line.first(colon), name)) {
            return trimmed(line.sliced(colon + 1));
        }
        if (end < 0) {
            break;
        }
        lineStart += 1 + end;
    }
    return {};
}

HandshakeReply refuse(int status, const char* code, const char* message)
{
    HandshakeReply reply;
    reply.status = status;
    reply.code = code;
    const QByteArray body
        = QByteArray(R"({"error":")") + code + R"(","message":")" + message + "\"}";
    reply.response = "HTTP/1.1 " + QByteArray::number(status)
        + (status == 426 ? " Upgrade Required" : " Bad Request")
        + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size())
        + "\r\nConnection: close\r\n" + (status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "")
        + "\r\n" + body;
    return reply;
}

} // namespace

QByteArray acceptKey(QByteArrayView key)
{
    QCryptographicHash sha1(QCryptographicHash::Sha1);
    sha1.addData(key);
    sha1.addData(kGuid);
    return sha1.result().toBase64();
}

HandshakeReply answerHandshake(QByteArrayView head)
{
    // RFC 6455 4.2.1: the opening handshake is an HTTP/1.1 (or higher) request. HTTP/1.0 has no
    // Upgrade mechanism (RFC 9110 7.8: a server must ignore Upgrade in an HTTP/1.0 request), and
    // WebSocket over HTTP/2 is not an upgrade: anything but HTTP/1.1 is refused. (The method,
    // GET, was checked by the RequestSniffer, which answers 405 otherwise.)
    const qsizetype lineEnd = head.indexOf('\n');
    const QByteArrayView requestLine = trimmed(lineEnd < 0 ? head : head.first(lineEnd));
    if (!requestLine.endsWith(" HTTP/1.1")) {
        return refuse(400, "unsupported_http_version", "a WebSocket upgrade needs HTTP/1.1");
    }
    const QByteArrayView version = headerValue(head, "Sec-WebSocket-Version");
    if (version != "13") {
        return refuse(426, "unsupported_websocket_version", "Sec-WebSocket-Version 13 required");
    }
    const QByteArrayView key = headerValue(head, "Sec-WebSocket-Key");
    // The key is 16 random bytes in base64: 24 characters ending in "==".
    const QByteArray decoded = QByteArray::fromBase64(key.toByteArray());
    if (key.size() != 24 || decoded.size() != 16 || decoded.toBase64() != key) {
        return refuse(400, "bad_websocket_key", "Sec-WebSocket-Key must be 16 bytes in base64");
    }
    HandshakeReply reply;
    reply.accepted = true;
    reply.status = 101;
    reply.response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: "
        + acceptKey(key) + "\r\n\r\n";
    return reply;
}

} // namespace parley::server::websocket
