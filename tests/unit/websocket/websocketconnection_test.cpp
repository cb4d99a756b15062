// WebSocketConnection's bounds, over a socketpair whose far end the test reads (or does not):
// at most one pong waiting, every queued byte counted, reading paused while the queue is over
// its bound, and the deadlines of checkDeadlines() (a stalled queue, a frame too slow). Clock
// values are passed in, bracketing the moment the connection read its own clock, so nothing
// waits for time to pass.
#include "common/clock.h"
#include "websocket/framewriter.h"
#include "websocket/textframe.h"
#include "websocket/websocketconnection.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace parley::server;
using namespace parley::server::websocket;

namespace {

constexpr quint32 kKey = 0x1d2c3b4a;

QByteArray masked(Opcode opcode, QByteArrayView payload, bool fin = true)
{
    return encodeMaskedFrame(opcode, payload, kKey, fin);
}

struct RecordingHandler : WebSocketConnection::Handler {
    void textReceived(QByteArrayView text) override { texts.push_back(text.toByteArray()); }
    void binaryReceived(QByteArrayView) override { }
    bool controlReceived() override
    {
        ++controls;
        if (!acceptControl) {
            connection->close(CloseCode::PolicyViolation, closeReason(CloseCode::PolicyViolation));
        }
        return acceptControl;
    }
    void closing(CloseCode code) override { closings.push_back(code); }
    void disconnected() override { gone = true; }

    WebSocketConnection* connection = nullptr;
    bool acceptControl = true;
    int controls = 0;
    std::vector<QByteArray> texts;
    std::vector<CloseCode> closings;
    bool gone = false;
};

class WebSocketConnectionTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, m_fds), 0);
        // A small kernel buffer on the server's side, so that the connection's own queue fills.
        const int small = 4096;
        ::setsockopt(m_fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    }
    void TearDown() override
    {
        m_connection.reset();
        ::close(m_fds[1]);
    }

    WebSocketConnection& open(WebSocketConnection::Settings settings = {})
    {
        m_connection = std::make_unique<WebSocketConnection>(m_fds[0], m_handler, settings);
        m_handler.connection = m_connection.get();
        return *m_connection;
    }

    //! Sends text frames until the kernel takes no more and some wait in the queue.
    void fillKernel()
    {
        const TextFrame frame = TextFrame::fromUtf8(std::string(1000, 'k'));
        for (int i = 0; i < 100000 && m_connection->queuedBytes() == 0; ++i) {
            m_connection->send(frame);
        }
        ASSERT_GT(m_connection->queuedBytes(), 0);
    }

    //! Sends text frames until more than `bytes` are queued.
    void queueMoreThan(qint64 bytes)
    {
        const TextFrame frame = TextFrame::fromUtf8(std::string(1000, 'q'));
        while (m_connection->queuedBytes() <= bytes && m_connection->isOpen()) {
            m_connection->send(frame);
        }
    }

    //! Reads everything the connection sends (running the event loop so that it flushes) until
    //! its queue is empty, or the connection is closed; the messages, in order.
    std::vector<Message> drainPeer()
    {
        std::vector<Message> messages;
        QDeadlineTimer deadline(10000);
        for (;;) {
            const bool eof = readAvailable(messages);
            if (eof || m_connection->queuedBytes() == 0 || deadline.hasExpired()) {
                // Whatever the connection has written is in the socket by now.
                readAvailable(messages);
                return messages;
            }
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 20);
        }
    }

    //! Reads until the socket is empty; true at end of stream.
    bool readAvailable(std::vector<Message>& messages)
    {
        for (;;) {
            char buffer[65536];
            const ssize_t n = ::recv(m_fds[1], buffer, sizeof buffer, 0);
            if (n <= 0) {
                return n == 0;
            }
            FrameParser::Result result = m_peerParser.feed(QByteArrayView(buffer, n));
            EXPECT_FALSE(result.error);
            for (Message& message : result.messages) {
                messages.push_back(std::move(message));
            }
        }
    }

    static std::vector<QByteArray> payloadsOf(const std::vector<Message>& messages, Opcode opcode)
    {
        std::vector<QByteArray> out;
        for (const Message& message : messages) {
            if (message.opcode == opcode) {
                out.push_back(message.payload);
            }
        }
        return out;
    }

    static std::optional<quint16> closeCodeIn(const std::vector<Message>& messages)
    {
        for (const Message& message : messages) {
            if (message.opcode == Opcode::Close) {
                return message.closeCode;
            }
        }
        return std::nullopt;
    }

    //! Writes `bytes` from the client's end (whole: they fit the socket's buffer); false if not.
    bool sendFromClient(const QByteArray& bytes)
    {
        return ::send(m_fds[1], bytes.constData(), std::size_t(bytes.size()), 0) == bytes.size();
    }

    //! Bytes the kernel holds for the server's side, unread.
    int unreadByServer() const
    {
        int pending = 0;
        ::ioctl(m_fds[0], FIONREAD, &pending);
        return pending;
    }

    int m_fds[2] = { -1, -1 };
    RecordingHandler m_handler;
    std::unique_ptr<WebSocketConnection> m_connection;
    FrameParser m_peerParser { FrameParser::Limits { 1 << 24, false } };
};

TEST_F(WebSocketConnectionTest, PingIsAnsweredWithItsPayload)
{
    WebSocketConnection& c = open();
    c.receive(masked(Opcode::Ping, "are you there"));
    EXPECT_EQ(m_handler.controls, 1);
    const std::vector<QByteArray> pongs = payloadsOf(drainPeer(), Opcode::Pong);
    ASSERT_EQ(pongs.size(), 1u);
    EXPECT_EQ(pongs[0], "are you there");
}

TEST_F(WebSocketConnectionTest, AtMostOnePongWaitsAndItAnswersTheLatestPing)
{
    WebSocketConnection& c = open();
    fillKernel();
    const qint64 queued = c.queuedBytes();
    constexpr int kPings = 10000;
    QByteArray pings;
    for (int i = 0; i < kPings; ++i) {
        pings += masked(Opcode::Ping, "ping " + QByteArray::number(i));
    }
    c.receive(pings);
    EXPECT_EQ(m_handler.controls, kPings);
    // Still what was queued, plus one pong.
    const QByteArray lastPong = encodeFrame(Opcode::Pong, "ping " + QByteArray::number(kPings - 1));
    EXPECT_EQ(c.queuedBytes(), queued + lastPong.size());

    const std::vector<QByteArray> pongs = payloadsOf(drainPeer(), Opcode::Pong);
    ASSERT_EQ(pongs.size(), 1u);
    EXPECT_EQ(pongs[0], "ping " + QByteArray::number(kPings - 1));
    EXPECT_TRUE(m_handler.closings.empty());
}

TEST_F(WebSocketConnectionTest, PingAfterThePongStartedOnTheWireGetsItsOwnPong)
{
    WebSocketConnection& c = open();
    fillKernel();
    c.receive(masked(Opcode::Ping, "first"));
    // Once the first pong has gone out, the next ping is answered separately.
    std::vector<Message> messages = drainPeer();
    c.receive(masked(Opcode::Ping, "second"));
    for (Message& message : drainPeer()) {
        messages.push_back(std::move(message));
    }
    const std::vector<QByteArray> pongs = payloadsOf(messages, Opcode::Pong);
    ASSERT_EQ(pongs.size(), 2u);
    EXPECT_EQ(pongs[0], "first");
    EXPECT_EQ(pongs[1], "second");
}

TEST_F(WebSocketConnectionTest, PongsInterleavedWithPartialReadsStayWellFormed)
{
    // Pings arrive while the client reads a few bytes at a time, so pongs are written in pieces:
    // only a pong that has not started may be replaced, and every pong the client gets is the
    // whole answer to one ping, in order.
    WebSocketConnection& c = open();
    fillKernel();
    auto payload = [](int i) { return QByteArray::number(i).rightJustified(5, '0').repeated(20); };
    constexpr int kPings = 2000;
    std::vector<Message> messages;
    for (int i = 0; i < kPings; ++i) {
        c.receive(masked(Opcode::Ping, payload(i)));
        char buffer[37];
        const ssize_t n = ::recv(m_fds[1], buffer, sizeof buffer, 0);
        if (n > 0) {
            FrameParser::Result result = m_peerParser.feed(QByteArrayView(buffer, n));
            ASSERT_FALSE(result.error);
            for (Message& message : result.messages) {
                messages.push_back(std::move(message));
            }
        }
        QCoreApplication::processEvents();
    }
    for (Message& message : drainPeer()) {
        messages.push_back(std::move(message));
    }
    int last = -1;
    for (const QByteArray& pong : payloadsOf(messages, Opcode::Pong)) {
        const int i = pong.left(5).toInt();
        ASSERT_EQ(pong, payload(i)) << "a pong mixing two pings";
        ASSERT_GT(i, last);
        last = i;
    }
    EXPECT_EQ(last, kPings - 1);
}

TEST_F(WebSocketConnectionTest, RefusedControlFrameIsNotAnswered)
{
    WebSocketConnection& c = open();
    m_handler.acceptControl = false;
    c.receive(masked(Opcode::Ping, "p") + masked(Opcode::Ping, "q"));
    EXPECT_EQ(m_handler.controls, 1) << "nothing is asked once closing";
    const std::vector<Message> messages = drainPeer();
    EXPECT_TRUE(payloadsOf(messages, Opcode::Pong).empty());
    EXPECT_EQ(closeCodeIn(messages), quint16(CloseCode::PolicyViolation));
}

TEST_F(WebSocketConnectionTest, PongsCountTowardTheQueueBound)
{
    WebSocketConnection::Settings settings;
    settings.maxQueuedBytes = 64 * 1024;
    settings.pauseReadingBytes = 64 * 1024;
    WebSocketConnection& c = open(settings);
    fillKernel();
    // Queue up to a few bytes short of the bound, then let a pong cross it.
    const qint64 room = settings.maxQueuedBytes - c.queuedBytes();
    ASSERT_GT(room, 200);
    for (qint64 payload = room - 8; payload > 0; --payload) {
        const TextFrame frame = TextFrame::fromUtf8(std::string(std::size_t(payload), 'f'));
        if (frame.wire().size() <= room - 4) {
            c.send(frame);
            break;
        }
    }
    ASSERT_LE(c.queuedBytes(), settings.maxQueuedBytes);
    ASSERT_GT(c.queuedBytes(), settings.maxQueuedBytes - 12);
    ASSERT_TRUE(m_handler.closings.empty());

    c.receive(masked(Opcode::Ping, "0123456789"));
    ASSERT_EQ(m_handler.closings.size(), 1u);
    EXPECT_EQ(m_handler.closings[0], CloseCode::SlowConsumer);
    EXPECT_EQ(closeCodeIn(drainPeer()), quint16(CloseCode::SlowConsumer));
}

TEST_F(WebSocketConnectionTest, ReadingPausesOverTheBoundAndResumesOnceTheClientReads)
{
    WebSocketConnection::Settings settings;
    settings.pauseReadingBytes = 16 * 1024;
    WebSocketConnection& c = open(settings);
    fillKernel();
    queueMoreThan(settings.pauseReadingBytes);
    ASSERT_TRUE(c.isReadingPaused());

    // The client sends a message: it stays in the kernel while the queue is over the bound.
    const QByteArray message = masked(Opcode::Text, R"({"type":"heartbeat"})");
    ASSERT_TRUE(sendFromClient(message));
    for (int i = 0; i < 3; ++i) {
        QCoreApplication::processEvents();
    }
    EXPECT_TRUE(m_handler.texts.empty());
    EXPECT_EQ(unreadByServer(), message.size());

    // The client reads what it was sent: reading resumes and the message arrives.
    drainPeer();
    EXPECT_FALSE(c.isReadingPaused());
    QDeadlineTimer deadline(10000);
    while (m_handler.texts.empty() && !deadline.hasExpired()) {
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 20);
    }
    ASSERT_EQ(m_handler.texts.size(), 1u);
    EXPECT_TRUE(m_handler.closings.empty());
}

TEST_F(WebSocketConnectionTest, ReadPendingHandlesWhatTheKernelHoldsWithoutTheEventLoop)
{
    // The hello deadline's check: a busy thread has not run its notifiers, but the client's
    // frame is in the kernel's buffer; readPending() reads it there and then.
    open();
    const QByteArray hello = masked(Opcode::Text, R"({"type":"hello","id":"h","user":"a"})");
    ASSERT_TRUE(sendFromClient(hello));
    ASSERT_TRUE(m_handler.texts.empty());
    m_connection->readPending();
    ASSERT_EQ(m_handler.texts.size(), 1u);
    EXPECT_EQ(m_handler.texts[0], R"({"type":"hello","id":"h","user":"a"})");
    EXPECT_EQ(unreadByServer(), 0);
    m_connection->readPending(); // nothing more: no second delivery
    EXPECT_EQ(m_handler.texts.size(), 1u);
}

TEST_F(WebSocketConnectionTest, ReadPendingRespectsBackpressure)
{
    WebSocketConnection::Settings settings;
    settings.pauseReadingBytes = 16 * 1024;
    WebSocketConnection& c = open(settings);
    fillKernel();
    queueMoreThan(settings.pauseReadingBytes);
    ASSERT_TRUE(c.isReadingPaused());
    const QByteArray message = masked(Opcode::Text, R"({"type":"heartbeat"})");
    ASSERT_TRUE(sendFromClient(message));
    c.readPending();
    EXPECT_TRUE(m_handler.texts.empty());
    EXPECT_EQ(unreadByServer(), message.size());
}

TEST_F(WebSocketConnectionTest, QueueStuckOverTheBoundClosesWithSlowConsumer)
{
    WebSocketConnection::Settings settings;
    settings.pauseReadingBytes = 16 * 1024;
    settings.stallTimeoutMs = 1000;
    WebSocketConnection& c = open(settings);
    fillKernel();
    const std::int64_t before = monotonicMs();
    queueMoreThan(settings.pauseReadingBytes);
    const std::int64_t after = monotonicMs();
    ASSERT_TRUE(c.isReadingPaused());

    c.checkDeadlines(before + settings.stallTimeoutMs);
    EXPECT_TRUE(m_handler.closings.empty());
    c.checkDeadlines(after + settings.stallTimeoutMs + 1);
    ASSERT_EQ(m_handler.closings.size(), 1u);
    EXPECT_EQ(m_handler.closings[0], CloseCode::SlowConsumer);
    EXPECT_EQ(closeCodeIn(drainPeer()), quint16(CloseCode::SlowConsumer));
}

// A frame in progress may take frameTimeoutMs plus a second per minFrameRate bytes received.
TEST_F(WebSocketConnectionTest, FrameInProgressTooSlowClosesWithFrameTimeout)
{
    constexpr quint32 kTimeoutMs = 1000;
    constexpr quint32 kRate = 100; // bytes per second: 10 ms per byte
    const QByteArray frame = masked(Opcode::Text, QByteArray(50, 'x'));
    const QByteArray fragment = masked(Opcode::Text, "frag", false);
    const QByteArray ping = masked(Opcode::Ping, "p");
    const struct {
        const char* name;
        std::vector<QByteArray> inputs; // one receive() each
        qint64 bytes; // received while in progress; -1: nothing in progress, never closed
    } table[] = {
        { "half a frame", { frame.left(20) }, 20 },
        { "a header only", { frame.left(2) }, 2 },
        { "half a frame, then a bit more", { frame.left(20), frame.mid(20, 10) }, 30 },
        { "a whole frame", { frame }, -1 },
        { "a frame in pieces, completed", { frame.left(20), frame.mid(20) }, -1 },
        // What follows a completed message is a new frame in progress.
        { "a frame, then the start of the next", { frame + frame.left(10) }, 10 },
        { "a frame in pieces, completed with the start of the next",
            { frame.left(20), frame.mid(20) + frame.left(10) }, 10 },
        // The message is in progress until its last fragment: a ping between fragments does
        // not end it (its bytes count as received).
        { "one fragment, then a ping", { fragment, ping }, 4 + ping.size() },
    };
    for (const auto& row : table) {
        SCOPED_TRACE(row.name);
        TearDown();
        SetUp();
        m_handler = RecordingHandler();
        m_peerParser = FrameParser(FrameParser::Limits { 1 << 24, false });
        WebSocketConnection::Settings settings;
        settings.frameTimeoutMs = kTimeoutMs;
        settings.minFrameRate = kRate;
        WebSocketConnection& c = open(settings);
        const std::int64_t before = monotonicMs();
        for (const QByteArray& input : row.inputs) {
            c.receive(input);
        }
        const std::int64_t after = monotonicMs();
        if (row.bytes < 0) {
            c.checkDeadlines(after + 3600 * 1000);
            EXPECT_TRUE(m_handler.closings.empty());
            continue;
        }
        const std::int64_t allowedMs = kTimeoutMs + row.bytes * 1000 / kRate;
        c.checkDeadlines(before + allowedMs);
        EXPECT_TRUE(m_handler.closings.empty());
        c.checkDeadlines(after + allowedMs + 1);
        ASSERT_EQ(m_handler.closings.size(), 1u);
        EXPECT_EQ(m_handler.closings[0], CloseCode::FrameTimeout);
        EXPECT_EQ(closeCodeIn(drainPeer()), quint16(CloseCode::FrameTimeout));
    }
}

TEST_F(WebSocketConnectionTest, FrameWaitingWhileReadingIsPausedIsNotTheClientsDelay)
{
    WebSocketConnection::Settings settings;
    settings.pauseReadingBytes = 16 * 1024;
    settings.frameTimeoutMs = 1000;
    settings.minFrameRate = 100;
    settings.stallTimeoutMs = 3600 * 1000;
    WebSocketConnection& c = open(settings);
    fillKernel();
    queueMoreThan(settings.pauseReadingBytes);
    ASSERT_TRUE(c.isReadingPaused());
    // A fragment (4 payload bytes held) and a ping (7 bytes on the wire) in progress.
    c.receive(masked(Opcode::Text, "frag", false));
    c.receive(masked(Opcode::Ping, "p"));
    c.checkDeadlines(monotonicMs() + 600 * 1000);
    EXPECT_TRUE(m_handler.closings.empty());

    // Once reading resumes, the message is measured from then on, by what it holds (4 bytes).
    const std::int64_t before = monotonicMs();
    drainPeer();
    const std::int64_t after = monotonicMs();
    ASSERT_FALSE(c.isReadingPaused());
    c.checkDeadlines(before + 1000 + 4 * 10);
    EXPECT_TRUE(m_handler.closings.empty());
    c.checkDeadlines(after + 1000 + 4 * 10 + 1);
    ASSERT_EQ(m_handler.closings.size(), 1u);
    EXPECT_EQ(m_handler.closings[0], CloseCode::FrameTimeout);
}

} // namespace
