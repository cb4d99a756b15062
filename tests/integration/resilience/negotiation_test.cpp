// Issue 6's negotiation scenario: SDK clients with TransportKind::Auto against a real parleyd
// through the fault proxy. WebSocket upgrades refused → the clients end on SSE and chat; event
// streams cut too → long-poll; upgrades allowed again → back on WebSocket. Both clients send all
// along: every message arrives once, in order, at both. No sleeps: waits on conditions.
#include "faultproxy.h"
#include "serverprocess.h"
#include "waituntil.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTimer>
#include <gtest/gtest.h>
#include <parley/client.h>

using namespace parley;
using parley::test::FaultProxy;
using parley::test::ServerProcess;
using parley::test::waitUntil;

namespace {

const QString kRoom = QStringLiteral("room");

struct Peer {
    Peer(const QUrl& url, const QString& user, const QString& memoryPath = QString())
        : name(user)
    {
        auto options = ClientOptions::forServer(url, user);
        options.reconnect.initialDelay = std::chrono::milliseconds(20);
        options.reconnect.maxDelay = std::chrono::milliseconds(200);
        options.requestTimeout = std::chrono::milliseconds(4000);
        options.upgradeProbeDelay = std::chrono::milliseconds(100);
        options.upgradeProbeMaxDelay = std::chrono::milliseconds(800);
        options.transportMemoryPath = memoryPath;
        options.maxOutboxMessages = 10000;
        client.setOptions(options);
        QObject::connect(&client, &Client::messageReceived, &client,
            [this](const Message& m) { received.append(m); });
        QObject::connect(&client, &Client::messageAcked, &client,
            [this](const QString& id, const QString&, quint64) { ++acks[id]; });
        QObject::connect(&client, &Client::messageFailed, &client,
            [this](const QString& id, const Error& e) { failures.append(id + ": " + e.message); });
        QObject::connect(&client, &Client::joinFailed, &client,
            [this](const QString&, const Error& e) { failures.append("join: " + e.message); });
        QObject::connect(&client, &Client::joined, &client,
            [this](const QString&, quint64, const QStringList&) { ++joins; });
        QObject::connect(&client, &Client::transportChanged, &client,
            [this](TransportKind kind) { kinds.append(kind); });
    }

    bool on(TransportKind kind) const
    {
        return client.transport() == kind && client.state() == ConnectionState::Connected
            && client.joinedRooms().contains(kRoom);
    }

    //! Bodies of `sender`'s messages as received, by their counter.
    QList<int> order(const QString& sender) const
    {
        QList<int> result;
        for (const Message& m : received) {
            if (m.sender == sender) {
                result.append(m.body.section(QLatin1Char('-'), 1).toInt());
            }
        }
        return result;
    }

    QString name;
    Client client;
    QList<Message> received;
    QHash<QString, int> acks;
    QStringList failures;
    QList<TransportKind> kinds;
    int joins = 0;
    int sent = 0;
};

//! The server's open sessions, from GET /healthz (-1 when it did not answer).
int serverSessions(quint16 port)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(3000)) {
        return -1;
    }
    socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    QByteArray response;
    while (socket.waitForReadyRead(3000)) {
        response += socket.readAll();
    }
    response += socket.readAll();
    const QByteArray body = response.mid(response.indexOf("\r\n\r\n") + 4);
    return QJsonDocument::fromJson(body).object().value(QStringLiteral("sessions")).toInt(-1);
}

QList<int> upTo(int n)
{
    QList<int> result;
    for (int i = 0; i < n; ++i) {
        result.append(i);
    }
    return result;
}

TEST(Negotiation, FallsBackToSseThenLongPollAndUpgradesBackWithoutLossDuplicateOrReorder)
{
    ServerProcess server({ QStringLiteral("--heartbeat-ms"), QStringLiteral("2000") });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    FaultProxy proxy(QHostAddress::LocalHost, server.port());
    ASSERT_TRUE(proxy.listen());
    QTemporaryDir dir;
    const QString memory = dir.filePath(QStringLiteral("transports.json"));

    // A proxy that does not let WebSocket through.
    proxy.setRefuseUpgrades(true);
    Peer alice(QUrl(proxy.webSocketUrl()), QStringLiteral("alice"), memory);
    Peer bob(QUrl(proxy.webSocketUrl()), QStringLiteral("bob"));
    for (Peer* peer : { &alice, &bob }) {
        peer->client.join(kRoom);
        peer->client.connectToServer();
    }
    ASSERT_TRUE(waitUntil([&] { return alice.on(TransportKind::Sse) && bob.on(TransportKind::Sse); }))
        << "alice " << transportKindName(alice.client.transport()).toStdString() << ", bob "
        << transportKindName(bob.client.transport()).toStdString();
    EXPECT_GE(proxy.refusedUpgrades(), 4) << "two refused opens each before the fallback";

    // Both keep talking through every phase: one message each every 10 ms.
    QTimer ticker;
    ticker.setInterval(10);
    QObject::connect(&ticker, &QTimer::timeout, &ticker, [&] {
        for (Peer* peer : { &alice, &bob }) {
            peer->client.send(kRoom, peer->name.left(1) + QStringLiteral("-%1").arg(peer->sent++));
        }
    });
    ticker.start();
    const auto progressed = [&](int by) {
        const int target = std::min(alice.sent, bob.sent) + by;
        return waitUntil([&] { return alice.received.size() >= 2 * target; }, 30000);
    };
    ASSERT_TRUE(progressed(50)) << "chatting over SSE";

    // Event streams are cut too (a proxy that kills long-lived responses): long-poll.
    proxy.setCutStreamsAfter(0);
    proxy.cutAll();
    ASSERT_TRUE(waitUntil(
        [&] { return alice.on(TransportKind::LongPoll) && bob.on(TransportKind::LongPoll); },
        30000))
        << "alice " << transportKindName(alice.client.transport()).toStdString() << ", bob "
        << transportKindName(bob.client.transport()).toStdString();
    EXPECT_GT(proxy.cutStreams(), 0);
    ASSERT_TRUE(progressed(50)) << "chatting over long-poll";

    // The proxy lets WebSocket through again: the background probe moves both back.
    proxy.setRefuseUpgrades(false);
    ASSERT_TRUE(waitUntil(
        [&] { return alice.on(TransportKind::WebSocket) && bob.on(TransportKind::WebSocket); },
        30000));
    // The long-poll sessions were ended by DELETE /v1/session, not left to the heartbeat sweep
    // (two 2 s intervals): only the two WebSocket sessions remain, well before the sweep.
    EXPECT_TRUE(waitUntil([&] { return serverSessions(server.port()) == 2; }, 1500))
        << serverSessions(server.port()) << " sessions";
    ASSERT_TRUE(progressed(50)) << "chatting over WebSocket again";
    ticker.stop();

    const int total = alice.sent + bob.sent;
    ASSERT_TRUE(waitUntil(
        [&] {
            return alice.acks.size() == alice.sent && bob.acks.size() == bob.sent
                && alice.received.size() >= total && bob.received.size() >= total;
        },
        30000))
        << "acks " << alice.acks.size() << "/" << alice.sent << ", " << bob.acks.size() << "/"
        << bob.sent << "; received " << alice.received.size() << ", " << bob.received.size()
        << " of " << total;
    // A last round trip each flushes out any late duplicate.
    const QString last = alice.client.send(kRoom, QStringLiteral("a-%1").arg(alice.sent++));
    ASSERT_TRUE(waitUntil([&] {
        return alice.acks.contains(last) && bob.received.size() > total
            && alice.received.size() > total;
    }));

    for (Peer* peer : { &alice, &bob }) {
        SCOPED_TRACE(peer->name.toStdString());
        EXPECT_EQ(peer->order(QStringLiteral("alice")), upTo(alice.sent));
        EXPECT_EQ(peer->order(QStringLiteral("bob")), upTo(bob.sent));
        QList<quint64> seqs;
        for (const Message& m : peer->received) {
            seqs.append(m.seq);
        }
        QList<quint64> expected;
        for (quint64 s = 1; s <= quint64(total + 1); ++s) {
            expected.append(s);
        }
        EXPECT_EQ(seqs, expected);
        EXPECT_TRUE(peer->failures.isEmpty()) << peer->failures.join('\n').toStdString();
        for (auto it = peer->acks.constBegin(); it != peer->acks.constEnd(); ++it) {
            EXPECT_EQ(it.value(), 1) << it.key().toStdString();
        }
        EXPECT_EQ(peer->kinds,
            (QList<TransportKind> {
                TransportKind::Sse, TransportKind::LongPoll, TransportKind::WebSocket }));
    }
    // Alice remembered the last transport that worked for this server.
    ASSERT_TRUE(waitUntil([&] {
        QFile file(memory);
        return file.open(QIODevice::ReadOnly)
            && QJsonDocument::fromJson(file.readAll())
                   .object()
                   .value(QStringLiteral("127.0.0.1:%1").arg(proxy.port()))
                   .toString()
            == QLatin1String("websocket");
    }));
}

TEST(Negotiation, TheRememberedTransportIsWhereTheNextStartBegins)
{
    ServerProcess server;
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    FaultProxy proxy(QHostAddress::LocalHost, server.port());
    ASSERT_TRUE(proxy.listen());
    QTemporaryDir dir;
    const QString memory = dir.filePath(QStringLiteral("transports.json"));
    proxy.setRefuseUpgrades(true);
    {
        Peer first(QUrl(proxy.webSocketUrl()), QStringLiteral("carol"), memory);
        first.client.join(kRoom);
        first.client.connectToServer();
        ASSERT_TRUE(waitUntil([&] { return first.on(TransportKind::Sse); }));
        ASSERT_TRUE(waitUntil([&] { return QFile::exists(memory); }));
    }
    const int refusedBefore = proxy.refusedUpgrades();
    Peer second(QUrl(proxy.webSocketUrl()), QStringLiteral("carol"), memory);
    second.client.join(kRoom);
    second.client.connectToServer();
    ASSERT_TRUE(waitUntil([&] { return second.on(TransportKind::Sse); }));
    // Straight to SSE: no WebSocket open was attempted before it (probes come only after).
    EXPECT_EQ(second.kinds, QList<TransportKind> { TransportKind::Sse });
    EXPECT_LE(proxy.refusedUpgrades() - refusedBefore, 1) << "at most the first probe";
}

TEST(Negotiation, AForcedTransportNeverFallsBack)
{
    ServerProcess server;
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    FaultProxy proxy(QHostAddress::LocalHost, server.port());
    ASSERT_TRUE(proxy.listen());
    proxy.setRefuseUpgrades(true);
    Peer dave(QUrl(proxy.webSocketUrl()), QStringLiteral("dave"));
    auto options = dave.client.options();
    options.transport = TransportKind::WebSocket;
    dave.client.setOptions(options);
    int scheduled = 0;
    QObject::connect(
        &dave.client, &Client::reconnectScheduled, &dave.client, [&](int, int) { ++scheduled; });
    dave.client.connectToServer();
    ASSERT_TRUE(waitUntil([&] { return scheduled >= 4; }));
    EXPECT_EQ(dave.client.transport(), TransportKind::WebSocket);
    EXPECT_TRUE(dave.kinds.isEmpty());
}

} // namespace
