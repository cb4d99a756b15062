// RequestSniffer: decides what an incoming connection is from the bytes of its HTTP request head,
// without consuming them (the I/O thread feeds it QTcpSocket::peek() data).
//
// Pure and socket-free so it is tested with tables of good and bad requests. Bounded: it never
// looks past `maxHeaderBytes`; a head that is not complete within that is rejected with 431.
// Garbage (a first line that cannot be an HTTP request line) is rejected as soon as it is seen,
// without waiting for the end of the head.
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
        Reject, //!< answer `status` with a JSON error and close
    };

    struct Decision {
        Verdict verdict = Verdict::NeedMore;
        int status = 0; //!< HTTP status for Reject
        QByteArray code; //!< stable error code for Reject, e.g. "not_found"
        QByteArray message; //!< human-readable reason for Reject
        int headBytes = 0; //!< length of the request head including the blank line, when complete
    };

    static Decision inspect(QByteArrayView data, int maxHeaderBytes = 8 * 1024);
};

} // namespace parley::server
