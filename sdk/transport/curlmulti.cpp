#include "curlmulti.h"

#include <QSocketNotifier>
#include <QTimer>
#include <algorithm>
#include <curl/curl.h>
#include <mutex>

namespace parley {

// One mutex per kind of shared data, so libcurl taking two kinds at once cannot deadlock.
struct CurlCookieJar::Lock {
    std::mutex mutexes[CURL_LOCK_DATA_LAST];
    std::mutex& of(curl_lock_data data) { return mutexes[data < CURL_LOCK_DATA_LAST ? data : 0]; }
};

CurlCookieJar::CurlCookieJar()
    : m_lock(std::make_unique<Lock>())
{
    static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    Q_UNUSED(initialised);
    CURLSH* share = curl_share_init();
    m_share = share;
    if (!share) {
        return;
    }
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
    curl_share_setopt(share, CURLSHOPT_USERDATA, m_lock.get());
    curl_share_setopt(
        share, CURLSHOPT_LOCKFUNC, +[](CURL*, curl_lock_data data, curl_lock_access, void* lock) {
            static_cast<Lock*>(lock)->of(data).lock();
        });
    curl_share_setopt(
        share, CURLSHOPT_UNLOCKFUNC, +[](CURL*, curl_lock_data data, void* lock) {
            static_cast<Lock*>(lock)->of(data).unlock();
        });
}

CurlCookieJar::~CurlCookieJar()
{
    if (m_share) {
        curl_share_cleanup(static_cast<CURLSH*>(m_share));
    }
}

struct CurlMulti::Transfer {
    quint64 id = 0;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    QByteArray body;
    QByteArray url;
    QByteArray proxy;
    DataFn onData;
    DoneFn onDone;
    CurlMulti* owner = nullptr;
    std::shared_ptr<CurlCookieJar> cookies; // in use by `easy` until its cleanup
    bool cancelled = false;
    char errorText[CURL_ERROR_SIZE] = {};
};

struct CurlMulti::Watch {
    std::unique_ptr<QSocketNotifier> read;
    std::unique_ptr<QSocketNotifier> write;
};

namespace {

CURLM* multi(void* handle)
{
    return static_cast<CURLM*>(handle);
}

size_t onWrite(char* data, size_t size, size_t count, void* userp)
{
    auto* transfer = static_cast<CurlMulti::Transfer*>(userp);
    if (transfer->cancelled) {
        return 0; // aborts the transfer
    }
    long status = 0;
    curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &status);
    transfer->onData(int(status), QByteArrayView(data, qsizetype(size * count)));
    return transfer->cancelled ? 0 : size * count;
}

// A notifier deleted from inside its own activated() signal would crash: retire it later.
void retire(std::unique_ptr<QSocketNotifier>& notifier)
{
    if (notifier) {
        notifier->setEnabled(false);
        notifier.release()->deleteLater();
    }
}

} // namespace

CurlMulti::CurlMulti(QObject* parent)
    : QObject(parent)
{
    static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    Q_UNUSED(initialised);
    m_cookies = std::make_shared<CurlCookieJar>();
    m_multi = curl_multi_init();
    m_timer = new QTimer(this);
    m_timer->setSingleShot(true);
    connect(m_timer, &QTimer::timeout, this, [this] { socketAction(CURL_SOCKET_TIMEOUT, 0); });
    curl_multi_setopt(multi(m_multi), CURLMOPT_SOCKETFUNCTION, &CurlMulti::onSocket);
    curl_multi_setopt(multi(m_multi), CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi(m_multi), CURLMOPT_TIMERFUNCTION, &CurlMulti::onTimer);
    curl_multi_setopt(multi(m_multi), CURLMOPT_TIMERDATA, this);
}

CurlMulti::~CurlMulti()
{
    for (auto& [id, transfer] : m_transfers) {
        curl_multi_remove_handle(multi(m_multi), transfer->easy);
        curl_easy_cleanup(transfer->easy);
        curl_slist_free_all(transfer->headers);
    }
    m_transfers.clear();
    m_watches.clear();
    curl_multi_cleanup(multi(m_multi));
}

quint64 CurlMulti::start(const Request& request, DataFn onData, DoneFn onDone)
{
    auto transfer = std::make_unique<Transfer>();
    transfer->id = m_nextId++;
    transfer->owner = this;
    transfer->onData = std::move(onData);
    transfer->onDone = std::move(onDone);
    transfer->url = request.url.toEncoded();
    transfer->body = request.body;
    transfer->proxy = request.proxy.toUtf8();
    CURL* easy = curl_easy_init();
    transfer->easy = easy;
    curl_easy_setopt(easy, CURLOPT_URL, transfer->url.constData());
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &onWrite);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
    curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->errorText);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, long(request.connectTimeoutMs));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, long(request.timeoutMs));
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    // The in-memory cookie engine (no file is read: ""), on the shared jar.
    curl_easy_setopt(easy, CURLOPT_COOKIEFILE, "");
    transfer->cookies = m_cookies;
    if (m_cookies && m_cookies->handle()) {
        curl_easy_setopt(easy, CURLOPT_SHARE, m_cookies->handle());
    }
    if (!transfer->proxy.isEmpty()) {
        curl_easy_setopt(easy, CURLOPT_PROXY, transfer->proxy.constData());
    }
    if (request.method == "POST") {
        curl_easy_setopt(easy, CURLOPT_POST, 1L);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, transfer->body.constData());
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, long(transfer->body.size()));
    } else if (request.method != "GET") {
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.constData());
    }
    for (const auto& [name, value] : request.headers) {
        transfer->headers
            = curl_slist_append(transfer->headers, QByteArray(name + ": " + value).constData());
    }
    // No "Expect: 100-continue" round trip before small POST bodies.
    transfer->headers = curl_slist_append(transfer->headers, "Expect:");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers);
    const quint64 id = transfer->id;
    m_transfers.emplace(id, std::move(transfer));
    // Adding only schedules work (libcurl calls the timer function); nothing runs inside start().
    curl_multi_add_handle(multi(m_multi), easy);
    return id;
}

void CurlMulti::cancel(quint64 id)
{
    const auto it = m_transfers.find(id);
    if (it == m_transfers.end()) {
        return;
    }
    it->second->cancelled = true;
    if (m_depth == 0) {
        reap();
    }
}

void CurlMulti::reap()
{
    for (auto it = m_transfers.begin(); it != m_transfers.end();) {
        if (it->second->cancelled) {
            curl_multi_remove_handle(multi(m_multi), it->second->easy);
            curl_easy_cleanup(it->second->easy);
            curl_slist_free_all(it->second->headers);
            it = m_transfers.erase(it);
        } else {
            ++it;
        }
    }
}

void CurlMulti::socketAction(qintptr fd, int events)
{
    int running = 0;
    ++m_depth;
    curl_multi_socket_action(multi(m_multi), curl_socket_t(fd), events, &running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi(m_multi), &queued)) {
        if (message->msg != CURLMSG_DONE) {
            continue;
        }
        Transfer* transfer = nullptr;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &transfer);
        long status = 0;
        curl_easy_getinfo(message->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        const CURLcode result = message->data.result;
        const QString error = result == CURLE_OK
            ? QString()
            : QString::fromUtf8(
                transfer->errorText[0] ? transfer->errorText : curl_easy_strerror(result));
        const bool noConnection = result == CURLE_COULDNT_CONNECT
            || result == CURLE_COULDNT_RESOLVE_HOST || result == CURLE_COULDNT_RESOLVE_PROXY;
        // Retry-After, as delay-seconds or an HTTP date (libcurl turns both into seconds).
        curl_off_t retryAfter = 0;
        if (curl_easy_getinfo(message->easy_handle, CURLINFO_RETRY_AFTER, &retryAfter) != CURLE_OK
            || retryAfter < 0) {
            retryAfter = 0;
        }
        m_retryAfterS = int(std::min<curl_off_t>(retryAfter, 24 * 3600));
        finish(transfer, noConnection ? kNoConnection : int(status), error);
        m_retryAfterS = 0;
    }
    --m_depth;
    reap();
}

void CurlMulti::finish(Transfer* transfer, int status, const QString& error)
{
    if (transfer->cancelled) {
        return;
    }
    transfer->cancelled = true; // removed by reap()
    transfer->onDone(status, error);
}

int CurlMulti::onSocket(void*, int fd, int what, void* self, void*)
{
    auto* me = static_cast<CurlMulti*>(self);
    if (what == CURL_POLL_REMOVE) {
        const auto it = me->m_watches.find(fd);
        if (it != me->m_watches.end()) {
            retire(it->second->read);
            retire(it->second->write);
            me->m_watches.erase(it);
        }
        return 0;
    }
    auto& watch = me->m_watches[fd];
    if (!watch) {
        watch = std::make_unique<Watch>();
    }
    const bool wantRead = what == CURL_POLL_IN || what == CURL_POLL_INOUT;
    const bool wantWrite = what == CURL_POLL_OUT || what == CURL_POLL_INOUT;
    if (wantRead && !watch->read) {
        watch->read = std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Read);
        connect(watch->read.get(), &QSocketNotifier::activated, me,
            [me, fd] { me->socketAction(fd, CURL_CSELECT_IN); });
    } else if (!wantRead) {
        retire(watch->read);
    }
    if (wantWrite && !watch->write) {
        watch->write = std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Write);
        connect(watch->write.get(), &QSocketNotifier::activated, me,
            [me, fd] { me->socketAction(fd, CURL_CSELECT_OUT); });
    } else if (!wantWrite) {
        retire(watch->write);
    }
    return 0;
}

int CurlMulti::onTimer(void*, long timeoutMs, void* self)
{
    auto* me = static_cast<CurlMulti*>(self);
    if (timeoutMs < 0) {
        me->m_timer->stop();
    } else {
        // 0 means "now": still through the event loop, never re-entrantly.
        me->m_timer->start(int(timeoutMs));
    }
    return 0;
}

} // namespace parley
