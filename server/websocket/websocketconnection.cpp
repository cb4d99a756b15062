#include "websocketconnection.h"

#include "framewriter.h"
#include "textframe.h"

#include <QHostAddress>
#include <QSocketNotifier>
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

} // namespace

WebSocketConnection::WebSocketConnection(int fd, Handler& handler, Settings settings)
    : m_fd(fd)
    , m_handler(handler)
    , m_readNotifier(std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Read))
    , m_parser(websocket::FrameParser::Limits { settings.maxMessageBytes, true })
    , m_maxQueuedBytes(settings.maxQueuedBytes)
{
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
        dispatch(m_parser.feed(bytes));
    }
}

void WebSocketConnection::readable()
{
    char* buffer = readBuffer();
    for (int round = 0; round < kReadsPerWakeUp && m_state != State::Closed; ++round) {
        const ssize_t n = ::recv(m_fd, buffer, kReadBufferSize, 0);
        if (n > 0) {
            if (m_state != State::Finishing) {
                dispatch(m_parser.feed(QByteArrayView(buffer, qsizetype(n))));
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
            if (m_state == State::Open) {
                enqueue(websocket::encodeFrame(websocket::Opcode::Pong, message.payload), true);
            }
            break;
        case websocket::Opcode::Pong:
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

void WebSocketConnection::writeRaw(QByteArray bytes)
{
    enqueue(std::move(bytes), true);
}

void WebSocketConnection::send(const TextFrame& frame)
{
    enqueue(frame.wire());
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
    enqueue(websocket::encodeCloseFrame(code, reason), true);
}

void WebSocketConnection::abort()
{
    closeDescriptor();
}

void WebSocketConnection::enqueue(QByteArray bytes, bool control)
{
    if (m_state == State::Closed || (!control && m_state != State::Open) || m_writeShutDown) {
        return;
    }
    if (m_head == m_queue.size()) {
        // Nothing queued: write now; queue only what the socket does not take.
        const ssize_t n = ::send(
            m_fd, bytes.constData(), std::size_t(bytes.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n == bytes.size()) {
            return;
        }
        if (n < 0 && !wouldBlock(errno) && errno != EINTR) {
            closeDescriptor();
            return;
        }
        const qsizetype written = n > 0 ? qsizetype(n) : 0;
        m_queue.clear();
        m_head = 0;
        m_headOffset = written;
        m_queuedBytes = bytes.size() - written;
        m_queue.push_back(std::move(bytes));
        setWriteWanted(true);
        return;
    }
    m_queuedBytes += bytes.size();
    m_queue.push_back(std::move(bytes));
    if (!control && m_queuedBytes > m_maxQueuedBytes) {
        close(CloseCode::SlowConsumer, closeReason(CloseCode::SlowConsumer));
        if (m_state != State::Closed) {
            m_handler.closing(CloseCode::SlowConsumer);
        }
    }
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
    }
    if (m_head == m_queue.size()) {
        m_queue.clear();
        if (m_queue.capacity() > 16) {
            m_queue.shrink_to_fit();
        }
        m_head = 0;
        m_headOffset = 0;
        m_queuedBytes = 0;
    } else if (m_head >= 64 && m_head * 2 >= m_queue.size()) {
        m_queue.erase(m_queue.begin(), m_queue.begin() + std::ptrdiff_t(m_head));
        m_head = 0;
    }
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
        enqueue(websocket::encodeCloseFrame(code, reason), true);
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
    m_handler.disconnected();
}

} // namespace parley::server
