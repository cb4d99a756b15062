// The SDK and a server that refuses for capacity (docs/security.md, "Connection and session
// caps"): a real parleyd with one cap set low, filled by a raw client, and an SDK client whose
// own backoff would retry at once (a first delay of 1 ms). The server's answer names a wait:
// close 4007 "... retry after 5 s" on WebSocket, Retry-After on HTTP 429 and 503. The client
// must schedule its next attempt no sooner than that (Client::reconnectScheduled reports the
// delay: nothing is timed), make one connection attempt per scheduled one (counted), not take
// the refusal for a broken transport (negotiation stays on WebSocket), say why in its error,
// and get in once there is room.
#include "serverprocess.h"
#include "waituntil.h"

#include <QTcpSocket>
#include <QWebSocket>
#include <gtest/gtest.h>
#include <parley/client.h>

using namespace parley;
using parley::test::ServerProcess;
using parley::test::waitUntil;

namespace {

//! A raw WebSocket session of `user` that holds a place (a connection, a session of the user).
class Holder {
public:
    Holder(const ServerProcess& server, const QString& user)
    {
        QObject::connect(&m_socket, &QWebSocket::textMessageReceived, &m_socket,
            [this](const QString& text) { m_welcomed |= text.contains("\"welcome\""); });
        m_socket.open(server.webSocketUrl());
        if (waitUntil([&] { return m_socket.state() == QAbstractSocket::ConnectedState; })) {
            m_socket.sendTextMessage(
                QStringLiteral(R"({"type":"hello","id":"h","user":"%1"})").arg(user));
            waitUntil([&] { return m_welcomed; });
        }
    }
    bool welcomed() const { return m_welcomed; }
    void close()
    {
        m_socket.close();
        waitUntil([&] { return m_socket.state() == QAbstractSocket::UnconnectedState; });
    }

private:
    QWebSocket m_socket;
    bool m_welcomed = false;
};

//! `options` with a backoff that would retry at once: 1 ms, never growing.
ClientOptions hammering(ClientOptions options)
{
    options.reconnect.initialDelay = std::chrono::milliseconds(1);
    options.reconnect.maxDelay = std::chrono::milliseconds(1);
    return options;
}

//! An SDK client that would hammer, with what the tests count.
struct Refused {
    explicit Refused(const ClientOptions& options)
        : client(hammering(options))
    {
        QObject::connect(&client, &Client::reconnectScheduled, &client,
            [this](int, int delayMs) { delays.append(delayMs); });
        QObject::connect(&client, &Client::stateChanged, &client, [this](ConnectionState s) {
            attempts += s == ConnectionState::Connecting;
        });
        QObject::connect(&client, &Client::transportChanged, &client,
            [this](TransportKind kind) { kinds.append(kind); });
        QObject::connect(&client, &Client::errorOccurred, &client,
            [this](const Error& error) { errors.append(error.message); });
    }

    //! Waits for the next scheduled attempt; its delay (-1 if none came).
    int nextDelay()
    {
        const qsizetype before = delays.size();
        return waitUntil([&] { return delays.size() > before; }) ? delays.constLast() : -1;
    }
    //! Gets in once there is room: attempts at once, again after each refusal.
    bool getsIn()
    {
        return waitUntil([&] {
            if (client.state() == ConnectionState::Reconnecting) {
                client.reconnectNow();
            }
            return client.state() == ConnectionState::Connected;
        });
    }

    Client client;
    QList<int> delays;
    QList<TransportKind> kinds;
    QStringList errors;
    int attempts = 0;
};

ClientOptions optionsFor(const ServerProcess& server, const QString& user, TransportKind kind)
{
    ClientOptions options = ClientOptions::forServer(server.webSocketUrl(), user);
    options.transport = kind;
    return options;
}

} // namespace

// WebSocket, over --max-connections-per-ip: the upgrade is closed with 4007. Three refusals in
// a row, each followed by a wait of at least 5 s, one connection attempt each, and negotiation
// (Auto) never falls back to SSE for it.
TEST(RefusalTest, WebSocketClosedWith4007WaitsAtLeastTheNamedTime)
{
    ServerProcess server({ "--max-connections-per-ip", "1" });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    Holder holder(server, "holder");
    ASSERT_TRUE(holder.welcomed());

    Refused refused(optionsFor(server, "follower", TransportKind::Auto));
    refused.client.connectToServer();
    for (int i = 0; i < 3; ++i) {
        if (i > 0) {
            refused.client.reconnectNow(); // skip the wait: the next attempt is refused too
        }
        const int delay = refused.nextDelay();
        EXPECT_GE(delay, 5000) << "attempt " << i + 1;
        EXPECT_EQ(refused.attempts, i + 1);
    }
    EXPECT_EQ(refused.client.transport(), TransportKind::WebSocket);
    for (const TransportKind kind : refused.kinds) {
        EXPECT_EQ(kind, TransportKind::WebSocket) << "fell back for a refusal for capacity";
    }
    ASSERT_FALSE(refused.errors.isEmpty());
    EXPECT_TRUE(refused.errors.constLast().contains("too many connections from this address"))
        << refused.errors.constLast().toStdString();
    EXPECT_TRUE(refused.errors.constLast().contains("4007"));

    holder.close();
    EXPECT_TRUE(refused.getsIn());
    EXPECT_EQ(refused.client.transport(), TransportKind::WebSocket);
}

// HTTP, over --session-rate-per-ip: POST /v1/session is answered 429 with Retry-After: 1; the
// client waits at least that, then gets in by itself once the address has a token again.
TEST(RefusalTest, HttpRetryAfterOnTheSessionRequestIsHonoured)
{
    ServerProcess server({ "--session-rate-per-ip", "1" }); // bursts of 5
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    int taken = 0;
    for (int i = 0; i < 5; ++i) { // the address's whole burst
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, server.port());
        ASSERT_TRUE(socket.waitForConnected(5000));
        const QByteArray hello = R"({"type":"hello","id":"h","user":"u)" + QByteArray::number(i)
            + "\"}";
        socket.write("POST /v1/session HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Content-Length: "
            + QByteArray::number(hello.size()) + "\r\n\r\n" + hello);
        QByteArray answer;
        waitUntil([&] {
            answer += socket.readAll();
            return answer.contains("\r\n\r\n");
        });
        taken += answer.startsWith("HTTP/1.1 200");
    }
    ASSERT_EQ(taken, 5);

    Refused refused(optionsFor(server, "follower", TransportKind::Sse));
    refused.client.connectToServer();
    EXPECT_GE(refused.nextDelay(), 1000);
    EXPECT_EQ(refused.attempts, 1);
    ASSERT_FALSE(refused.errors.isEmpty());
    EXPECT_TRUE(refused.errors.constLast().contains("429")) << refused.errors.constLast().toStdString();
    // No reconnectNow(): the client comes back by itself after the wait.
    EXPECT_TRUE(waitUntil([&] { return refused.client.state() == ConnectionState::Connected; }));
}

// HTTP, over --max-connections: the transport's first request (GET /healthz) is answered 503
// with Retry-After: 5.
TEST(RefusalTest, HttpServiceUnavailableWithRetryAfterIsHonoured)
{
    ServerProcess server({ "--max-connections", "1" });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    Holder holder(server, "holder");
    ASSERT_TRUE(holder.welcomed());

    Refused refused(optionsFor(server, "follower", TransportKind::LongPoll));
    refused.client.connectToServer();
    EXPECT_GE(refused.nextDelay(), 5000);
    refused.client.reconnectNow();
    EXPECT_GE(refused.nextDelay(), 5000);
    EXPECT_EQ(refused.attempts, 2);
    ASSERT_FALSE(refused.errors.isEmpty());
    EXPECT_TRUE(refused.errors.constLast().contains("503")) << refused.errors.constLast().toStdString();

    holder.close();
    EXPECT_TRUE(refused.getsIn());
}

// Sessions per user (--max-sessions-per-user): over WebSocket the hello is answered
// `overloaded` and closed with 4007, over long-poll POST /v1/session gets 429 with
// Retry-After: 5; both wait, and negotiation stays on WebSocket.
TEST(RefusalTest, TooManySessionsOfTheUserWaitOnEveryTransport)
{
    ServerProcess server({ "--max-sessions-per-user", "1" });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    Holder holder(server, "bob");
    ASSERT_TRUE(holder.welcomed());

    Refused overWebSocket(optionsFor(server, "bob", TransportKind::Auto));
    overWebSocket.client.connectToServer();
    EXPECT_GE(overWebSocket.nextDelay(), 5000);
    overWebSocket.client.reconnectNow();
    EXPECT_GE(overWebSocket.nextDelay(), 5000);
    overWebSocket.client.reconnectNow();
    EXPECT_GE(overWebSocket.nextDelay(), 5000);
    EXPECT_EQ(overWebSocket.attempts, 3);
    EXPECT_EQ(overWebSocket.client.transport(), TransportKind::WebSocket);
    ASSERT_FALSE(overWebSocket.errors.isEmpty());
    EXPECT_TRUE(overWebSocket.errors.constLast().contains("too many sessions"))
        << overWebSocket.errors.constLast().toStdString();
    overWebSocket.client.disconnectFromServer();

    Refused overPoll(optionsFor(server, "bob", TransportKind::LongPoll));
    overPoll.client.connectToServer();
    EXPECT_GE(overPoll.nextDelay(), 5000);
    EXPECT_EQ(overPoll.attempts, 1);
    ASSERT_FALSE(overPoll.errors.isEmpty());
    EXPECT_TRUE(overPoll.errors.constLast().contains("too many sessions"))
        << overPoll.errors.constLast().toStdString();

    holder.close();
    EXPECT_TRUE(overPoll.getsIn());
}
