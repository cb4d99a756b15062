// One non-blocking WebSocket client connection on an epoll instance: TCP connect from a chosen
// source address, the RFC 6455 opening handshake (Sec-WebSocket-Accept checked), masked text
// frames out, text messages in (fragments reassembled), ping answered with pong, close echoed.
// No threads, no timers: the owner's epoll loop calls handleEvents() with what epoll reported.
#pragma once

#include "wsframe.h"

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace parley::bench {

class WsConnection {
public:
    enum class State { Unused, Connecting, Handshaking, Open, Closed };
    enum class Failure { None, Connect, Handshake, Protocol, ClosedByServer, Disconnected,
        WriteBacklog };

    //! Receives what happens on connections; called from handleEvents().
    class Listener {
    public:
        virtual ~Listener() = default;
        //! The handshake completed: frames may be sent.
        virtual void onOpen(WsConnection& c) = 0;
        //! One complete text message. nowNs: CLOCK_MONOTONIC when its bytes were read.
        virtual void onText(WsConnection& c, std::string_view text, std::int64_t nowNs) = 0;
        //! The connection is gone (failure() says why). Not called for close() by the owner.
        virtual void onFailed(WsConnection& c) = 0;
    };

    WsConnection() = default;
    WsConnection(const WsConnection&) = delete;
    WsConnection& operator=(const WsConnection&) = delete;
    WsConnection(WsConnection&& other) noexcept;
    WsConnection& operator=(WsConnection&&) = delete;
    ~WsConnection();

    //! Starts a non-blocking connect and registers with epoll (event data = tag). On immediate
    //! failure returns false with failure() == Connect and errnoValue() set.
    bool connect(int epollFd, std::uint32_t tag, const sockaddr_in& source,
        const sockaddr_in& target, const std::string& hostHeader, const std::string& path,
        std::uint32_t seed);

    //! Feeds one epoll event. `scratch` is a read buffer shared by all connections.
    void handleEvents(std::uint32_t events, Listener& listener, char* scratch, std::size_t size,
        std::int64_t nowNs);

    //! Queues one text frame and writes what the socket takes now.
    void sendText(std::string_view text);
    //! Sends a close frame (best effort) and closes the socket. No callback follows.
    void close(std::uint16_t code = 1000);

    State state() const { return m_state; }
    std::uint32_t tag() const { return m_tag; }
    Failure failure() const { return m_failure; }
    int errnoValue() const { return m_errno; }
    int closeCode() const { return m_closeCode; }
    const std::string& failureDetail() const { return m_detail; }

    static const char* failureName(Failure f);

private:
    void fail(Failure f, Listener& listener, std::string detail = {});
    void flush();
    void updateInterest();
    bool handleHandshake(Listener& listener, std::int64_t nowNs);
    // Parses frames out of `data`; returns bytes consumed, stops early if the connection fails.
    std::size_t parseFrames(std::string_view data, Listener& listener, std::int64_t nowNs);
    std::uint32_t nextMask();
    void closeSocket();

    int m_fd = -1;
    int m_epollFd = -1;
    std::uint32_t m_tag = 0;
    State m_state = State::Unused;
    Failure m_failure = Failure::None;
    int m_errno = 0;
    int m_closeCode = 0;
    std::string m_detail;
    std::uint32_t m_maskState = 1;
    bool m_wantWrite = false;
    std::string m_out;
    std::size_t m_outOffset = 0;
    std::string m_in; // bytes read but not yet parsed (partial frame or handshake)
    std::string m_fragments;
    bool m_inFragmentedMessage = false;
    std::string m_acceptExpected; // handshake only
    std::string m_request; // handshake only
};

} // namespace parley::bench
