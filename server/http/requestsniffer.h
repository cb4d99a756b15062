// RequestSniffer: decides what an incoming connection is from the bytes of its HTTP request head,
// without consuming them (the I/O thread feeds it QTcpSocket::peek() data).
//
// Pure and socket-free so it is tested with tables of good and bad requests. Bounded: it never
// looks past `maxHeaderBytes`; a head that is not complete within that is rejected with 431.
// Garbage (a first line that cannot be an HTTP request line) and a line end other than CRLF
// (a bare LF or CR) are rejected as soon as they are seen, without waiting for the end of the
// head. RFC 9112 3.2: an HTTP/1.1 request without a Host header, or any request with more than
// one or a malformed one, is rejected with 400.
//
// HTTP transports: why our own parser and not QtHttpServer. Debian 12's
// qt6-httpserver-dev (6.4) would be a new dependency, and in 6.4 its responder only writes whole
// responses: streaming a text/event-stream event by event and holding a long-poll open are not
// part of its public API in that version, and it owns the socket, so it could not share the port
// with our WebSocket hand-off and slow-loris sweep. The HTTP/1.1 subset we need (request line,
// headers, Content-Length bodies; no chunked request bodies, no pipelining past one request) is
// small, so we parse it here and fuzz this function (tests/fuzz/http_request_fuzz.cpp).
//
// The session token travels in the X-Parley-Session header. Only GET /v1/sse also takes it as
// `?token=`, for EventSource clients, which cannot set headers: anywhere else a query token is
// refused (401), so that a request a browser sends cross-site without custom headers (a form
// POST of text/plain) cannot carry a session's token, and tokens stay out of the request lines
// that proxies log.
#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace parley::server {

class RequestSniffer {
public:
    enum class Verdict {
        NeedMore, //!< the head is incomplete: wait for more bytes (until the header timeout)
        Health, //!< GET /healthz
        WebSocket, //!< GET /v1/ws with Upgrade: websocket: hand to the WebSocket server
        OpenSession, //!< POST /v1/session: body is a hello frame
        EndSession, //!< DELETE /v1/session: ends the session named by the token (no body)
        Commands, //!< POST /v1/commands: body is one client frame or a JSON array of them
        EventStream, //!< GET /v1/sse: text/event-stream of the session's frames
        Poll, //!< GET /v1/poll: long-poll for the session's frames
        Reject, //!< answer `status` with a JSON error and close
    };

    struct Decision {
        Verdict verdict = Verdict::NeedMore;
        int status = 0; //!< HTTP status for Reject
        QByteArray code; //!< stable error code for Reject, e.g. "not_found"
        QByteArray message; //!< human-readable reason for Reject
        int headBytes = 0; //!< length of the request head including the blank line, when complete
        qint64 contentLength = 0; //!< body bytes that follow the head (POST endpoints)
        QByteArray sessionToken; //!< X-Parley-Session header, or `?token=` on GET /v1/sse
        QByteArray cursor; //!< Last-Event-ID header, or the `cursor` query parameter
        bool keepAlive = true; //!< false for HTTP/1.0 or `Connection: close`
    };

    //! What a request may carry. Bodies are bounded per endpoint, from the head (413 beyond),
    //! so a connection never holds more than its endpoint can use: a hello for POST
    //! /v1/session, a batch for POST /v1/commands, nothing for the GET and DELETE endpoints.
    struct Limits {
        int maxHeaderBytes = 8 * 1024;
        qint64 maxCommandsBodyBytes = 1024 * 1024; //!< POST /v1/commands
        qint64 maxSessionBodyBytes = 32 * 1024; //!< POST /v1/session
    };

    //! Inspects the bytes received so far.
    static Decision inspect(QByteArrayView data, const Limits& limits);
    //! inspect() with `maxBodyBytes` for both POST endpoints.
    static Decision inspect(
        QByteArrayView data, int maxHeaderBytes = 8 * 1024, qint64 maxBodyBytes = 1024 * 1024)
    {
        return inspect(data, Limits { maxHeaderBytes, maxBodyBytes, maxBodyBytes });
    }
};

} // namespace parley::server
