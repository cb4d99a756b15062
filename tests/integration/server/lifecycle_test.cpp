// parleyd's life: /healthz, heartbeats and the heartbeat timeout, graceful SIGTERM.
#include "rawclient.h"
#include "redisserver.h"
#include "serverprocess.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTcpSocket>
#include <csignal>
#include <gtest/gtest.h>
#include <sys/types.h>

namespace parley::test {
namespace {

QJsonObject getJson(const QUrl& url, int* status)
{
    QNetworkAccessManager manager;
    QNetworkReply* reply = manager.get(QNetworkRequest(url));
    const bool done = RawClient::waitUntil([reply] { return reply->isFinished(); });
    EXPECT_TRUE(done);
    *status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray body = reply->readAll();
    reply->deleteLater();
    return QJsonDocument::fromJson(body).object();
}

// The pid of the parleyd started by `server` (its data dir is unique to it). ServerProcess
// does not expose the pid (yet).
pid_t pidOf(const ServerProcess& server)
{
    const QByteArray dataDir = server.dataDir().toUtf8();
    const auto entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString& entry : entries) {
        bool numeric = false;
        const int pid = entry.toInt(&numeric);
        if (!numeric) {
            continue;
        }
        QFile cmdline(QStringLiteral("/proc/%1/cmdline").arg(pid));
        if (!cmdline.open(QIODevice::ReadOnly)) {
            continue;
        }
        const QList<QByteArray> args = cmdline.readAll().split('\0');
        if (!args.isEmpty() && args.first().endsWith("parleyd") && args.contains(dataDir)) {
            return pid_t(pid);
        }
    }
    return -1;
}

TEST(LifecycleTest, HealthzAnswersJson)
{
    ServerProcess server({ "--node-id", "node-test" });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    int status = 0;
    QJsonObject health = getJson(server.httpUrl().resolved(QUrl("/healthz")), &status);
    EXPECT_EQ(status, 200);
    EXPECT_EQ(health.value("status").toString(), "ok");
    EXPECT_EQ(health.value("node").toString(), "node-test");
    EXPECT_EQ(health.value("sessions").toInt(-1), 0);
    EXPECT_FALSE(health.value("version").toString().isEmpty());

    RawClient client(server.webSocketUrl());
    ASSERT_TRUE(client.open());
    ASSERT_TRUE(client.hello("alice"));
    health = getJson(server.httpUrl().resolved(QUrl("/healthz")), &status);
    EXPECT_EQ(health.value("sessions").toInt(-1), 1);

    const QJsonObject missing = getJson(server.httpUrl().resolved(QUrl("/metrics-nope")), &status);
    EXPECT_EQ(status, 404);
    EXPECT_EQ(missing.value("error").toString(), "not_found");
}

TEST(LifecycleTest, WelcomeAnnouncesLimitsAndHeartbeat)
{
    ServerProcess server({ "--heartbeat-ms", "1234", "--max-rooms", "9", "--node-id", "n1" });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    RawClient client(server.webSocketUrl());
    ASSERT_TRUE(client.open());
    const auto welcome = client.hello("alice");
    ASSERT_TRUE(welcome);
    EXPECT_EQ(welcome->heartbeatMs, 1234u);
    EXPECT_EQ(welcome->limits.maxRooms, 9u);
    EXPECT_EQ(welcome->limits.maxFrameBytes, 65536u);
    EXPECT_EQ(welcome->limits.maxBodyBytes, 16384u);
    EXPECT_EQ(welcome->node, "n1");
    EXPECT_EQ(welcome->user, "alice");
    EXPECT_EQ(welcome->protocol, protocol::kProtocolVersion);
    EXPECT_FALSE(welcome->session.empty());
    const std::string id = client.nextId();
    client.send(protocol::Heartbeat { id });
    const auto ack = client.take<protocol::HeartbeatAck>();
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->id, id);
    EXPECT_GT(ack->ts, 0);
}

TEST(LifecycleTest, SilentSessionIsClosedWith4002AndHeartbeatsKeepItOpen)
{
    // 500 ms: the silent client is cut after ~1 s; the chatty one beats every 100 ms, which
    // leaves a wide margin for a loaded machine (a beat may be late by up to ~900 ms).
    ServerProcess server({ "--heartbeat-ms", "500" });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    RawClient silent(server.webSocketUrl());
    RawClient chatty(server.webSocketUrl());
    ASSERT_TRUE(silent.open());
    ASSERT_TRUE(chatty.open());
    ASSERT_TRUE(silent.hello("silent"));
    ASSERT_TRUE(chatty.hello("chatty"));
    // The chatty client heartbeats every ~100 ms (paced by a deadline on the event loop, not
    // sleeps) until the silent one is closed, which must happen after ~2 intervals.
    QDeadlineTimer deadline(10000);
    QDeadlineTimer nextBeat(0);
    bool closed = false;
    while (!deadline.hasExpired() && !closed) {
        if (nextBeat.hasExpired()) {
            ASSERT_TRUE(chatty.sync());
            nextBeat.setRemainingTime(100);
        }
        closed = silent.waitClosed(50) >= 0;
    }
    ASSERT_TRUE(closed);
    EXPECT_EQ(silent.waitClosed(0), 4002);
    EXPECT_TRUE(chatty.isOpen());
    EXPECT_TRUE(chatty.sync());
}

TEST(LifecycleTest, SigtermClosesSessionsWith1001AndExitsZero)
{
    ServerProcess server;
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    RawClient a(server.webSocketUrl());
    RawClient b(server.webSocketUrl());
    ASSERT_TRUE(a.open());
    ASSERT_TRUE(b.open());
    ASSERT_TRUE(a.hello("alice"));
    ASSERT_TRUE(b.hello("bob"));
    ASSERT_TRUE(a.join("lobby"));
    ASSERT_TRUE(a.sendMessage("lobby", "c1", "before shutdown"));

    // ServerProcess::stop() blocks in waitForFinished(), which would keep these clients from
    // answering the close handshake; so signal the process ourselves, watch the clients on
    // the event loop, then reap it with stop().
    const pid_t pid = pidOf(server);
    ASSERT_GT(pid, 0);
    ASSERT_EQ(::kill(pid, SIGTERM), 0);
    const int aCode = a.waitClosed();
    const int bCode = b.waitClosed();
    const int exitCode = server.stop();
    EXPECT_EQ(aCode, 1001);
    EXPECT_EQ(bCode, 1001);
    EXPECT_EQ(exitCode, 0) << server.output().toStdString();
    EXPECT_TRUE(server.output().contains("event=shutdown_done")) << server.output().toStdString();

    // Nothing acked was lost by the clean stop either.
    ASSERT_TRUE(server.restart());
    RawClient c(server.webSocketUrl());
    ASSERT_TRUE(c.open());
    ASSERT_TRUE(c.hello("carol"));
    const auto joined = c.join("lobby");
    ASSERT_TRUE(joined);
    EXPECT_EQ(joined->cursor.seq, 1u);
}

// One raw HTTP connection of the SSE or long-poll transport, read on the event loop.
class HttpStream {
public:
    explicit HttpStream(quint16 port) { m_socket.connectToHost(QHostAddress::LocalHost, port); }

    bool send(const QByteArray& request)
    {
        if (!m_socket.waitForConnected(5000)) {
            return false;
        }
        m_socket.write(request);
        return true;
    }
    //! Waits until what came back contains `text`.
    bool waitFor(QByteArrayView text)
    {
        return RawClient::waitUntil([&] {
            m_received += m_socket.readAll();
            return m_received.contains(text);
        });
    }
    //! Waits until the server has closed the connection.
    bool waitClosed()
    {
        return RawClient::waitUntil([&] {
            m_received += m_socket.readAll();
            return m_socket.state() == QAbstractSocket::UnconnectedState;
        });
    }
    const QByteArray& received() const { return m_received; }

private:
    QTcpSocket m_socket;
    QByteArray m_received;
};

// Opens an HTTP session (POST /v1/session) for `user`; its token, or empty.
QByteArray openHttpSession(quint16 port, const QByteArray& user)
{
    const QByteArray hello = R"({"type":"hello","user":")" + user + "\"}";
    HttpStream http(port);
    if (!http.send("POST /v1/session HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                   "Content-Length: "
            + QByteArray::number(hello.size()) + "\r\n\r\n" + hello)
        || !http.waitClosed()) {
        return {};
    }
    const QByteArray body = http.received().mid(http.received().indexOf("\r\n\r\n") + 4);
    return QJsonDocument::fromJson(body).object().value("token").toString().toUtf8();
}

// What a clean stop must not print: Qt's complaints about objects torn down on the wrong
// thread (timers, socket notifiers, QObject trees) mean a thread's objects outlived it.
bool hasThreadWarnings(const QString& output)
{
    return output.contains("QObject:") || output.contains("QSocketNotifier")
        || output.contains("Timers cannot") || output.contains("another thread")
        || output.contains("different thread");
}

// SIGTERM with a client on every transport (WebSocket, SSE, long-poll) and a connection still
// sending its request head: each is closed, parleyd exits 0 and prints no threading warning.
// Alone (SQLite storage thread) and in a cluster (--redis: broker, presence and router links).
class SigtermTest : public ::testing::TestWithParam<bool> { };

TEST_P(SigtermTest, ClosesEveryTransportAndExitsCleanly)
{
    const bool cluster = GetParam();
    std::unique_ptr<RedisServer> redis;
    QStringList args { "--poll-timeout-ms", "20000" };
    if (cluster) {
        redis = std::make_unique<RedisServer>();
        ASSERT_TRUE(redis->start()) << redis->output().toStdString();
        args += { "--redis", redis->url() };
    }
    ServerProcess server(args);
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    const quint16 port = server.port();

    RawClient ws(server.webSocketUrl());
    ASSERT_TRUE(ws.open());
    ASSERT_TRUE(ws.hello("alice"));
    ASSERT_TRUE(ws.join("lobby"));
    ASSERT_TRUE(ws.sendMessage("lobby", "c1", "before shutdown"));

    const QByteArray sseToken = openHttpSession(port, "bob");
    ASSERT_FALSE(sseToken.isEmpty()) << server.output().toStdString();
    HttpStream sse(port);
    ASSERT_TRUE(
        sse.send("GET /v1/sse HTTP/1.1\r\nHost: x\r\nX-Parley-Session: " + sseToken + "\r\n\r\n"));
    ASSERT_TRUE(sse.waitFor("retry:")) << sse.received().toStdString();

    const QByteArray pollToken = openHttpSession(port, "carol");
    ASSERT_FALSE(pollToken.isEmpty()) << server.output().toStdString();
    HttpStream poll(port);
    // The welcome went out with the session's answer: cursor 1 is past it, so the poll is held.
    ASSERT_TRUE(poll.send("GET /v1/poll?cursor=1 HTTP/1.1\r\nHost: x\r\nX-Parley-Session: "
        + pollToken + "\r\n\r\n"));

    HttpStream pending(port);
    ASSERT_TRUE(pending.send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
    // Every session is open on the server (the poll is held, not answered) before the signal.
    ASSERT_TRUE(RawClient::waitUntil([&] {
        int status = 0;
        return getJson(server.httpUrl().resolved(QUrl("/healthz")), &status)
                   .value("sessions")
                   .toInt()
            == 3;
    })) << server.output().toStdString();
    EXPECT_TRUE(poll.received().isEmpty()) << poll.received().toStdString();

    ASSERT_GT(server.pid(), 0);
    ASSERT_EQ(::kill(pid_t(server.pid()), SIGTERM), 0);
    EXPECT_EQ(ws.waitClosed(), 1001);
    EXPECT_TRUE(sse.waitClosed());
    EXPECT_TRUE(sse.received().contains("event: close")) << sse.received().toStdString();
    EXPECT_TRUE(poll.waitClosed());
    EXPECT_TRUE(poll.received().contains("\"closed\"")) << poll.received().toStdString();
    EXPECT_TRUE(pending.waitClosed());

    const int exitCode = server.stop();
    const QString output = server.output();
    EXPECT_EQ(exitCode, 0) << output.toStdString();
    EXPECT_TRUE(output.contains("event=shutdown_done")) << output.toStdString();
    EXPECT_FALSE(hasThreadWarnings(output)) << output.toStdString();
}

INSTANTIATE_TEST_SUITE_P(Node, SigtermTest, ::testing::Values(false, true),
    [](const ::testing::TestParamInfo<bool>& info) {
        return std::string(info.param ? "Cluster" : "Alone");
    });

} // namespace
} // namespace parley::test
