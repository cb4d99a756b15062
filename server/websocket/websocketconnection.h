// WebSocketConnection: one server-side WebSocket over a raw, non-blocking TCP descriptor that it
// owns, on the thread that created it. It replaces QTcpSocket + QWebSocket (about 17 KiB per idle
// connection with their private objects, buffers, timers and signal plumbing).
//
// I/O: one QSocketNotifier for reading, on unless backpressure pauses it; one for writing, made
// on first need and enabled only while the outgoing queue is non-empty. send() writes at once
// with send(2) when nothing is queued (the common case: a chat frame fits the socket buffer),
// otherwise the frame is queued and written with writev(2) when the socket is writable. Reads go
// through one buffer per thread into the FrameParser, which keeps bytes only for an incomplete
// frame. No timers: deadlines are checked by the owner's sweep (checkDeadlines(), from the I/O
// thread's shared sweep); the clock is read only when a frame starts, when reading pauses or
// resumes, and on writes while it is paused.
//
// Outgoing queue: shared frames (TextFrame bytes, reference-counted) and the connection's own
// control frames. Every byte queued counts (pongs and the 101 response too; only the close frame
// itself is exempt): past Settings::maxQueuedBytes the connection closes itself with 4003 (slow
// consumer). A close with 4003 drops the frames not yet started (the client replays from
// storage); other closes are queued behind what is already there.
//
// Backpressure: while more than Settings::pauseReadingBytes is queued the descriptor is not read,
// so a client that sends requests faster than it reads the answers is slowed down to its own
// reading pace; it is closed with 4003 when reading stays paused for Settings::stallTimeoutMs.
//
// Control frames: the handler is asked about every ping and pong (controlReceived(): the session
// counts them toward its frame rate and refuses them before hello). A ping is answered with a
// pong, and at most one pong waits in the queue (RFC 6455 5.5.3): a ping that arrives while an
// earlier pong has not started on the wire replaces that pong's payload instead of adding one.
//
// Slow frames: a frame (or fragmented message) in progress may take Settings::frameTimeoutMs,
// plus one second per Settings::minFrameRate bytes received while it is in progress; slower than
// that (a trickle, or a stall) the connection closes with 4006, like a protocol error.
//
// Close: close() sends a close frame and waits for the peer's (the owner aborts if it takes
// too long). A close frame from the peer is answered with the same code; a protocol error
// (FrameParser) is answered with its code. Once close frames are exchanged (or after an error),
// the queue is flushed, the write side shut down, and the descriptor closed when the peer
// hangs up. The handler hears Closing once and Disconnected once; Disconnected may come from
// inside send()/close()/abort(), so the owner must defer destroying the connection.
#pragma once

#include "closecode.h"
#include "frameparser.h"

#include <QByteArray>
#include <QString>
#include <cstdint>
#include <memory>
#include <vector>

class QSocketNotifier;

namespace parley::server {

class TextFrame;

class WebSocketConnection {
public:
    class Handler {
    public:
        virtual ~Handler() = default;
        //! A complete text message (valid UTF-8).
        virtual void textReceived(QByteArrayView text) = 0;
        //! A complete binary message.
        virtual void binaryReceived(QByteArrayView data) = 0;
        //! A ping or pong arrived. True accepts it (a ping is answered); false refuses it, and
        //! the handler has then started closing the connection (close()).
        virtual bool controlReceived() = 0;
        //! The connection started closing by itself (peer's close frame, protocol error, slow
        //! consumer, slow frame) with `code`; nothing more is received.
        virtual void closing(CloseCode code) = 0;
        //! The descriptor is closed. Called once; defer destroying the connection.
        virtual void disconnected() = 0;
    };

    struct Settings {
        quint32 maxMessageBytes = 64 * 1024;
        //! Reading pauses while more than this is queued, and resumes once it is not.
        quint32 pauseReadingBytes = 1024 * 1024;
        //! Past this the connection closes itself with 4003 (slow consumer).
        quint32 maxQueuedBytes = 2 * 1024 * 1024;
        //! Reading paused for longer than this closes the connection with 4003.
        quint32 stallTimeoutMs = 10000;
        //! A frame in progress may take this long, plus a second per minFrameRate bytes.
        quint32 frameTimeoutMs = 5000;
        quint32 minFrameRate = 1024; //!< bytes per second, at least 1
    };

    //! Takes ownership of `fd` (connected, non-blocking). `handler` must outlive the connection.
    WebSocketConnection(int fd, Handler& handler, Settings settings);
    ~WebSocketConnection();
    WebSocketConnection(const WebSocketConnection&) = delete;
    WebSocketConnection& operator=(const WebSocketConnection&) = delete;

    //! Bytes received before the connection existed (after the upgrade request's head).
    void receive(QByteArrayView bytes);
    //! Raw bytes ahead of any frame (the 101 response).
    void writeRaw(QByteArray bytes);
    //! Queues a text frame (shared, not copied). Ignored once closing.
    void send(const TextFrame& frame);
    //! Sends a close frame with `code` and waits for the peer's.
    void close(CloseCode code, QByteArrayView reason);
    //! Closes the descriptor now.
    void abort();
    //! Closes with 4006 if the frame in progress is too slow, with 4003 if reading has been
    //! paused for too long (then the handler hears closing()). `nowMs` is monotonicMs().
    void checkDeadlines(std::int64_t nowMs);
    //! Reads what the socket holds now, as if it had signalled readable (unless reading is
    //! paused or the connection is finishing): the owner calls it before a deadline of its own
    //! (the hello deadline) ends a connection whose bytes may be waiting unread.
    void readPending();

    bool isOpen() const { return m_state == State::Open; }
    bool isDisconnected() const { return m_state == State::Closed; }
    qint64 queuedBytes() const { return m_queuedBytes; }
    //! Backpressure: the descriptor is not read while this holds.
    bool isReadingPaused() const { return m_readPaused; }
    QString peer() const;

private:
    enum class State : quint8 {
        Open,
        CloseSent, // our close frame is queued; waiting for the peer's
        Finishing, // close frames exchanged or error: flush, shut down writing, wait for EOF
        Closed,
    };

    enum class Kind : quint8 {
        Data, // only while open
        Control, // the 101 response, pongs: also while closing
        Close, // the close frame: also past maxQueuedBytes
    };
    static constexpr quint32 kNoPong = ~quint32(0);

    void readable();
    void writable();
    void feed(QByteArrayView bytes);
    void trackProgress(const websocket::FrameParser::Result& result, qsizetype fedBytes);
    void dispatch(websocket::FrameParser::Result result);
    void answerPing(QByteArrayView payload);
    //! Queues (or writes) `bytes`; true if they wait in the queue with none of them written.
    bool enqueue(QByteArray bytes, Kind kind);
    //! Pauses or resumes reading to match the queue's size (backpressure).
    void updateReading();
    //! Writes what the socket takes; false if the connection failed.
    bool flush();
    void setWriteWanted(bool wanted);
    void finish(CloseCode code, QByteArrayView reason, bool sendCloseFrame);
    void dropUnstartedFrames();
    //! Closes with 4003 by itself (queue over its bound, or stalled) and tells the handler.
    void closeAsSlowConsumer();
    void closeDescriptor();

    int m_fd;
    State m_state = State::Open;
    bool m_writeShutDown = false;
    bool m_readPaused = false; // backpressure; m_pausedSinceMs says since when
    Handler& m_handler;
    std::unique_ptr<QSocketNotifier> m_readNotifier;
    std::unique_ptr<QSocketNotifier> m_writeNotifier; // made on first need
    websocket::FrameParser m_parser;
    std::vector<QByteArray> m_queue; // frames not fully written; m_queue[m_head] is next
    std::size_t m_head = 0;
    qsizetype m_headOffset = 0; // bytes of m_queue[m_head] already written
    qint64 m_queuedBytes = 0;
    quint32 m_pongIndex = kNoPong; // m_queue index of a pong not yet started
    // Times are monotonicMs() truncated to 32 bits: only differences (< 24 days) are used.
    quint32 m_progressStartMs = 0; // when the frame in progress started
    quint32 m_progressBytes = 0; // bytes received since; 0: no frame in progress
    quint32 m_pausedSinceMs = 0;
    Settings m_settings;
};

} // namespace parley::server
