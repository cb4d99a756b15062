// RawClient: a bare QWebSocket speaking Parley frames, for server integration tests (the SDK is
// tested on its own; these tests want to see exactly what the server sends).
//
// Every received text frame is decoded and kept in order. take<T>() waits (on the event loop,
// with a deadline, no sleeps) for the next not-yet-taken frame of type T that matches a
// predicate, and marks it taken, so tests read the stream like a queue per frame type.
#pragma once

#include "protocol/codec.h"

#include <QUrl>
#include <QWebSocket>
#include <functional>
#include <optional>
#include <vector>

namespace parley::test {

class RawClient {
public:
    static constexpr int kTimeoutMs = 15000;

    explicit RawClient(QUrl url);
    ~RawClient();

    bool open(int timeoutMs = kTimeoutMs);
    void sendText(const QString& text);
    void send(const protocol::ClientFrame& frame);
    void sendBinary(const QByteArray& data);
    void close();

    //! Waits until the connection is closed; the close code then (-1 on timeout).
    int waitClosed(int timeoutMs = kTimeoutMs);
    bool isOpen() const { return m_socket.state() == QAbstractSocket::ConnectedState; }

    //! Processes events until `done()` is true or the deadline passes; returns done().
    static bool waitUntil(const std::function<bool()>& done, int timeoutMs = kTimeoutMs);

    template <typename T>
    std::optional<T> take(
        const std::function<bool(const T&)>& match = {}, int timeoutMs = kTimeoutMs)
    {
        std::optional<T> found;
        waitUntil(
            [&] {
                for (std::size_t i = 0; i < m_frames.size(); ++i) {
                    if (m_taken[i]) {
                        continue;
                    }
                    const T* frame = std::get_if<T>(&m_frames[i]);
                    if (frame && (!match || match(*frame))) {
                        m_taken[i] = true;
                        found = *frame;
                        return true;
                    }
                }
                return false;
            },
            timeoutMs);
        return found;
    }

    //! The next error answering request `id`.
    std::optional<protocol::Error> takeError(const std::string& id, int timeoutMs = kTimeoutMs);

    // Conversations: send the request, wait for its answer.
    std::optional<protocol::Welcome> hello(
        const std::string& user, std::vector<protocol::ResumeCursor> resume = {});
    std::optional<protocol::Joined> join(const std::string& room);
    std::optional<protocol::Ack> sendMessage(
        const std::string& room, const std::string& clientId, const std::string& body);
    std::optional<protocol::HistoryPage> history(const std::string& room,
        std::optional<std::uint64_t> before, std::optional<std::uint64_t> after,
        std::uint32_t limit);
    //! Round trip through the session: every frame the server sent before the heartbeat_ack
    //! has been received when this returns true.
    bool sync();
    //! Asks the server whether `user` is online (presence_query); nullopt without an answer.
    std::optional<bool> queryOnline(const std::string& user);

    //! Every decoded frame so far (taken or not), in arrival order.
    const std::vector<protocol::ServerFrame>& frames() const { return m_frames; }
    //! Raw texts that did not decode (should stay empty: the server only sends valid frames).
    const std::vector<QString>& undecodable() const { return m_undecodable; }
    std::string nextId();

private:
    QUrl m_url;
    QWebSocket m_socket;
    std::vector<protocol::ServerFrame> m_frames;
    std::vector<bool> m_taken;
    std::vector<QString> m_undecodable;
    bool m_closed = false;
    int m_closeCode = -1;
    int m_nextId = 0;
};

} // namespace parley::test
