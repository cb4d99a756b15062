// Hostile WebSocket clients against a real parleyd (docs/security.md, "WebSocket limits"): ping
// floods from a client that never reads, connections that never say hello, frames trickled a
// byte at a time, and clients that pipeline requests faster than they read the answers.
//
// Each test runs its attack in a bounded form and asserts on what users depend on: the server's
// peak memory (VmHWM in /proc/PID/status) stays under a stated bound above its idle VmRSS, the
// attacker is cut off with the documented close code and one log line, and a normal client in
// another room is still served (its send is acked). Deadlines are lowered by flags so the tests
// are quick; every wait has a timeout and no assertion is on elapsed time.
#include "rawclient.h"
#include "serverprocess.h"
#include "websocket/frameparser.h"
#include "websocket/framewriter.h"
#include "websocket/handshake.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QFile>
#include <QRegularExpression>
#include <arpa/inet.h>
#include <fcntl.h>
#include <functional>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parley::test {
namespace {

using server::CloseCode;
using namespace server::websocket;

constexpr quint32 kMask = 0x5a17c3e9;
constexpr const char* kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr qint64 kMiB = 1024 * 1024;
//! How far the server's peak memory may rise above its idle size during an attack.
constexpr qint64 kMemoryBoundBytes = 64 * kMiB;
//! Upper bound of any single wait in these tests.
constexpr int kWaitMs = 20000;

//! A field of /proc/PID/status in bytes (VmRSS, VmHWM), -1 if unreadable.
qint64 procStatusBytes(qint64 pid, QByteArrayView field)
{
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly)) {
        return -1;
    }
    for (const QByteArray& line : status.readAll().split('\n')) {
        if (line.startsWith(field.toByteArray() + ':')) {
            const QList<QByteArray> parts = line.simplified().split(' ');
            return parts.size() >= 2 ? parts[1].toLongLong() * 1024 : -1;
        }
    }
    return -1;
}

//! What the attacker finally read from the server.
struct Outcome {
    int closeCode = 0; //!< code of the server's close frame; 0 if none came
    bool closed = false; //!< the server closed the TCP connection (EOF or reset)
    qint64 pongs = 0;
    qint64 texts = 0;
    QByteArray lastText;
};

// A raw client socket that speaks just enough WebSocket to attack: upgrade, write frames without
// reading (non-blocking, so the server's backpressure shows up as writes that stop going out),
// and finally read whatever the server sent.
class Attacker {
public:
    ~Attacker()
    {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }

    //! Connects, upgrades, and leaves the socket non-blocking. `receiveBuffer` > 0 shrinks the
    //! kernel's receive buffer so that little of the server's output is absorbed by it.
    bool upgrade(quint16 port, int receiveBuffer = 0)
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (receiveBuffer > 0) {
            ::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
        }
        sockaddr_in address {};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            return false;
        }
        ::fcntl(m_fd, F_SETFL, ::fcntl(m_fd, F_GETFL) | O_NONBLOCK);
        const QByteArray request
            = "GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
              "Connection: Upgrade\r\nSec-WebSocket-Key: "
            + QByteArray(kKey) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
        if (!writeAll(request)) {
            return false;
        }
        QDeadlineTimer deadline(kWaitMs);
        while (!m_buffer.contains("\r\n\r\n")) {
            if (!readSome(deadline) || m_eof) {
                return false;
            }
        }
        const qsizetype end = m_buffer.indexOf("\r\n\r\n") + 4;
        const QByteArray head = m_buffer.left(end);
        m_buffer.remove(0, end);
        return head.startsWith("HTTP/1.1 101")
            && head.contains("Sec-WebSocket-Accept: " + acceptKey(kKey));
    }

    //! Writes all of `bytes` (waiting while the socket is full); false if the server is gone.
    bool writeAll(QByteArrayView bytes)
    {
        qsizetype done = 0;
        QDeadlineTimer deadline(kWaitMs);
        while (done < bytes.size()) {
            const ssize_t n = ::send(m_fd, bytes.data() + done, std::size_t(bytes.size() - done),
                MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                done += n;
                continue;
            }
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                return false;
            }
            pollfd p { m_fd, POLLOUT, 0 };
            if (deadline.hasExpired() || ::poll(&p, 1, 50) < 0) {
                return false;
            }
        }
        return true;
    }

    //! Writes copies of `unit` until `budget` bytes went out, the server stops taking them and
    //! `stop()` holds, or the connection fails. Never reads. Returns the bytes written.
    qint64 flood(const QByteArray& unit, qint64 budget, const std::function<bool()>& stop)
    {
        QByteArray chunk;
        while (chunk.size() < 64 * 1024) {
            chunk += unit;
        }
        qint64 sent = 0;
        qint64 nextCheck = 0;
        qsizetype offset = 0;
        QDeadlineTimer deadline(120000);
        while (sent < budget && !deadline.hasExpired()) {
            const ssize_t n = ::send(m_fd, chunk.constData() + offset,
                std::size_t(chunk.size() - offset), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                sent += n;
                offset = (offset + n) % chunk.size();
                if (sent >= nextCheck) {
                    // Every megabyte: let the test see the server's log, and stop hammering a
                    // connection the server has already given up on.
                    nextCheck = sent + kMiB;
                    QCoreApplication::processEvents();
                    if (stop()) {
                        break;
                    }
                }
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && errno != EAGAIN) {
                break; // reset by the server
            }
            pollfd p { m_fd, POLLOUT, 0 };
            ::poll(&p, 1, 20);
            QCoreApplication::processEvents();
            if (stop()) {
                break;
            }
        }
        return sent;
    }

    //! Reads (and parses) everything the server sends until it closes the connection, or
    //! nothing has come for a while.
    Outcome drain()
    {
        Outcome outcome;
        FrameParser parser(FrameParser::Limits { 1 << 24, false });
        auto consume = [&](QByteArrayView bytes) {
            FrameParser::Result result = parser.feed(bytes);
            for (const Message& message : result.messages) {
                if (message.opcode == Opcode::Pong) {
                    ++outcome.pongs;
                } else if (message.opcode == Opcode::Text) {
                    ++outcome.texts;
                    outcome.lastText = message.payload;
                } else if (message.opcode == Opcode::Close && outcome.closeCode == 0) {
                    outcome.closeCode = message.closeCode;
                }
            }
            EXPECT_FALSE(result.error) << "server sent bad framing: " << result.error->reason;
        };
        consume(std::exchange(m_buffer, {}));
        for (;;) {
            QDeadlineTimer idle(kWaitMs);
            if (!readSome(idle)) {
                return outcome; // nothing more within the deadline, connection still open
            }
            if (m_eof) {
                outcome.closed = true;
                return outcome;
            }
            consume(std::exchange(m_buffer, {}));
        }
    }

    int fd() const { return m_fd; }

    //! Writes `bytes` a byte at a time, each once `intervalMs` passed with nothing from the
    //! server; stops when the server hangs up or `closed()` holds. What arrives is kept for
    //! drain(). Returns the bytes written.
    qsizetype trickle(QByteArrayView bytes, int intervalMs, const std::function<bool()>& closed)
    {
        qsizetype next = 0;
        QDeadlineTimer deadline(kWaitMs);
        while (next < bytes.size() && !deadline.hasExpired()) {
            if (readSome(QDeadlineTimer(intervalMs))) {
                // The welcome, or the close: look at the server's log.
                QCoreApplication::processEvents();
                if (m_eof || closed()) {
                    break;
                }
                continue;
            }
            if (!writeAll(bytes.sliced(next, 1))) {
                break;
            }
            ++next;
        }
        return next;
    }

private:
    //! Appends what arrives before `deadline` to m_buffer (m_eof on EOF or reset).
    bool readSome(const QDeadlineTimer& deadline)
    {
        for (;;) {
            char buffer[65536];
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
            if (n > 0) {
                m_buffer.append(buffer, n);
                return true;
            }
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                m_eof = true;
                return true;
            }
            pollfd p { m_fd, POLLIN, 0 };
            if (deadline.hasExpired()
                || ::poll(&p, 1, int(std::max<qint64>(1, deadline.remainingTime()))) <= 0) {
                return false;
            }
        }
    }

    int m_fd = -1;
    bool m_eof = false;
    QByteArray m_buffer;
};

QByteArray maskedText(QByteArrayView payload)
{
    return encodeMaskedFrame(Opcode::Text, payload, kMask);
}

QByteArray maskedPing(qsizetype payloadBytes)
{
    return encodeMaskedFrame(Opcode::Ping, QByteArray(payloadBytes, 'p'), kMask);
}

//! The server's log lines (stderr merged with stdout) from `offset` on.
QStringList logLines(const ServerProcess& server, qsizetype offset = 0)
{
    return server.output().mid(offset).split(u'\n', Qt::SkipEmptyParts);
}

//! Waits for the next `event=session_open` line after `offset` and returns its session id.
QString waitForSessionOpen(const ServerProcess& server, qsizetype offset)
{
    static const QRegularExpression open(QStringLiteral("event=session_open session=(\\d+) "));
    QString id;
    RawClient::waitUntil(
        [&] {
            const QRegularExpressionMatch match = open.match(server.output().mid(offset));
            if (match.hasMatch()) {
                id = match.captured(1);
            }
            return !id.isEmpty();
        },
        kWaitMs);
    return id;
}

//! The log lines saying session `id` was closed.
QStringList closeLines(const ServerProcess& server, const QString& id)
{
    QStringList lines;
    for (const QString& line : logLines(server)) {
        if (line.contains(QStringLiteral("event=session_close session=%1 ").arg(id))) {
            lines.push_back(line);
        }
    }
    return lines;
}

// A client who has nothing to do with the attack: its own room, its own sends.
class Bystander {
public:
    explicit Bystander(const ServerProcess& server)
        : m_client(server.webSocketUrl())
    {
    }

    //! Connects, says hello, joins its room; true once joined.
    bool enter()
    {
        const auto joined = m_client.open() && m_client.hello("carol") ? m_client.join("quiet-room")
                                                                       : std::nullopt;
        m_lastSeq = joined ? joined->cursor.seq : 0;
        return joined.has_value();
    }

    //! Sends one message and waits for its ack (the room's next seq).
    bool sendAcked()
    {
        // Unique across bystanders: the same user resending a client id would get a duplicate.
        static int s_sends = 0;
        const std::string clientId = "carol-" + std::to_string(++s_sends);
        const std::optional<protocol::Ack> ack
            = m_client.sendMessage("quiet-room", clientId, "still here");
        if (!ack || ack->clientId != clientId || ack->seq != m_lastSeq + 1) {
            return false;
        }
        m_lastSeq = ack->seq;
        return true;
    }

    //! A new client enters and gets one send acked.
    static bool servedAnew(const ServerProcess& server)
    {
        Bystander fresh(server);
        return fresh.enter() && fresh.sendAcked();
    }

private:
    RawClient m_client;
    std::uint64_t m_lastSeq = 0;
};

class HostileWebSocketTest : public ::testing::Test {
protected:
    //! Starts parleyd with `args` and a bystander already in its room (none when `bystander` is
    //! false: with a short heartbeat, one that idles through an attack would be closed).
    void startServer(QStringList args, bool bystander = true)
    {
        m_server = std::make_unique<ServerProcess>(std::move(args));
        ASSERT_TRUE(m_server->start()) << qPrintable(m_server->output());
        if (bystander) {
            m_bystander = std::make_unique<Bystander>(*m_server);
            ASSERT_TRUE(m_bystander->enter()) << qPrintable(m_server->output());
            ASSERT_TRUE(m_bystander->sendAcked());
        }
        m_idleRss = procStatusBytes(m_server->pid(), "VmRSS");
        ASSERT_GT(m_idleRss, 0);
    }

    //! The server's peak memory so far, above its idle size.
    qint64 peakGrowth() const { return procStatusBytes(m_server->pid(), "VmHWM") - m_idleRss; }

    //! An upgraded attacker and its session id (from the server's log).
    std::pair<std::unique_ptr<Attacker>, QString> attacker(int receiveBuffer = 0)
    {
        const qsizetype offset = m_server->output().size();
        auto a = std::make_unique<Attacker>();
        EXPECT_TRUE(a->upgrade(m_server->port(), receiveBuffer));
        const QString id = waitForSessionOpen(*m_server, offset);
        EXPECT_FALSE(id.isEmpty()) << qPrintable(m_server->output());
        return { std::move(a), id };
    }

    bool closeLogged(const QString& id) const { return !closeLines(*m_server, id).isEmpty(); }

    //! The attacker's session was closed with `code`, said so in exactly one log line, and the
    //! attack did not make the server log per frame.
    void expectCutOff(const QString& id, int code, const Outcome& outcome, qsizetype logOffset)
    {
        ASSERT_TRUE(RawClient::waitUntil([&] { return closeLogged(id); }, kWaitMs))
            << qPrintable(m_server->output().right(4000));
        const QStringList lines = closeLines(*m_server, id);
        ASSERT_EQ(lines.size(), 1) << qPrintable(lines.join(u'\n'));
        EXPECT_TRUE(lines[0].contains(QStringLiteral("code=%1 ").arg(code)))
            << qPrintable(lines[0]);
        EXPECT_LT(logLines(*m_server, logOffset).size(), 20)
            << qPrintable(m_server->output().mid(logOffset).left(4000));
        EXPECT_EQ(outcome.closeCode, code);
        EXPECT_TRUE(outcome.closed);
    }

    //! A client that said hello floods pings of `pingPayload` bytes, never reading.
    void floodAfterHello(qsizetype pingPayload, qint64 budget);

    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<Bystander> m_bystander;
    qint64 m_idleRss = 0;
};

const QByteArray kHello = R"({"type":"hello","id":"h1","user":"mallory"})";

TEST_F(HostileWebSocketTest, PingFloodBeforeHelloIsCutOffWithPolicyViolation)
{
    startServer({});
    const qsizetype logOffset = m_server->output().size();
    auto [mallory, id] = attacker();

    // 200 MB of 125-byte pings, never reading.
    const qint64 sent
        = mallory->flood(maskedPing(125), 200 * kMiB, [&] { return closeLogged(id); });
    EXPECT_TRUE(m_bystander->sendAcked()) << "sent " << sent;
    EXPECT_LT(peakGrowth(), kMemoryBoundBytes) << "sent " << sent;

    const Outcome outcome = mallory->drain();
    expectCutOff(id, int(CloseCode::PolicyViolation), outcome, logOffset);
    // A ping before hello is not answered.
    EXPECT_EQ(outcome.pongs, 0);
    EXPECT_TRUE(m_bystander->sendAcked());
}

// The default rate limit (1,000 frames a second, bursts of 2,000) ends a flood after hello.
void HostileWebSocketTest::floodAfterHello(qsizetype pingPayload, qint64 budget)
{
    startServer({});
    const qsizetype logOffset = m_server->output().size();
    // A small receive buffer: the kernel must not absorb the pongs in the attacker's place.
    auto [mallory, id] = attacker(4096);
    ASSERT_TRUE(mallory->writeAll(maskedText(kHello)));

    const qint64 sent
        = mallory->flood(maskedPing(pingPayload), budget, [&] { return closeLogged(id); });
    EXPECT_TRUE(m_bystander->sendAcked()) << "sent " << sent;
    EXPECT_LT(peakGrowth(), kMemoryBoundBytes) << "sent " << sent;

    const Outcome outcome = mallory->drain();
    expectCutOff(id, int(CloseCode::PolicyViolation), outcome, logOffset);
    // Pongs answered one burst of pings, and the few the bucket refilled while they were read:
    // far from two bursts.
    EXPECT_LT(outcome.pongs, 4000);
    EXPECT_TRUE(m_bystander->sendAcked());
}

TEST_F(HostileWebSocketTest, PingFloodAfterHelloIsCutOffAtTheFrameRate)
{
    floodAfterHello(125, 200 * kMiB);
}

TEST_F(HostileWebSocketTest, EmptyPingFloodAfterHelloIsCutOffAtTheFrameRate)
{
    // Empty pings are the amplifying kind: 6 bytes in, a 2-byte pong plus its bookkeeping out.
    floodAfterHello(0, 48 * kMiB);
}

TEST_F(HostileWebSocketTest, PingFloodUnderAGenerousRateLimitKeepsMemoryBounded)
{
    // The rate limit raised out of the way (its maximum): what bounds memory here is that every
    // queued byte counts and at most one pong waits to be written. The flood stays under one
    // burst of that limit (2,000,000 pings), so the heartbeat rule ends it (pings are not
    // heartbeats).
    startServer({ "--rate-limit", "1000000", "--heartbeat-ms", "3000" }, false);
    const qsizetype logOffset = m_server->output().size();
    auto [mallory, id] = attacker(4096);
    ASSERT_TRUE(mallory->writeAll(maskedText(kHello)));
    const qint64 sent
        = mallory->flood(maskedPing(125), 200 * kMiB, [&] { return closeLogged(id); });
    EXPECT_TRUE(Bystander::servedAnew(*m_server)) << "sent " << sent;
    EXPECT_LT(peakGrowth(), kMemoryBoundBytes) << "sent " << sent;

    const Outcome outcome = mallory->drain();
    expectCutOff(id, int(CloseCode::HeartbeatTimeout), outcome, logOffset);
    EXPECT_TRUE(Bystander::servedAnew(*m_server));
}

TEST_F(HostileWebSocketTest, ConnectionWithoutHelloIsClosedAtTheHelloDeadline)
{
    startServer({ "--hello-timeout-ms", "300" });

    {
        // Upgrades, then says nothing.
        const qsizetype logOffset = m_server->output().size();
        auto [mallory, id] = attacker();
        const Outcome outcome = mallory->drain();
        expectCutOff(id, int(CloseCode::HelloTimeout), outcome, logOffset);
    }
    {
        // Trickles its hello a byte at a time: the deadline is for the hello, not for silence.
        const qsizetype logOffset = m_server->output().size();
        auto [mallory, id] = attacker();
        const QByteArray hello = maskedText(kHello);
        mallory->trickle(hello.chopped(1), 50, [&] { return closeLogged(id); });
        const Outcome outcome = mallory->drain();
        expectCutOff(id, int(CloseCode::HelloTimeout), outcome, logOffset);
        EXPECT_EQ(outcome.texts, 0) << "the hello was never completed: no welcome";
    }
    EXPECT_TRUE(m_bystander->sendAcked());
}

TEST_F(HostileWebSocketTest, FrameTrickledBelowTheMinimumRateIsClosed)
{
    // A frame in progress may take 300 ms plus a second per 1000 bytes received.
    startServer({ "--frame-timeout-ms", "300", "--min-frame-rate", "1000" });
    const qsizetype logOffset = m_server->output().size();
    auto [mallory, id] = attacker();
    ASSERT_TRUE(mallory->writeAll(maskedText(kHello)));

    // A 1000-byte text frame, one byte each time 50 ms pass without the server closing: about
    // 20 bytes a second, far below the minimum.
    const QByteArray frame = maskedText(QByteArray(1000, 'x'));
    mallory->trickle(frame.chopped(1), 50, [&] { return closeLogged(id); });
    const Outcome outcome = mallory->drain();
    expectCutOff(id, int(CloseCode::FrameTimeout), outcome, logOffset);
    EXPECT_EQ(outcome.texts, 1) << "only the welcome: " << outcome.lastText.constData();
    EXPECT_TRUE(m_bystander->sendAcked());
}

// Heartbeats, pipelined: each is answered by a heartbeat_ack that the client reads only when
// its own writes stop going out.
QByteArray heartbeats(int count)
{
    QByteArray bytes;
    for (int i = 0; i < count; ++i) {
        bytes += maskedText(R"({"type":"heartbeat","id":"b)" + QByteArray::number(i) + R"("})");
    }
    return bytes;
}

TEST_F(HostileWebSocketTest, ClientPipeliningFasterThanItReadsIsThrottledNotDropped)
{
    // 300,000 pipelined requests (12 MB) whose answers (18 MB) are many times the 1 MiB outbound
    // bound and what the kernel's socket buffers hold. The client writes without reading for as
    // long as the server takes its requests, then reads and writes as it can. The server stops
    // reading while the answers are over the bound and goes on once the client has read them:
    // every request is answered and nothing is closed.
    startServer({ "--rate-limit", "1000000" });
    auto [client, id] = attacker(4096);
    ASSERT_TRUE(client->writeAll(maskedText(kHello)));

    constexpr int kCount = 300000;
    const QByteArray requests = heartbeats(kCount);
    qsizetype written = 0;
    auto writeSome = [&] {
        while (written < requests.size()) {
            const ssize_t n = ::send(client->fd(), requests.constData() + written,
                std::size_t(requests.size() - written), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n <= 0) {
                ASSERT_TRUE(n < 0 && (errno == EAGAIN || errno == EINTR)) << "connection lost";
                return;
            }
            written += n;
        }
    };
    // Without reading, until the server has taken nothing for two seconds.
    for (;;) {
        writeSome();
        pollfd out { client->fd(), POLLOUT, 0 };
        if (written == requests.size() || ::poll(&out, 1, 2000) == 0) {
            break;
        }
    }
    const qsizetype writtenBeforeReading = written;

    qint64 acks = 0;
    int closeCode = 0;
    FrameParser parser(FrameParser::Limits { 1 << 24, false });
    QDeadlineTimer deadline(120000);
    while (acks < kCount && closeCode == 0 && !deadline.hasExpired()) {
        pollfd p { client->fd(), short(POLLIN | (written < requests.size() ? POLLOUT : 0)), 0 };
        ::poll(&p, 1, 100);
        writeSome();
        for (;;) {
            char buffer[65536];
            const ssize_t n = ::recv(client->fd(), buffer, sizeof buffer, MSG_DONTWAIT);
            ASSERT_NE(n, 0) << "server closed; acks " << acks;
            if (n < 0) {
                break;
            }
            FrameParser::Result result = parser.feed(QByteArrayView(buffer, n));
            ASSERT_FALSE(result.error);
            for (const Message& message : result.messages) {
                if (message.opcode == Opcode::Close) {
                    closeCode = message.closeCode;
                } else if (message.payload.contains(R"("type":"heartbeat_ack")")) {
                    ++acks;
                }
            }
        }
    }
    EXPECT_EQ(closeCode, 0) << "written before reading: " << writtenBeforeReading;
    EXPECT_EQ(acks, kCount);
    EXPECT_LT(peakGrowth(), kMemoryBoundBytes);
    EXPECT_TRUE(m_bystander->sendAcked());
    EXPECT_TRUE(closeLines(*m_server, id).isEmpty());
}

TEST_F(HostileWebSocketTest, ClientThatNeverReadsItsAnswersIsClosedAfterTheStallTimeout)
{
    startServer({ "--rate-limit", "1000000", "--stall-timeout-ms", "300" });
    const qsizetype logOffset = m_server->output().size();
    auto [mallory, id] = attacker(4096);
    ASSERT_TRUE(mallory->writeAll(maskedText(kHello)));

    const qint64 sent
        = mallory->flood(heartbeats(1000), 200 * kMiB, [&] { return closeLogged(id); });
    EXPECT_TRUE(m_bystander->sendAcked()) << "sent " << sent;
    EXPECT_LT(peakGrowth(), kMemoryBoundBytes) << "sent " << sent;

    const Outcome outcome = mallory->drain();
    expectCutOff(id, int(CloseCode::SlowConsumer), outcome, logOffset);
    EXPECT_TRUE(m_bystander->sendAcked());
}

} // namespace
} // namespace parley::test
