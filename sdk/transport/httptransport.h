// HttpTransport: what SseTransport and LongPollTransport share — a parleyd HTTP session.
//
// Upstream: the first frame (the client's hello) opens the session with POST /v1/session; its
// answer carries the welcome (emitted as the first frame) and the session token. Later frames
// are queued and sent in order as JSON-array batches by POST /v1/commands, one request in flight
// at a time (so the server sees them in sendFrame() order). Downstream is the subclass's
// (an event stream, or long polls), resuming from the last cursor received.
//
// open() checks that the server answers HTTP (GET /healthz) before opened(): a proxy or a
// network that blocks the server fails the open, which is what transport negotiation counts.
// The endpoint URL may be ws://, wss://, http:// or https:// with any path: the HTTP base is
// the same host and port, scheme http(s), path /v1.
//
// close() ends the server session with DELETE /v1/session (bounded wait) before closed(); so
// does the transport giving up by itself (downstream or command failures), so that a failed
// attempt leaves no session behind at the server.
//
// Balancers: any request may land on any node of a cluster (the server relays streams and
// polls and forwards commands to the node holding the session, see docs/cluster.md), so nothing
// here depends on stickiness. Cookies are kept anyway (CurlMulti's cookie engine, on a jar the
// transports of one Client share: setCookieJar()), for balancers and proxies that rely on them.
//
// Failures: a downstream that cannot be re-established kMaxDownstreamFailures times in a row,
// a failed command request, or a lost session closes the transport with 1006; the server's
// close event/field gives its own code (4001, 4003, 1001, ...). A downstream request answered
// 404 (no such session) or 503 (the node holding it is gone or unreachable) loses the session
// at once: waiting and retrying cannot bring it back, a new session (the Client's reconnect,
// which resumes) can. A 502 (a balancer lost the node serving the request) is retried at once.
// A 429 or 503 with Retry-After on any request is a refusal for capacity (the server's caps,
// docs/security.md): the transport closes with 4007 and retryAfter() is the server's wait.
#pragma once

#include "curlmulti.h"
#include "transport.h"

#include <QTimer>

namespace parley {

class HttpTransport : public Transport {
    Q_OBJECT

public:
    static constexpr int kMaxDownstreamFailures = 3;
    //! The largest POST /v1/commands body (a batch always holds at least one frame).
    static constexpr qsizetype kMaxBatchBytes = 60 * 1024;
    //! How long close() waits for DELETE /v1/session before reporting closed() anyway.
    static constexpr int kEndSessionTimeoutMs = 3000;

    explicit HttpTransport(QObject* parent = nullptr);
    ~HttpTransport() override;

    //! An explicit proxy (libcurl syntax, e.g. http://proxy:3128); empty: the environment's.
    void setProxy(const QString& proxy) { m_proxy = proxy; }
    //! The cookies this transport's requests read and write (shared with other transports of the
    //! same Client); by default a jar of its own.
    void setCookieJar(std::shared_ptr<CurlCookieJar> jar) { m_curl.setCookieJar(std::move(jar)); }

    void open(const QUrl& url) override;
    void close(int code = 1000, const QString& reason = QString()) override;
    bool sendFrame(const QByteArray& frame) override;
    bool isOpen() const override { return m_open; }
    bool welcomeProvesDownstream() const override { return false; }

    //! The HTTP base (http://host:port/v1) for an endpoint URL.
    static QUrl baseUrl(const QUrl& endpoint);

protected:
    //! Starts (or restarts) the downstream after cursor(); the session token is known.
    virtual void startDownstream() = 0;
    //! Stops the downstream (close or finish).
    virtual void stopDownstream() = 0;

    CurlMulti& curl() { return m_curl; }
    CurlMulti::Request request(const QString& path) const;
    quint64 cursor() const { return m_cursor; }
    //! A downstream frame with its cursor (frames at or below the current cursor are dropped:
    //! a resumed stream may repeat what it already sent).
    void deliver(quint64 cursor, const QByteArray& frame);
    //! The server ended the session with `code`.
    void serverClosed(int code, const QString& reason);
    //! The downstream worked (resets the failure count) or failed (counts, then closes).
    void downstreamSucceeded() { m_downstreamFailures = 0; }
    void downstreamFailed(const QString& why, int retryMs);
    //! A downstream request ended with HTTP `status` (and libcurl's `error`, if any) without
    //! carrying the downstream: the session is lost (404, 503), the request is retried at once
    //! (502) or after `retryMs` (anything else), counted as a failure.
    void downstreamRefused(int status, const QString& error, int retryMs);
    bool isFinished() const { return m_finished; }

private:
    //! A refusal for capacity (429 or 503 with Retry-After, read inside the transfer's onDone):
    //! records the wait and ends the transport with 4007 (after DELETE /v1/session when a
    //! session is open). False for any other answer.
    bool refusedForCapacity(int status, const QString& what, const QByteArray& body = {});
    void openSession(const QByteArray& hello);
    void flushCommands();
    void finish(int code, const QString& reason);

    CurlMulti m_curl;
    QString m_proxy;
    QUrl m_base;
    QByteArray m_token;
    quint64 m_cursor = 0;
    bool m_open = false;
    bool m_finished = true;
    bool m_sessionRequested = false;
    bool m_endingSession = false; // close() sent DELETE /v1/session; closed() follows its answer
    QList<QByteArray> m_outbox;
    quint64 m_commandTransfer = 0;
    quint64 m_controlTransfer = 0; // healthz or session
    int m_downstreamFailures = 0;
    QTimer m_retryTimer;
};

} // namespace parley
