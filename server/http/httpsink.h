// HttpSink: the SessionSink of a session opened over the HTTP transports (POST /v1/session).
//
// Frames are numbered with a per-session cursor (1, 2, ...) and kept in a bounded queue. A client
// receives them either on an attached event stream (GET /v1/sse: `id: <cursor>` per event,
// written and flushed one by one) or by long-polling (GET /v1/poll?cursor=N: everything after N,
// or held until something arrives or the poll timeout). A stream that reconnects with
// Last-Event-ID, or a poll with its cursor, gets what it missed replayed from the queue.
//
// Bounds (the slow-consumer rule of every transport): one budget, maxOutboundBytes, covers every
// byte the session holds for its client: the frames it keeps (for a stream's resumption or the
// next poll's cursor) and what its responses have not handed to the client yet (unsent socket
// bytes: the attached stream's, and those of answers still finishing, such as an earlier
// poll's). Frames already handed out are kept only while the budget (and kRetainFrames) allows;
// the oldest go first. What cannot be dropped, frames not handed out yet
// plus unsent bytes, is pendingBytes(): past maxOutboundBytes live frames close the session with
// 4003 (Session's rule), past twice that any frame does (replies to the client's own requests
// included, like a WebSocket connection's bound). The client re-opens and replays from storage;
// asking for a cursor older than what is kept closes the session with 4003 too.
//
// A held request is over: a client that sends anything on its stream or held poll closes the
// session with 4000 (HttpDownstream::watchInput()).
//
// Lives on the session's I/O thread. A stream or poll is written to an HttpDownstream
// (http/httpdownstream.h): the client's own connection (moved to this thread), or in a cluster a
// relay to the node that received the client's request. Each is finished (written out, then
// closed) when the session closes and in the destructor, and when it is replaced unless it still
// holds unsent bytes (then it is dropped: its client stopped waiting for it, and the newer one
// replays from its cursor); it deletes itself once its client is gone. Every response closes its
// connection (`Connection: close`): a held stream or poll occupies it anyway.
#pragma once

#include "httpdownstream.h"
#include "session/sessionsink.h"

#include <QByteArray>
#include <QPointer>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

class QObject;

namespace parley::server {

class HttpSink final : public SessionSink {
public:
    static constexpr std::size_t kRetainFrames = 1024;

    struct Settings {
        qint64 maxOutboundBytes = 1024 * 1024;
        int retryMs = 2000;
        int keepAliveMs = 15000;
        int pollTimeoutMs = 25000;
    };

    //! `gone` is called (later, from `context`'s event loop) once the session should be removed.
    HttpSink(QByteArray secret, QString peer, Settings settings, QObject* context,
        std::function<void()> gone);
    ~HttpSink() override;
    HttpSink(const HttpSink&) = delete;
    HttpSink& operator=(const HttpSink&) = delete;

    const QByteArray& secret() const { return m_secret; }
    //! Cursor of the newest frame so far (0: none).
    std::uint64_t lastCursor() const { return m_nextCursor - 1; }
    //! The frame with `cursor`, if retained.
    QByteArray frame(std::uint64_t cursor) const;
    //! Marks everything up to `cursor` as handed to the client (e.g. in a POST response).
    void markDelivered(std::uint64_t cursor);

    //! GET /v1/sse: streams frames after `after` (nullopt: after the last delivered one).
    void attachStream(HttpDownstream* downstream, std::optional<std::uint64_t> after);
    //! GET /v1/poll: answers with frames after `after` now, or holds the request.
    void attachPoll(HttpDownstream* downstream, std::uint64_t after, std::int64_t nowMs);
    //! Keep-alive comments and poll deadlines; called by the I/O thread's sweep.
    void tick(std::int64_t nowMs);
    //! Every byte held for the client: kept frames and unsent response bytes (the budget).
    qint64 heldBytes() const;
    //! Whether a stream or poll was ever attached (--http-attach-timeout-ms: a session that
    //! attaches none in time is closed by the I/O thread's sweep).
    bool hasAttached() const { return m_attached; }
    //! Monotonic time the session was opened.
    std::int64_t openedMs() const { return m_openedMs; }

    // SessionSink
    void send(const TextFrame& frame) override;
    qint64 pendingBytes() const override;
    void close(CloseCode code) override;
    void abort() override;
    QString peer() const override { return m_peer; }

private:
    struct Frame {
        std::uint64_t cursor;
        QByteArray json;
    };

    void closeWith(CloseCode code, const QString& reason);
    bool canReplayFrom(std::uint64_t after) const;
    void writeEvent(const Frame& frame);
    void writeCloseEvent();
    //! Answers the held poll with the frames after `after`; `superseded`: a newer poll replaces
    //! it (see supersede()).
    void answerPoll(std::uint64_t after, bool superseded = false);
    //! Ends a response after what was written; its unsent bytes stay in the budget until the
    //! client has them (or the downstream is gone).
    void finish(HttpDownstream* downstream);
    //! A newer stream or poll replaces `downstream`: its client stopped waiting for it, so what
    //! it has not sent yet is dropped rather than kept in the budget.
    void supersede(HttpDownstream* downstream);
    void watch(HttpDownstream* downstream);
    //! Unsent bytes of the attached stream and of the responses still finishing.
    qint64 unsentBytes() const;
    //! Closes the session (4003) once what cannot be dropped exceeds twice the budget.
    void enforceBudget();
    void trim();
    QByteArray closeJson() const;

    const QByteArray m_secret;
    const QString m_peer;
    const Settings m_settings;
    QObject* m_context;
    std::function<void()> m_gone;
    const std::int64_t m_openedMs;
    bool m_attached = false;
    std::deque<Frame> m_frames;
    std::uint64_t m_nextCursor = 1;
    std::uint64_t m_delivered = 0;
    qint64 m_undeliveredBytes = 0;
    qint64 m_retainedBytes = 0;
    QPointer<HttpDownstream> m_stream;
    std::int64_t m_lastStreamWriteMs = 0;
    QPointer<HttpDownstream> m_poll;
    std::vector<QPointer<HttpDownstream>> m_finishing; // finished, their client still reading
    std::uint64_t m_pollAfter = 0;
    std::int64_t m_pollDeadlineMs = 0;
    bool m_closed = false;
    int m_closeCode = 0;
    QString m_closeReason;
};

} // namespace parley::server
