// HttpSink: the SessionSink of a session opened over the HTTP transports (POST /v1/session).
//
// Frames are numbered with a per-session cursor (1, 2, ...) and kept in a bounded queue. A client
// receives them either on an attached event stream (GET /v1/sse: `id: <cursor>` per event,
// written and flushed one by one) or by long-polling (GET /v1/poll?cursor=N: everything after N,
// or held until something arrives or the poll timeout). A stream that reconnects with
// Last-Event-ID, or a poll with its cursor, gets what it missed replayed from the queue.
//
// Bounds (the slow-consumer rule of every transport): frames not yet handed to any client count
// towards pendingBytes(); past maxOutboundBytes the session closes with 4003 and the client
// re-opens and replays from storage. Frames already handed out are retained (at most
// kRetainFrames and maxOutboundBytes) only so that a dropped stream can resume; asking for a
// cursor older than what is retained closes the session with 4003 too.
//
// Lives on the session's I/O thread. A stream or poll is written to an HttpDownstream
// (http/httpdownstream.h): the client's own connection (moved to this thread), or in a cluster a
// relay to the node that received the client's request. Each is finished (written out, then
// closed) when it is replaced, when the session closes, and in the destructor; it deletes itself
// once its client is gone. Every response closes its connection (`Connection: close`): a held
// stream or poll occupies it anyway.
#pragma once

#include "httpdownstream.h"
#include "session/sessionsink.h"

#include <QByteArray>
#include <QPointer>
#include <cstdint>
#include <deque>
#include <functional>

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
    void answerPoll(std::uint64_t after);
    static void finish(HttpDownstream* downstream);
    void trim();
    QByteArray closeJson() const;

    const QByteArray m_secret;
    const QString m_peer;
    const Settings m_settings;
    QObject* m_context;
    std::function<void()> m_gone;
    std::deque<Frame> m_frames;
    std::uint64_t m_nextCursor = 1;
    std::uint64_t m_delivered = 0;
    qint64 m_undeliveredBytes = 0;
    qint64 m_retainedBytes = 0;
    QPointer<HttpDownstream> m_stream;
    std::int64_t m_lastStreamWriteMs = 0;
    QPointer<HttpDownstream> m_poll;
    std::uint64_t m_pollAfter = 0;
    std::int64_t m_pollDeadlineMs = 0;
    bool m_closed = false;
    int m_closeCode = 0;
    QString m_closeReason;
};

} // namespace parley::server
