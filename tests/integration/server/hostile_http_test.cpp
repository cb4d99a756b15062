// Hostile clients of the HTTP transports, each attack run against a real parleyd in a bounded
// form. Every test asserts on what users depend on: the server's memory stays under a stated
// bound (read from /proc: VmHWM, the peak the kernel recorded, so nothing is timed), the attacker
// is cut off with the documented status or close code and a log line, and a normal client in
// another room is still served (its send is acked). Attackers are raw sockets speaking HTTP as
// docs/protocol.md describes it.
#include "rawclient.h"
#include "serverprocess.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTcpSocket>
#include <arpa/inet.h>
#include <cerrno>
#include <gtest/gtest.h>
#include <memory>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace parley::test {
namespace {

constexpr qint64 kKiB = 1024;
constexpr qint64 kMiB = 1024 * kKiB;

// --- the server's memory, as the kernel accounts it ------------------------------------------

//! A "Name:   N kB" line of /proc/PID/status, in bytes; -1 when it cannot be read.
qint64 procStatusBytes(qint64 pid, const char* field)
{
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly)) {
        return -1;
    }
    for (const QByteArray& line : status.readAll().split('\n')) {
        if (line.startsWith(field)) {
            return line.mid(qsizetype(qstrlen(field)))
                       .trimmed()
                       .split(' ')
                       .constFirst()
                       .toLongLong()
                * kKiB;
        }
    }
    return -1;
}

//! Measures how far an attack raises the server's resident memory at its peak: VmHWM after the
//! attack minus VmRSS before it. The peak is reset first (clear_refs 5, proc(5)), so the
//! server's start-up peak does not hide the attack's.
class PeakMemory {
public:
    explicit PeakMemory(qint64 pid)
        : m_pid(pid)
    {
        QFile clear(QStringLiteral("/proc/%1/clear_refs").arg(pid));
        if (clear.open(QIODevice::WriteOnly)) {
            clear.write("5");
        }
        m_before = procStatusBytes(pid, "VmRSS:");
    }
    bool valid() const { return m_before > 0; }
    //! Peak resident bytes since construction above the resident bytes at construction.
    qint64 growth() const { return procStatusBytes(m_pid, "VmHWM:") - m_before; }

private:
    qint64 m_pid;
    qint64 m_before = -1;
};

// --- raw HTTP --------------------------------------------------------------------------------

QByteArray request(const QByteArray& method, const QByteArray& target, const QByteArray& token,
    const QByteArray& body, bool close = true)
{
    QByteArray head = method + ' ' + target + " HTTP/1.1\r\nHost: x\r\n";
    if (close) {
        head += "Connection: close\r\n";
    }
    if (!token.isEmpty()) {
        head += "X-Parley-Session: " + token + "\r\n";
    }
    if (!body.isEmpty()) {
        head += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    }
    return head + "\r\n" + body;
}

//! Sends `bytes` on a new connection and returns what came back until the server closed it.
QByteArray exchange(quint16 port, const QByteArray& bytes, int timeoutMs = 10000)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000)) {
        return {};
    }
    socket.write(bytes);
    QByteArray response;
    RawClient::waitUntil(
        [&] {
            response += socket.readAll();
            return socket.state() == QAbstractSocket::UnconnectedState;
        },
        timeoutMs);
    return response + socket.readAll();
}

QJsonObject jsonBody(const QByteArray& response)
{
    return QJsonDocument::fromJson(response.mid(response.indexOf("\r\n\r\n") + 4)).object();
}

//! POST /v1/session for `user`; the whole reply body ({"session","token","cursor","welcome"}).
QJsonObject openSession(quint16 port, const QByteArray& user)
{
    const QByteArray response = exchange(
        port, request("POST", "/v1/session", {}, R"({"type":"hello","user":")" + user + "\"}"));
    EXPECT_TRUE(response.startsWith("HTTP/1.1 200")) << response.toStdString();
    return jsonBody(response);
}

QByteArray tokenOf(const QJsonObject& session)
{
    return session.value("token").toString().toLatin1();
}

//! Runs `frames` (a JSON frame or array) for the session of `token`; true on 202.
bool commands(quint16 port, const QByteArray& token, const QByteArray& frames)
{
    return exchange(port, request("POST", "/v1/commands", token, frames))
        .startsWith("HTTP/1.1 202");
}

//! The `sessions` count of GET /healthz.
int liveSessions(quint16 port)
{
    return jsonBody(exchange(port, request("GET", "/healthz", {}, {}))).value("sessions").toInt(-1);
}

//! Lines of the server's log that contain `event`.
int logLines(const ServerProcess& server, const QString& event)
{
    return int(server.output().count(event));
}

//! Events of `kind` the server's log accounts for: its "event=<kind>" lines, plus the counts of
//! lines suppressed by the log rate limit that they (or "event=log_suppressed kind=<kind>")
//! report.
qint64 loggedEvents(const ServerProcess& server, const QString& kind)
{
    static const QRegularExpression suppressed(QStringLiteral("suppressed=(\\d+)"));
    qint64 events = 0;
    for (const QString& line : server.output().split('\n')) {
        const bool own = line.contains("event=" + kind + ' ') || line.endsWith("event=" + kind);
        if (!own && !line.contains("event=log_suppressed kind=" + kind + ' ')) {
            continue;
        }
        events += own ? 1 : 0;
        const QRegularExpressionMatch match = suppressed.match(line);
        events += match.hasMatch() ? match.captured(1).toLongLong() : 0;
    }
    return events;
}

//! A normal client in its own room, connected before an attack: it must stay served.
class Probe {
public:
    explicit Probe(const ServerProcess& server)
        : m_client(server.webSocketUrl())
    {
        m_ok = m_client.open() && m_client.hello("probe") && m_client.join("probe-room");
    }
    //! Sends one message and waits for its ack.
    bool acked()
    {
        return m_ok
            && m_client.sendMessage("probe-room", "p" + std::to_string(++m_sent), "still here")
                   .has_value();
    }

private:
    RawClient m_client;
    bool m_ok = false;
    int m_sent = 0;
};

// --- 3. Bytes uploaded on a held stream or poll ----------------------------------------------

// A client that keeps uploading on its GET /v1/sse (or a held GET /v1/poll) after the request:
// nothing of it is valid HTTP/1.1 (the response closes the connection, requests are not
// pipelined behind a held one). The server must not keep the bytes: its read buffer is bounded
// and the first unexpected byte closes the session with 4000, reported like any server close
// (`event: close` on the stream, `"closed"` in the poll answer).
TEST(HostileHttpTest, BytesUploadedOnAHeldStreamOrPollCloseTheSessionWith4000)
{
    ServerProcess server;
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    Probe probe(server);
    ASSERT_TRUE(probe.acked());

    // 64 MiB per attacker, 256 KiB at a time as its own kernel takes them.
    constexpr qint64 kUpload = 64 * kMiB;
    constexpr qint64 kBound = 16 * kMiB;
    const QByteArray chunk(256 * kKiB, 'A');
    for (const bool stream : { true, false }) {
        SCOPED_TRACE(stream ? "stream" : "poll");
        const QByteArray token = tokenOf(openSession(server.port(), "uploader"));
        ASSERT_FALSE(token.isEmpty());
        QTcpSocket held;
        held.connectToHost(QHostAddress::LocalHost, server.port());
        ASSERT_TRUE(held.waitForConnected(5000));
        held.write(request("GET", stream ? "/v1/sse" : "/v1/poll?cursor=1", token, {}, false));
        QByteArray answer;
        if (stream) {
            ASSERT_TRUE(RawClient::waitUntil([&] {
                answer += held.readAll();
                return answer.contains("retry:");
            })) << answer.toStdString();
        }

        const PeakMemory memory(server.pid());
        ASSERT_TRUE(memory.valid());
        qint64 uploaded = 0;
        QObject::connect(&held, &QTcpSocket::bytesWritten, [&](qint64 n) { uploaded += n; });
        const QByteArray closed = stream ? "event: close\ndata: {\"code\":4000" : "\"code\":4000";
        const bool cut = RawClient::waitUntil(
            [&] {
                answer += held.readAll();
                if (answer.contains(closed) && held.state() == QAbstractSocket::UnconnectedState) {
                    return true;
                }
                if (held.state() == QAbstractSocket::ConnectedState && uploaded < kUpload
                    && held.bytesToWrite() < chunk.size()) {
                    held.write(chunk);
                }
                return false;
            },
            15000);
        EXPECT_TRUE(cut) << "uploaded " << uploaded << " bytes, got: " << answer.toStdString();
        if (!stream) {
            EXPECT_TRUE(answer.startsWith("HTTP/1.1 200")) << answer.toStdString();
        }
        EXPECT_LT(memory.growth(), kBound) << "uploaded " << uploaded << " bytes";
        // The session is gone: its token is refused.
        EXPECT_TRUE(exchange(server.port(), request("POST", "/v1/commands", token, "{}"))
                        .startsWith("HTTP/1.1 404"));
    }
    EXPECT_GE(logLines(server, "event=http_unexpected_input"), 1) << server.output().toStdString();
    EXPECT_TRUE(probe.acked());
}

// --- 4. Pre-auth body pinning ----------------------------------------------------------------

// Many connections each declare a large body with a made-up session token and send all of it
// but the last byte. The token is checked from the request head: each is answered 404 at once
// (a well-formed token of no session), before any body byte is kept. POST /v1/session, whose
// only valid body is a hello, refuses a large declared body from the head with 413.
TEST(HostileHttpTest, BodiesBehindAMadeUpTokenAreRefusedFromTheHead)
{
    // A short header deadline bounds how long the unfixed server would wait for the last byte.
    ServerProcess server({ "--header-timeout-ms", "3000", "--log-rate-limit", "2" });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    Probe probe(server);
    ASSERT_TRUE(probe.acked());

    constexpr int kAttackers = 200;
    constexpr qint64 kBody = 256 * kKiB; // 4 x the default frame limit: the largest batch
    constexpr qint64 kBound = 24 * kMiB;
    const QByteArray head = "POST /v1/commands HTTP/1.1\r\nHost: x\r\n"
                            "X-Parley-Session: 0.123456789.00112233445566778899aabbccddeeff\r\n"
                            "Content-Length: "
        + QByteArray::number(kBody) + "\r\n\r\n";
    const QByteArray chunk(16 * kKiB, '[');

    const PeakMemory memory(server.pid());
    ASSERT_TRUE(memory.valid());
    struct Attacker {
        std::unique_ptr<QTcpSocket> socket = std::make_unique<QTcpSocket>();
        qint64 queued = 0; // body bytes written
        QByteArray answer;
    };
    std::vector<Attacker> attackers(kAttackers);
    for (Attacker& a : attackers) {
        a.socket->connectToHost(QHostAddress::LocalHost, server.port());
        a.socket->write(head);
    }
    const auto answered = [](const Attacker& a) {
        return a.answer.contains("\r\n\r\n")
            || a.socket->state() == QAbstractSocket::UnconnectedState;
    };
    // Each sends its body, all but one byte, as its kernel takes it, until it is answered.
    const bool allAnswered = RawClient::waitUntil(
        [&] {
            int done = 0;
            for (Attacker& a : attackers) {
                a.answer += a.socket->readAll();
                if (answered(a)) {
                    ++done;
                    continue;
                }
                if (a.socket->state() == QAbstractSocket::ConnectedState && a.queued < kBody - 1
                    && a.socket->bytesToWrite() < chunk.size()) {
                    const qint64 n = std::min<qint64>(chunk.size(), kBody - 1 - a.queued);
                    a.socket->write(chunk.first(n));
                    a.queued += n;
                }
            }
            return done == kAttackers;
        },
        30000);
    EXPECT_TRUE(allAnswered);
    int refused = 0;
    for (const Attacker& a : attackers) {
        refused += a.answer.startsWith("HTTP/1.1 404") && a.answer.contains("unknown_session");
    }
    EXPECT_EQ(refused, kAttackers) << attackers.front().answer.toStdString();
    EXPECT_LT(memory.growth(), kBound);

    // POST /v1/session: a declared body larger than any hello is refused from the head.
    QTcpSocket big;
    big.connectToHost(QHostAddress::LocalHost, server.port());
    ASSERT_TRUE(big.waitForConnected(5000));
    big.write("POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: 262144\r\n\r\n");
    QByteArray bigAnswer;
    EXPECT_TRUE(RawClient::waitUntil([&] {
        bigAnswer += big.readAll();
        return bigAnswer.contains("\r\n\r\n");
    }));
    EXPECT_TRUE(bigAnswer.startsWith("HTTP/1.1 413")) << bigAnswer.toStdString();

    // A few log lines, not one per attacker; the rest are counted, and the counts reach the log.
    const int lines = logLines(server, "event=http_refused");
    EXPECT_GE(lines, 1) << server.output().toStdString();
    EXPECT_LT(lines, kAttackers / 4) << server.output().toStdString();
    EXPECT_TRUE(RawClient::waitUntil(
        [&] { return loggedEvents(server, "http_refused") == kAttackers; }, 10000))
        << loggedEvents(server, "http_refused") << "\n"
        << server.output().toStdString();
    EXPECT_TRUE(probe.acked());
}

// --- 8. Slow SSE readers ---------------------------------------------------------------------

//! A blocking TCP client with a tiny receive buffer: once it stops reading, the server's
//! writes pile up in the server, not in the kernel.
class SmallWindowSocket {
public:
    explicit SmallWindowSocket(quint16 port)
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int size = 4096;
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        const timeval timeout { 10, 0 };
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        sockaddr_in address {};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        m_connected = ::connect(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    }
    ~SmallWindowSocket() { ::close(m_fd); }
    SmallWindowSocket(const SmallWindowSocket&) = delete;
    SmallWindowSocket& operator=(const SmallWindowSocket&) = delete;

    bool send(const QByteArray& bytes)
    {
        return m_connected
            && ::send(m_fd, bytes.constData(), std::size_t(bytes.size()), 0) == bytes.size();
    }
    //! Reads (blocking, 10 s at most) until what was read contains `needle`.
    bool readUntil(const QByteArray& needle)
    {
        char buffer[1024];
        while (!m_read.contains(needle)) {
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
            if (n <= 0) {
                return false;
            }
            m_read.append(buffer, n);
        }
        return true;
    }

private:
    int m_fd = -1;
    bool m_connected = false;
    QByteArray m_read;
};

// SSE clients that stop reading while their room is busy. Everything a session holds for its
// client (frames kept for a stream's resumption, the socket's unsent bytes) is one budget,
// --max-outbound-bytes: past it the session closes with 4003. Before, the frames kept for
// resumption came on top of the socket's buffer, twice the budget per reader.
TEST(HostileHttpTest, SlowSseReadersCostOneOutboundBudgetEach)
{
    ServerProcess server;
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    Probe probe(server);
    ASSERT_TRUE(probe.acked());

    constexpr int kReaders = 48;
    constexpr qint64 kBudget = 1 * kMiB; // the default --max-outbound-bytes
    constexpr qint64 kBound = kReaders * kBudget * 3 / 2; // one budget each, and half of slack
    std::vector<std::unique_ptr<SmallWindowSocket>> readers;
    for (int i = 0; i < kReaders; ++i) {
        const QByteArray token
            = tokenOf(openSession(server.port(), "reader" + QByteArray::number(i)));
        ASSERT_TRUE(commands(server.port(), token, R"({"type":"join","id":"j","room":"busy"})"));
        auto reader = std::make_unique<SmallWindowSocket>(server.port());
        ASSERT_TRUE(reader->send(request("GET", "/v1/sse?cursor=1", token, {}, false)));
        ASSERT_TRUE(reader->readUntil("\"joined\"")); // attached; it never reads again
        readers.push_back(std::move(reader));
    }
    const int baseline = liveSessions(server.port()) - kReaders;

    RawClient writer(server.webSocketUrl());
    ASSERT_TRUE(writer.open());
    ASSERT_TRUE(writer.hello("writer"));
    ASSERT_TRUE(writer.join("busy"));
    const PeakMemory memory(server.pid());
    ASSERT_TRUE(memory.valid());
    // 16 KB messages, acked one by one, until every reader was cut off (bounded: 2,000 messages
    // are 32 MB per reader, far past any budget and kernel buffer).
    const std::string body(16000, 'x');
    int sent = 0;
    bool cut = false;
    while (!cut && sent < 2000) {
        ASSERT_TRUE(writer.sendMessage("busy", "w" + std::to_string(++sent), body));
        if (sent % 25 == 0) {
            cut = liveSessions(server.port()) <= baseline + 1; // the writer's own session
        }
    }
    EXPECT_TRUE(cut) << "sent " << sent << ", sessions " << liveSessions(server.port());
    EXPECT_LT(memory.growth(), kBound) << "sent " << sent;
    EXPECT_GE(logLines(server, "code=4003"), 1);
    EXPECT_TRUE(probe.acked());
}

// --- 9. Secrets ------------------------------------------------------------------------------

// The session token goes in the X-Parley-Session header. `?token=` is accepted only on
// GET /v1/sse (EventSource cannot set headers): elsewhere it is refused with 401, so a
// cross-site form POST (text/plain, no custom header) cannot carry a session's commands.
TEST(HostileHttpTest, QueryTokensAreRefusedExceptOnTheEventStream)
{
    ServerProcess server;
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    const QByteArray token = tokenOf(openSession(server.port(), "alice"));
    ASSERT_FALSE(token.isEmpty());

    QByteArray form = "POST /v1/commands?token=" + token
        + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/plain\r\n";
    const QByteArray join = R"({"type":"join","id":"j","room":"csrf"})";
    form += "Content-Length: " + QByteArray::number(join.size()) + "\r\n\r\n" + join;
    const QByteArray refused = exchange(server.port(), form);
    EXPECT_TRUE(refused.startsWith("HTTP/1.1 401")) << refused.toStdString();
    EXPECT_EQ(jsonBody(refused).value("error").toString(), "unauthorized");

    const QByteArray poll = exchange(server.port(),
        "GET /v1/poll?cursor=1&token=" + token
            + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(poll.startsWith("HTTP/1.1 401")) << poll.toStdString();
    const QByteArray end = exchange(server.port(),
        "DELETE /v1/session?token=" + token + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(end.startsWith("HTTP/1.1 401")) << end.toStdString();

    // The header works, and so does ?token= on the event stream.
    EXPECT_TRUE(commands(server.port(), token, join));
    QTcpSocket sse;
    sse.connectToHost(QHostAddress::LocalHost, server.port());
    ASSERT_TRUE(sse.waitForConnected(5000));
    sse.write("GET /v1/sse?cursor=1&token=" + token + " HTTP/1.1\r\nHost: x\r\n\r\n");
    QByteArray stream;
    EXPECT_TRUE(RawClient::waitUntil([&] {
        stream += sse.readAll();
        return stream.contains("\"joined\"");
    })) << stream.toStdString();
    EXPECT_TRUE(stream.startsWith("HTTP/1.1 200"));
}

// Session ids (in the POST /v1/session answer and in the token) say nothing about how many
// sessions the server made: two sessions opened one after the other are not neighbours.
TEST(HostileHttpTest, SessionIdsDoNotCountSessions)
{
    ServerProcess server;
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    std::vector<quint64> ids;
    for (int i = 0; i < 4; ++i) {
        const QJsonObject session = openSession(server.port(), "u" + QByteArray::number(i));
        bool ok = false;
        ids.push_back(session.value("session").toString().toULongLong(&ok));
        ASSERT_TRUE(ok) << QJsonDocument(session).toJson().toStdString();
        // The token names the same session.
        EXPECT_EQ(tokenOf(session).split('.').value(1).toULongLong(), ids.back());
    }
    for (std::size_t i = 1; i < ids.size(); ++i) {
        const quint64 gap = ids[i] > ids[i - 1] ? ids[i] - ids[i - 1] : ids[i - 1] - ids[i];
        // Random 56-bit ids: a gap this small has odds of 2^-32 per pair.
        EXPECT_GT(gap, quint64(1) << 24) << ids[i - 1] << " then " << ids[i];
    }
}

// A flood of bad requests is not a flood of log lines: per kind, a few lines per second, the
// next one carrying how many were suppressed.
TEST(HostileHttpTest, RepeatedLogLinesAreRateLimited)
{
    ServerProcess server({ "--log-rate-limit", "2" });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    Probe probe(server);
    constexpr int kRequests = 300;
    for (int i = 0; i < kRequests; ++i) {
        ASSERT_TRUE(
            exchange(server.port(), request("GET", "/nope", {}, {})).startsWith("HTTP/1.1 404"));
    }
    // Every refusal is accounted for: a line, or a count in a later one (the server's sweep
    // writes the count of a flood that ended).
    EXPECT_TRUE(RawClient::waitUntil(
        [&] { return loggedEvents(server, "http_reject") == kRequests; }, 10000))
        << loggedEvents(server, "http_reject") << "\n"
        << server.output().toStdString();
    EXPECT_GE(logLines(server, "event=http_reject"), 1);
    EXPECT_LT(logLines(server, "event=http_reject"), kRequests / 4)
        << server.output().toStdString();
    EXPECT_TRUE(probe.acked());
}

} // namespace
} // namespace parley::test
