#include "websocketconnection.h"

#include "common/clock.h"
#include "framewriter.h"
#include "textframe.h"

#include <QHostAddress>
#include <QSocketNotifier>
#include <algorithm>
#include <cerrno>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace parley::server {

namespace {

// One read buffer per I/O thread, shared by all its connections: reads are consumed (parsed)
// before the next one starts. 64 KiB takes a maximal frame's worth in one call.
constexpr std::size_t kReadBufferSize = 64 * 1024;
// Reads per wake-up before yielding to other sockets (epoll is level-triggered: the rest comes
// next round).
constexpr int kReadsPerWakeUp = 4;
constexpr int kMaxIovecs = 64;

char* readBuffer()
{
    thread_local std::unique_ptr<char[]> buffer(new char[kReadBufferSize]);
    return buffer.get();
}

bool wouldBlock(int error)
{
    return error == EAGAIN || error == EWOULDBLOCK;
}

quint32 now32()
{
    return quint32(monotonicMs());
}

} // namespace

WebSocketConnection::WebSocketConnection(int fd, Handler& handler, Settings settings)
    : m_fd(fd)
    , m_handler(handler)
    , m_readNotifier(std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Read))
    , m_parser(websocket::FrameParser::Limits { settings.maxMessageBytes, true })
    , m_settings(settings)
{
    m_settings.minFrameRate = std::max<quint32>(1, m_settings.minFrameRate);
    QObject::connect(m_readNotifier.get(), &QSocketNotifier::activated, m_readNotifier.get(),
        [this] { readable(); });
}

WebSocketConnection::~WebSocketConnection()
{
    if (m_fd >= 0) {
        // Notifiers leave the dispatcher before the descriptor is closed.
        m_readNotifier.reset();
        m_writeNotifier.reset();
        ::close(m_fd);
    }
}

QString WebSocketConnection::peer() const
{
    sockaddr_storage address {};
    socklen_t length = sizeof address;
    if (m_fd < 0 || ::getpeername(m_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        return {};
    }
    return QHostAddress(reinterpret_cast<const sockaddr*>(&address)).toString();
}

void WebSocketConnection::receive(QByteArrayView bytes)
{
    if (m_state == State::Open || m_state == State::CloseSent) {
        feed(bytes);
    }
}

void WebSocketConnection::readable()
{
    char* buffer = readBuffer();
    // Stops as soon as the answers to what was read put the queue over its bound.
    for (int round = 0; round < kReadsPerWakeUp && m_state != State::Closed && !m_readPaused;
         ++round) {
        const ssize_t n = ::recv(m_fd, buffer, kReadBufferSize, 0);
        if (n > 0) {
            if (m_state != State::Finishing) {
                feed(QByteArrayView(buffer, qsizetype(n)));
            }
            if (std::size_t(n) < kReadBufferSize) {
                return;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && wouldBlock(errno)) {
            return;
        }
        closeDescriptor(); // peer hung up (EOF) or the connection failed
        return;
    }
}

void WebSocketConnection::readPending()
{
    if (m_state == State::Open || m_state == State::CloseSent) {
        readable();
    }
}

void WebSocketConnection::feed(QByteArrayView bytes)
{
    websocket::FrameParser::Result result = m_parser.feed(bytes);
    trackProgress(result, bytes.size());
    dispatch(std::move(result));
}

void WebSocketConnection::trackProgress(
    const websocket::FrameParser::Result& result, qsizetype fedBytes)
{
    const qsizetype buffered = m_parser.bufferedBytes();
    if (buffered == 0 || m_parser.isFinished()) {
        m_progressBytes = 0;
        return;
    }
    // A frame in progress starts when the parser goes from idle to holding bytes, or when a
    // message completed in this read and the bytes held belong to the next one. Control frames
    // between fragments do not end the message in progress.
    const bool messageCompleted
        = std::any_of(result.messages.begin(), result.messages.end(), [](const auto& message) {
              return message.opcode == websocket::Opcode::Text
                  || message.opcode == websocket::Opcode::Binary;
          });
    if (m_progressBytes == 0 || messageCompleted) {
        m_progressStartMs = now32();
        m_progressBytes = quint32(std::min<qsizetype>(buffered, 0x7fffffff));
    } else {
        m_progressBytes = quint32(std::min<qint64>(qint64(m_progressBytes) + fedBytes, 0x7fffffff));
    }
}

void WebSocketConnection::checkDeadlines(std::int64_t nowMs)
{
    if (m_state != State::Open) {
        return;
    }
    const auto now = quint32(nowMs);
    // While reading is paused the frame's slowness is ours, not the client's.
    if (m_progressBytes > 0 && !m_readPaused) {
        const qint64 elapsed = qint32(now - m_progressStartMs);
        const qint64 allowed = qint64(m_settings.frameTimeoutMs)
            + qint64(m_progressBytes) * 1000 / m_settings.minFrameRate;
        if (elapsed > allowed) {
            m_progressBytes = 0;
            // The frame cannot be finished any more: like a protocol error, no more parsing.
            finish(CloseCode::FrameTimeout, closeReason(CloseCode::FrameTimeout), true);
            if (m_state != State::Closed) {
                m_handler.closing(CloseCode::FrameTimeout);
            }
            return;
        }
    }
    if (m_readPaused && qint64(qint32(now - m_pausedSinceMs)) > qint64(m_settings.stallTimeoutMs)) {
        closeAsSlowConsumer();
    }
}

void WebSocketConnection::dispatch(websocket::FrameParser::Result result)
{
    for (websocket::Message& message : result.messages) {
        if (m_state == State::Closed || m_state == State::Finishing) {
            return;
        }
        switch (message.opcode) {
        case websocket::Opcode::Text:
            if (m_state == State::Open) {
                m_handler.textReceived(message.payload);
            }
            break;
        case websocket::Opcode::Binary:
            if (m_state == State::Open) {
                m_handler.binaryReceived(message.payload);
            }
            break;
        case websocket::Opcode::Ping:
            // The handler may refuse it (and close): then it is not answered.
            if (m_state == State::Open && m_handler.controlReceived() && m_state == State::Open) {
                answerPing(message.payload);
            }
            break;
        case websocket::Opcode::Pong:
            if (m_state == State::Open) {
                m_handler.controlReceived();
            }
            break;
        case websocket::Opcode::Continuation:
            break;
        case websocket::Opcode::Close: {
            const CloseCode code = message.closeCode == quint16(CloseCode::NoStatus)
                ? CloseCode::Normal
                : CloseCode(message.closeCode);
            const bool peerStarted = m_state == State::Open;
            // Answer a close we did not start with the same code; ours is already on its way.
            finish(code, {}, peerStarted);
            if (peerStarted && m_state != State::Closed) {
                m_handler.closing(code);
            }
            return;
        }
        }
    }
    if (result.error && (m_state == State::Open || m_state == State::CloseSent)) {
        const bool wasOpen = m_state == State::Open;
        finish(result.error->code, result.error->reason, wasOpen);
        if (wasOpen && m_state != State::Closed) {
            m_handler.closing(result.error->code);
        }
    }
}

void WebSocketConnection::answerPing(QByteArrayView payload)
{
    QByteArray pong = websocket::encodeFrame(websocket::Opcode::Pong, payload);
    if (m_pongIndex != kNoPong) {
        // RFC 6455 5.5.3: a pong for the most recent ping only. The queued one has not started
        // on the wire (flush() forgets it once it has), so it can be replaced whole.
        QByteArray& pending = m_queue[m_pongIndex];
        m_queuedBytes += pong.size() - pending.size();
        pending = std::move(pong);
        return;
    }
    if (enqueue(std::move(pong), Kind::Control) && m_state == State::Open) {
        m_pongIndex = quint32(m_queue.size() - 1);
    }
}

void WebSocketConnection::writeRaw(QByteArray bytes)
{
    enqueue(std::move(bytes), Kind::Control);
}

void WebSocketConnection::send(const TextFrame& frame)
{
    enqueue(frame.wire(), Kind::Data);
}

void WebSocketConnection::close(CloseCode code, QByteArrayView reason)
{
    if (m_state != State::Open) {
        return;
    }
    if (code == CloseCode::SlowConsumer) {
        dropUnstartedFrames();
    }
    m_state = State::CloseSent;
    enqueue(websocket::encodeCloseFrame(code, reason), Kind::Close);
}

void WebSocketConnection::abort()
{
    closeDescriptor();
}

bool WebSocketConnection::enqueue(QByteArray bytes, Kind kind)
{
    if (m_state == State::Closed || (kind == Kind::Data && m_state != State::Open)
        || m_writeShutDown) {
        return false;
    }
    if (m_head == m_queue.size()) {
        // Nothing queued: write now; queue only what the socket does not take.
        const ssize_t n = ::send(
            m_fd, bytes.constData(), std::size_t(bytes.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n == bytes.size()) {
            return false;
        }
        if (n < 0 && !wouldBlock(errno) && errno != EINTR) {
            closeDescriptor();
            return false;
        }
        const qsizetype written = n > 0 ? qsizetype(n) : 0;
        m_queue.clear();
        m_head = 0;
        m_headOffset = written;
        m_queuedBytes = bytes.size() - written;
        m_queue.push_back(std::move(bytes));
        setWriteWanted(true);
        updateReading();
        return written == 0;
    }
    m_queuedBytes += bytes.size();
    m_queue.push_back(std::move(bytes));
    // Every byte counts toward the bound (a flood of pings must not queue pongs past it); only
    // the close frame goes out regardless.
    if (kind != Kind::Close && m_state == State::Open
        && m_queuedBytes > qint64(m_settings.maxQueuedBytes)) {
        closeAsSlowConsumer();
        return false;
    }
    updateReading();
    return true;
}

void WebSocketConnection::closeAsSlowConsumer()
{
    close(CloseCode::SlowConsumer, closeReason(CloseCode::SlowConsumer));
    if (m_state != State::Closed) {
        m_handler.closing(CloseCode::SlowConsumer);
    }
}

void WebSocketConnection::updateReading()
{
    const bool over = m_queuedBytes > qint64(m_settings.pauseReadingBytes);
    if (over == m_readPaused || m_state == State::Closed) {
        return;
    }
    m_readPaused = over;
    if (over) {
        m_pausedSinceMs = now32();
    } else if (m_progressBytes > 0) {
        // A frame in progress is measured again from here: its bytes waited in the kernel.
        m_progressStartMs = now32();
        m_progressBytes = quint32(
            std::max<qsizetype>(1, std::min<qsizetype>(m_parser.bufferedBytes(), 0x7fffffff)));
    }
    m_readNotifier->setEnabled(!over);
}

bool WebSocketConnection::flush()
{
    while (m_head < m_queue.size()) {
        iovec iov[kMaxIovecs];
        int count = 0;
        for (std::size_t i = m_head; i < m_queue.size() && count < kMaxIovecs; ++i, ++count) {
            const qsizetype skip = i == m_head ? m_headOffset : 0;
            iov[count].iov_base = const_cast<char*>(m_queue[i].constData()) + skip;
            iov[count].iov_len = std::size_t(m_queue[i].size() - skip);
        }
        msghdr message {};
        message.msg_iov = iov;
        message.msg_iovlen = std::size_t(count);
        ssize_t n = ::sendmsg(m_fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (wouldBlock(errno)) {
                break;
            }
            closeDescriptor();
            return false;
        }
        m_queuedBytes -= n;
        if (m_readPaused && n > 0) {
            // The client is reading, if slowly: a stall is a queue that does not move at all.
            m_pausedSinceMs = now32();
        }
        while (n > 0) {
            const qsizetype remaining = m_queue[m_head].size() - m_headOffset;
            if (n >= remaining) {
                n -= remaining;
                m_queue[m_head] = QByteArray();
                ++m_head;
                m_headOffset = 0;
            } else {
                m_headOffset += n;
                n = 0;
            }
        }
        // A pong that started on the wire can no longer be replaced.
        if (m_pongIndex != kNoPong
            && (m_pongIndex < m_head || (m_pongIndex == m_head && m_headOffset > 0))) {
            m_pongIndex = kNoPong;
        }
    }
    if (m_head == m_queue.size()) {
        m_queue.clear();
        if (m_queue.capacity() > 16) {
            m_queue.shrink_to_fit();
        }
        m_head = 0;
        m_headOffset = 0;
        m_queuedBytes = 0;
        m_pongIndex = kNoPong;
    } else if (m_head >= 64 && m_head * 2 >= m_queue.size()) {
        m_queue.erase(m_queue.begin(), m_queue.begin() + std::ptrdiff_t(m_head));
        if (m_pongIndex != kNoPong) {
            m_pongIndex -= quint32(m_head);
        }
        m_head = 0;
    }
    updateReading();
    const bool empty = m_head == m_queue.size();
    setWriteWanted(!empty);
    if (empty && m_state == State::Finishing && !m_writeShutDown) {
        // Close frames exchanged and everything written: our FIN, then wait for the peer's.
        ::shutdown(m_fd, SHUT_WR);
        m_writeShutDown = true;
    }
    return true;
}

void WebSocketConnection::writable()
{
    flush();
}

void WebSocketConnection::setWriteWanted(bool wanted)
{
    if (m_state == State::Closed) {
        return;
    }
    if (!m_writeNotifier) {
        if (!wanted) {
            return;
        }
        m_writeNotifier = std::make_unique<QSocketNotifier>(m_fd, QSocketNotifier::Write);
        QObject::connect(m_writeNotifier.get(), &QSocketNotifier::activated, m_writeNotifier.get(),
            [this] { writable(); });
        return; // enabled on construction
    }
    if (m_writeNotifier->isEnabled() != wanted) {
        m_writeNotifier->setEnabled(wanted);
    }
}

void WebSocketConnection::finish(CloseCode code, QByteArrayView reason, bool sendCloseFrame)
{
    const bool wasOpen = m_state == State::Open;
    m_state = State::Finishing;
    if (sendCloseFrame && wasOpen) {
        if (code == CloseCode::SlowConsumer) {
            dropUnstartedFrames();
        }
        enqueue(websocket::encodeCloseFrame(code, reason), Kind::Close);
    }
    if (m_state != State::Closed) {
        flush();
    }
}

void WebSocketConnection::dropUnstartedFrames()
{
    if (m_head >= m_queue.size()) {
        return;
    }
    const std::size_t keep = m_headOffset > 0 ? m_head + 1 : m_head;
    m_queue.erase(m_queue.begin() + std::ptrdiff_t(keep), m_queue.end());
    m_queuedBytes = 0;
    for (std::size_t i = m_head; i < m_queue.size(); ++i) {
        m_queuedBytes += m_queue[i].size() - (i == m_head ? m_headOffset : 0);
    }
    if (m_pongIndex != kNoPong && m_pongIndex >= keep) {
        m_pongIndex = kNoPong;
    }
    updateReading();
}

void WebSocketConnection::closeDescriptor()
{
    if (m_state == State::Closed) {
        return;
    }
    m_state = State::Closed;
    // Disabled (not deleted: we may be inside one's activation) before the close.
    m_readNotifier->setEnabled(false);
    if (m_writeNotifier) {
        m_writeNotifier->setEnabled(false);
    }
    ::close(m_fd);
    m_fd = -1;
    m_queue = {};
    m_head = 0;
    m_headOffset = 0;
    m_queuedBytes = 0;
    m_pongIndex = kNoPong;
    m_handler.disconnected();
}

} // namespace parley::server
