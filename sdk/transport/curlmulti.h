// CurlMulti: libcurl's multi interface driven by the Qt event loop of the thread it lives on.
//
// CURLMOPT_SOCKETFUNCTION maps each socket libcurl wants watched to QSocketNotifiers, and
// CURLMOPT_TIMERFUNCTION to one single-shot QTimer; both call curl_multi_socket_action(). So no
// call blocks, there is no helper thread and nothing polls. libcurl honours the standard proxy
// environment variables (http_proxy, https_proxy, no_proxy, ...) by default; Request::proxy sets
// one explicitly. No curl type appears here (curl.h stays in the .cpp).
//
// Callbacks (onData, onDone) run from the event loop, never inside start() or cancel(). cancel()
// may be called from inside a callback: the transfer is removed once libcurl returns.
//
// Cookies: every transfer runs libcurl's in-memory cookie engine on a CurlCookieJar, so what one
// response sets (Set-Cookie, e.g. a balancer's stickiness cookie) the later requests send. A
// CurlMulti has a jar of its own unless it is given one to share (setCookieJar()).
#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QString>
#include <QUrl>
#include <functional>
#include <memory>
#include <unordered_map>

class QTimer;

namespace parley {

//! Cookies kept in memory and shared by every transfer of the CurlMulti instances that hold the
//! jar (libcurl's share interface, CURL_LOCK_DATA_COOKIE). Never written to disk. Thread-safe
//! (libcurl locks it through a mutex), so instances on different threads may share one.
class CurlCookieJar final {
public:
    CurlCookieJar();
    ~CurlCookieJar();
    CurlCookieJar(const CurlCookieJar&) = delete;
    CurlCookieJar& operator=(const CurlCookieJar&) = delete;

    //! The CURLSH handle (curl.h stays in the .cpp).
    void* handle() const { return m_share; }

    struct Lock; // curlmulti.cpp

private:
    void* m_share = nullptr;
    std::unique_ptr<Lock> m_lock;
};

class CurlMulti final : public QObject {
    Q_OBJECT

public:
    struct Request {
        QUrl url;
        QByteArray method = "GET"; //!< GET, POST (with `body`) or another method without a body
        QByteArray body; //!< POST body
        QList<QPair<QByteArray, QByteArray>> headers;
        QString proxy; //!< empty: libcurl's default (the environment variables)
        int connectTimeoutMs = 10000;
        int timeoutMs = 0; //!< whole transfer; 0: none (streams)
    };
    //! Body bytes as they arrive, with the response status.
    using DataFn = std::function<void(int status, QByteArrayView bytes)>;
    //! The status a transfer ends with when no connection could be made at all (refused, host
    //! or proxy not resolvable): the server (or proxy) is down or the network is.
    static constexpr int kNoConnection = -1;
    //! The transfer ended: the HTTP status (0 if none, kNoConnection if no connection was made),
    //! and an error text when the transfer failed.
    using DoneFn = std::function<void(int status, const QString& error)>;

    explicit CurlMulti(QObject* parent = nullptr);
    ~CurlMulti() override;

    //! Starts a transfer; returns its id (never 0).
    quint64 start(const Request& request, DataFn onData, DoneFn onDone);
    //! Stops a transfer; its callbacks are not called any more. Unknown ids are ignored.
    void cancel(quint64 id);
    //! Inside an onDone callback: the response's Retry-After header in seconds (delay-seconds
    //! or an HTTP date), 0 when it had none. 0 anywhere else.
    int retryAfterSeconds() const { return m_retryAfterS; }
    //! The cookies the transfers started from now on read and write (see CurlCookieJar).
    void setCookieJar(std::shared_ptr<CurlCookieJar> jar) { m_cookies = std::move(jar); }
    const std::shared_ptr<CurlCookieJar>& cookieJar() const { return m_cookies; }

    struct Transfer; // curlmulti.cpp
    struct Watch;

private:
    void socketAction(qintptr fd, int events);
    void reap();
    void finish(Transfer* transfer, int status, const QString& error);
    static int onSocket(
        void* easy, int fd, int what, void* self, void* socketp); // fd: curl_socket_t
    static int onTimer(void* multi, long timeoutMs, void* self);

    // Each transfer holds the jar too: a jar outlives every easy handle using it.
    std::shared_ptr<CurlCookieJar> m_cookies;
    void* m_multi = nullptr;
    QTimer* m_timer = nullptr;
    quint64 m_nextId = 1;
    std::unordered_map<quint64, std::unique_ptr<Transfer>> m_transfers;
    std::unordered_map<qintptr, std::unique_ptr<Watch>> m_watches;
    int m_depth = 0; // > 0 while inside curl_multi_socket_action
    int m_retryAfterS = 0; // of the transfer whose onDone runs
};

} // namespace parley
