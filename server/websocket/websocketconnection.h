// WebSocketConnection: one server-side WebSocket over a raw, non-blocking TCP descriptor that it
// owns, on the thread that created it. It replaces QTcpSocket + QWebSocket (about 17 KiB per idle
// connection with their private objects, buffers, timers and signal plumbing; issue 3).
//
// I/O: one QSocketNotifier for reading, always on; one for writing, made on first need and
// enabled only while the outgoing queue is non-empty. send() writes at once with send(2) when
// nothing is queued (the common case: a chat frame fits the socket buffer), otherwise the frame
// is queued and written with writev(2) when the socket is writable. Reads go through one buffer
// per thread into the FrameParser, which keeps bytes only for an incomplete frame. No timers:
// idle and close timeouts are the owner's (the I/O thread's shared sweep).
//
// Outgoing queue: shared frames (TextFrame bytes, reference-counted), bounded by
// Settings::maxQueuedBytes; past it the connection closes itself with 4003 (slow consumer). A
// close with 4003 drops the frames not yet started (the client replays from storage); other
// closes are queued behind what is already there.
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
        //! The connection started closing by itself (peer's close frame, protocol error, slow
        //! consumer) with `code`; nothing more is received.
        virtual void closing(CloseCode code) = 0;
        //! The descriptor is closed. Called once; defer destroying the connection.
        virtual void disconnected() = 0;
    };

    struct Settings {
        quint32 maxMessageBytes = 64 * 1024;
        qint64 maxQueuedBytes = 2 * 1024 * 1024;
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

    bool isOpen() const { return m_state == State::Open; }
    bool isDisconnected() const { return m_state == State::Closed; }
    qint64 queuedBytes() const { return m_queuedBytes; }
    QString peer() const;

private:
    enum class State : quint8 {
        Open,
        CloseSent, // our close frame is queued; waiting for the peer's
        Finishing, // close frames exchanged or error: flush, shut down writing, wait for EOF
        Closed,
    };

    void readable();
    void writable();
    void dispatch(websocket::FrameParser::Result result);
    void enqueue(QByteArray bytes, bool control = false);
    //! Writes what the socket takes; false if the connection failed.
    bool flush();
    void setWriteWanted(bool wanted);
    void finish(CloseCode code, QByteArrayView reason, bool sendCloseFrame);
    void dropUnstartedFrames();
    void closeDescriptor();

    int m_fd;
    State m_state = State::Open;
    bool m_writeShutDown = false;
    Handler& m_handler;
    std::unique_ptr<QSocketNotifier> m_readNotifier;
    std::unique_ptr<QSocketNotifier> m_writeNotifier; // made on first need
    websocket::FrameParser m_parser;
    std::vector<QByteArray> m_queue; // frames not fully written; m_queue[m_head] is next
    std::size_t m_head = 0;
    qsizetype m_headOffset = 0; // bytes of m_queue[m_head] already written
    qint64 m_queuedBytes = 0;
    qint64 m_maxQueuedBytes;
};

} // namespace parley::server
