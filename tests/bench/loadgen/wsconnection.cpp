#include "wsconnection.h"

#include "sha1.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parley::bench {

namespace {

// Nothing legitimate queues this much towards a chat server: the server stopped reading.
constexpr std::size_t kMaxWriteBacklog = 8 * 1024 * 1024;
constexpr std::size_t kMaxHandshakeBytes = 16 * 1024;

} // namespace

WsConnection::WsConnection(WsConnection&& other) noexcept
    : m_fd(other.m_fd)
    , m_epollFd(other.m_epollFd)
    , m_tag(other.m_tag)
    , m_state(other.m_state)
    , m_failure(other.m_failure)
    , m_errno(other.m_errno)
    , m_closeCode(other.m_closeCode)
    , m_detail(std::move(other.m_detail))
    , m_maskState(other.m_maskState)
    , m_wantWrite(other.m_wantWrite)
    , m_out(std::move(other.m_out))
    , m_outOffset(other.m_outOffset)
    , m_in(std::move(other.m_in))
    , m_fragments(std::move(other.m_fragments))
    , m_inFragmentedMessage(other.m_inFragmentedMessage)
    , m_acceptExpected(std::move(other.m_acceptExpected))
    , m_request(std::move(other.m_request))
{
    other.m_fd = -1;
    other.m_state = State::Unused;
}

WsConnection::~WsConnection()
{
    closeSocket();
}

const char* WsConnection::failureName(Failure f)
{
    switch (f) {
    case Failure::None: return "none";
    case Failure::Connect: return "connect_failed";
    case Failure::Handshake: return "handshake_failed";
    case Failure::Protocol: return "websocket_protocol_error";
    case Failure::ClosedByServer: return "closed_by_server";
    case Failure::Disconnected: return "disconnected";
    case Failure::WriteBacklog: return "write_backlog";
    }
    return "?";
}

std::uint32_t WsConnection::nextMask()
{
    // xorshift32: masks only need to be unpredictable to intermediaries, not secure.
    std::uint32_t x = m_maskState;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    m_maskState = x;
    return x;
}

void WsConnection::closeSocket()
{
    if (m_fd >= 0) {
        ::close(m_fd); // also removes it from the epoll set
        m_fd = -1;
    }
}

bool WsConnection::connect(int epollFd, std::uint32_t tag, const sockaddr_in& source,
    const sockaddr_in& target, const std::string& hostHeader, const std::string& path,
    std::uint32_t seed)
{
    m_epollFd = epollFd;
    m_tag = tag;
    m_maskState = seed | 1;
    m_state = State::Connecting;
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (m_fd < 0) {
        m_errno = errno;
        m_state = State::Closed;
        m_failure = Failure::Connect;
        m_detail = std::strerror(m_errno);
        return false;
    }
    const int one = 1;
    ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Let connect() pick the source port per 4-tuple, so each source address offers the whole
    // ephemeral range towards each server port.
    ::setsockopt(m_fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (::bind(m_fd, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0
        || (::connect(m_fd, reinterpret_cast<const sockaddr*>(&target), sizeof target) != 0
            && errno != EINPROGRESS)) {
        m_errno = errno;
        m_detail = std::strerror(m_errno);
        closeSocket();
        m_state = State::Closed;
        m_failure = Failure::Connect;
        return false;
    }
    epoll_event ev {};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u32 = tag;
    m_wantWrite = true;
    ::epoll_ctl(epollFd, EPOLL_CTL_ADD, m_fd, &ev);

    std::uint8_t key[16];
    for (int i = 0; i < 16; i += 4) {
        const std::uint32_t r = nextMask();
        std::memcpy(key + i, &r, 4);
    }
    const std::string keyText = base64Encode(key, sizeof key);
    m_acceptExpected = webSocketAccept(keyText);
    m_request = "GET " + path + " HTTP/1.1\r\nHost: " + hostHeader
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + keyText
        + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    return true;
}

void WsConnection::fail(Failure f, Listener& listener, std::string detail)
{
    if (m_state == State::Closed) {
        return;
    }
    m_failure = f;
    m_detail = std::move(detail);
    closeSocket();
    m_state = State::Closed;
    listener.onFailed(*this);
}

void WsConnection::updateInterest()
{
    const bool want = m_outOffset < m_out.size();
    if (want == m_wantWrite || m_fd < 0) {
        return;
    }
    m_wantWrite = want;
    epoll_event ev {};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.u32 = m_tag;
    ::epoll_ctl(m_epollFd, EPOLL_CTL_MOD, m_fd, &ev);
}

void WsConnection::flush()
{
    while (m_outOffset < m_out.size()) {
        const ssize_t n = ::send(m_fd, m_out.data() + m_outOffset, m_out.size() - m_outOffset,
            MSG_NOSIGNAL);
        if (n > 0) {
            m_outOffset += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        break; // EAGAIN: wait for EPOLLOUT; other errors surface on the next read
    }
    if (m_outOffset == m_out.size()) {
        m_out.clear();
        m_outOffset = 0;
    } else if (m_outOffset > 64 * 1024) {
        m_out.erase(0, m_outOffset);
        m_outOffset = 0;
    }
    updateInterest();
}

void WsConnection::sendText(std::string_view text)
{
    if (m_state != State::Open) {
        return;
    }
    if (m_out.size() - m_outOffset > kMaxWriteBacklog) {
        m_failure = Failure::WriteBacklog; // reported by the owner's checks; keep going
        return;
    }
    appendClientFrame(m_out, WsOpcode::Text, text, nextMask());
    flush();
}

void WsConnection::close(std::uint16_t code)
{
    if (m_state == State::Open) {
        const char payload[2] = { static_cast<char>(code >> 8), static_cast<char>(code & 0xFF) };
        appendClientFrame(m_out, WsOpcode::Close, std::string_view(payload, 2), nextMask());
        flush();
    }
    closeSocket();
    m_state = State::Closed;
}

void WsConnection::handleEvents(std::uint32_t events, Listener& listener, char* scratch,
    std::size_t size, std::int64_t nowNs)
{
    if (m_state == State::Connecting) {
        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) {
            return;
        }
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(m_fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || (events & (EPOLLERR | EPOLLHUP)) != 0) {
            m_errno = err;
            fail(Failure::Connect, listener, std::strerror(err));
            return;
        }
        m_state = State::Handshaking;
        m_out = std::move(m_request);
        m_request.clear();
        m_outOffset = 0;
        flush();
        return;
    }
    if (m_state == State::Closed || m_state == State::Unused) {
        return;
    }
    if ((events & EPOLLOUT) != 0) {
        flush();
    }
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) == 0) {
        return;
    }
    // A bounded number of reads per event keeps one busy connection from starving the others.
    for (int round = 0; round < 4 && m_state != State::Closed; ++round) {
        const ssize_t n = ::recv(m_fd, scratch, size, 0);
        if (n == 0) {
            fail(Failure::Disconnected, listener, "EOF");
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }
            if (errno == EINTR) {
                continue;
            }
            fail(Failure::Disconnected, listener, std::strerror(errno));
            return;
        }
        const std::string_view fresh(scratch, static_cast<std::size_t>(n));
        if (m_state == State::Handshaking) {
            m_in.append(fresh);
            if (!handleHandshake(listener, nowNs)) {
                return;
            }
            continue;
        }
        if (m_in.empty()) {
            const std::size_t used = parseFrames(fresh, listener, nowNs);
            if (m_state != State::Closed && used < fresh.size()) {
                m_in.assign(fresh.substr(used));
            }
        } else {
            m_in.append(fresh);
            const std::size_t used = parseFrames(m_in, listener, nowNs);
            if (m_state != State::Closed) {
                m_in.erase(0, used);
            }
        }
        if (static_cast<std::size_t>(n) < size) {
            return; // drained what the kernel had
        }
    }
}

bool WsConnection::handleHandshake(Listener& listener, std::int64_t nowNs)
{
    const auto end = m_in.find("\r\n\r\n");
    if (end == std::string::npos) {
        if (m_in.size() > kMaxHandshakeBytes) {
            fail(Failure::Handshake, listener, "handshake response too large");
            return false;
        }
        return true; // need more
    }
    const std::string_view head(m_in.data(), end + 2);
    if (head.substr(0, 12) != "HTTP/1.1 101") {
        fail(Failure::Handshake, listener,
            std::string(head.substr(0, std::min<std::size_t>(head.find('\r'), 80))));
        return false;
    }
    bool acceptOk = false;
    std::size_t lineStart = head.find("\r\n") + 2;
    while (lineStart < head.size()) {
        const std::size_t lineEnd = head.find("\r\n", lineStart);
        const std::string_view line = head.substr(lineStart, lineEnd - lineStart);
        const auto colon = line.find(':');
        if (colon != std::string_view::npos) {
            const std::string_view name = line.substr(0, colon);
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
                value.remove_prefix(1);
            }
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
                value.remove_suffix(1);
            }
            if (name.size() == 20 && ::strncasecmp(name.data(), "Sec-WebSocket-Accept", 20) == 0) {
                acceptOk = value == m_acceptExpected;
            }
        }
        lineStart = lineEnd + 2;
    }
    if (!acceptOk) {
        fail(Failure::Handshake, listener, "missing or wrong Sec-WebSocket-Accept");
        return false;
    }
    m_acceptExpected.clear();
    m_acceptExpected.shrink_to_fit();
    std::string rest = m_in.substr(end + 4);
    m_in.clear();
    m_state = State::Open;
    listener.onOpen(*this);
    if (m_state == State::Open && !rest.empty()) {
        const std::size_t used = parseFrames(rest, listener, nowNs);
        if (m_state == State::Open) {
            m_in = rest.substr(used);
        }
    }
    return m_state == State::Open;
}

std::size_t WsConnection::parseFrames(std::string_view data, Listener& listener,
    std::int64_t nowNs)
{
    std::size_t used = 0;
    while (m_state == State::Open && used < data.size()) {
        WsServerFrame frame;
        std::size_t consumed = 0;
        const auto status = parseServerFrame(data.substr(used), frame, consumed);
        if (status == WsParseStatus::NeedMore) {
            break;
        }
        if (status == WsParseStatus::Error) {
            fail(Failure::Protocol, listener, "invalid frame from server");
            return used;
        }
        used += consumed;
        switch (frame.opcode) {
        case WsOpcode::Text:
            if (m_inFragmentedMessage) {
                fail(Failure::Protocol, listener, "text frame inside a fragmented message");
                return used;
            }
            if (frame.fin) {
                listener.onText(*this, frame.payload, nowNs);
            } else {
                m_inFragmentedMessage = true;
                m_fragments.assign(frame.payload);
            }
            break;
        case WsOpcode::Continuation:
            if (!m_inFragmentedMessage) {
                fail(Failure::Protocol, listener, "continuation without a message");
                return used;
            }
            m_fragments.append(frame.payload);
            if (frame.fin) {
                m_inFragmentedMessage = false;
                listener.onText(*this, m_fragments, nowNs);
            }
            break;
        case WsOpcode::Binary:
            fail(Failure::Protocol, listener, "binary frame (Parley sends text only)");
            return used;
        case WsOpcode::Ping:
            appendClientFrame(m_out, WsOpcode::Pong, frame.payload, nextMask());
            flush();
            break;
        case WsOpcode::Pong:
            break;
        case WsOpcode::Close: {
            const auto* p = reinterpret_cast<const std::uint8_t*>(frame.payload.data());
            m_closeCode = frame.payload.size() >= 2 ? (p[0] << 8) | p[1] : 1005;
            appendClientFrame(m_out, WsOpcode::Close, frame.payload.substr(0, 2), nextMask());
            flush();
            fail(Failure::ClosedByServer, listener,
                "close " + std::to_string(m_closeCode) + " "
                    + std::string(frame.payload.size() > 2 ? frame.payload.substr(2) : ""));
            return used;
        }
        }
    }
    return used;
}

} // namespace parley::bench
