// The same chat scenario over every transport (WebSocket, Server-Sent Events, long-poll) against
// a real parleyd: two clients, one room, a burst of messages: all arrive, once, in order, and the
// sender gets every ack. Also reports a latency figure per transport (sender send() → receiver
// messageReceived, same process, loopback).
#include "serverprocess.h"
#include "waituntil.h"

#include <QElapsedTimer>
#include <algorithm>
#include <gtest/gtest.h>
#include <parley/client.h>

using namespace parley;
using parley::test::ServerProcess;
using parley::test::waitUntil;

namespace {

const char* name(TransportKind kind)
{
    switch (kind) {
    case TransportKind::WebSocket:
        return "WebSocket";
    case TransportKind::Sse:
        return "Sse";
    case TransportKind::LongPoll:
        return "LongPoll";
    default:
        return "Auto";
    }
}

class TransportChat : public ::testing::TestWithParam<TransportKind> {
protected:
    static void SetUpTestSuite()
    {
        s_server = new ServerProcess({ "--poll-timeout-ms", "2000" });
        ASSERT_TRUE(s_server->start()) << s_server->output().toStdString();
    }
    static void TearDownTestSuite()
    {
        delete s_server;
        s_server = nullptr;
    }

    static ClientOptions options(const QString& user)
    {
        auto o = ClientOptions::forServer(s_server->webSocketUrl(), user);
        o.reconnect.enabled = false;
        o.transport = GetParam();
        return o;
    }

    static inline ServerProcess* s_server = nullptr;
};

} // namespace

TEST_P(TransportChat, TwoClientsChatInOrderWithoutLossOrDuplicates)
{
    const QString room = QStringLiteral("room-%1").arg(name(GetParam()));
    Client alice(options("alice"));
    Client bob(options("bob"));
    QStringList aliceJoined;
    QStringList bobJoined;
    QList<Message> bobGot;
    QList<quint64> acked;
    QList<qint64> latencies;
    QElapsedTimer clock;
    clock.start();
    QHash<QString, qint64> sentAt;
    QObject::connect(&alice, &Client::joined, &alice,
        [&](const QString& r, quint64, const QStringList&) { aliceJoined.append(r); });
    QObject::connect(&bob, &Client::joined, &bob,
        [&](const QString& r, quint64, const QStringList&) { bobJoined.append(r); });
    QObject::connect(&bob, &Client::messageReceived, &bob, [&](const Message& m) {
        bobGot.append(m);
        latencies.append(clock.nsecsElapsed() / 1000 - sentAt.value(m.body));
    });
    QObject::connect(&alice, &Client::messageAcked, &alice,
        [&](const QString&, const QString&, quint64 seq) { acked.append(seq); });
    alice.join(room);
    bob.join(room);
    alice.connectToServer();
    bob.connectToServer();
    ASSERT_TRUE(waitUntil([&] { return aliceJoined.contains(room) && bobJoined.contains(room); }));
    EXPECT_EQ(alice.state(), ConnectionState::Connected);

    // A burst, then a paced run (one message in flight at a time) for the latency figure.
    constexpr int kBurst = 50;
    constexpr int kPaced = 30;
    for (int i = 0; i < kBurst; ++i) {
        const QString body = QStringLiteral("burst %1").arg(i);
        sentAt.insert(body, clock.nsecsElapsed() / 1000);
        alice.send(room, body);
    }
    ASSERT_TRUE(waitUntil([&] { return bobGot.size() >= kBurst; })) << bobGot.size();
    latencies.clear();
    for (int i = 0; i < kPaced; ++i) {
        const QString body = QStringLiteral("paced %1").arg(i);
        sentAt.insert(body, clock.nsecsElapsed() / 1000);
        alice.send(room, body);
        ASSERT_TRUE(waitUntil([&] { return bobGot.size() >= kBurst + i + 1; }))
            << "paced " << i << ": bob has " << bobGot.size() << ", alice acks " << acked.size()
            << "\n"
            << s_server->output().right(3000).toStdString();
    }
    ASSERT_TRUE(waitUntil([&] { return acked.size() >= kBurst + kPaced; }));

    ASSERT_EQ(bobGot.size(), kBurst + kPaced);
    for (int i = 0; i < bobGot.size(); ++i) {
        const QString expected = i < kBurst ? QStringLiteral("burst %1").arg(i)
                                            : QStringLiteral("paced %1").arg(i - kBurst);
        EXPECT_EQ(bobGot[i].body, expected);
        EXPECT_EQ(bobGot[i].seq, quint64(i + 1));
        EXPECT_EQ(bobGot[i].sender, "alice");
    }
    std::sort(latencies.begin(), latencies.end());
    std::printf("[ latency  ] %s: p50 %lld us, max %lld us over %lld paced messages\n",
        name(GetParam()), (long long)latencies.at(latencies.size() / 2),
        (long long)latencies.back(), (long long)latencies.size());
    alice.disconnectFromServer();
    bob.disconnectFromServer();
    EXPECT_EQ(alice.state(), ConnectionState::Closed);
    EXPECT_EQ(bob.state(), ConnectionState::Closed);
}

TEST_P(TransportChat, ALongOutboxQueuedOfflineIsDeliveredOnceConnected)
{
    // 400 messages of 1,000 characters queued before the connection: flushed at once after the
    // join, far more than one HTTP request may carry (4 x 64 KiB): the HTTP transports must
    // split them into bounded batches, in order.
    const QString room = QStringLiteral("outbox-%1").arg(name(GetParam()));
    auto o = options("carol");
    Client carol(o);
    QList<quint64> acked;
    QList<Message> got;
    QObject::connect(&carol, &Client::messageAcked, &carol,
        [&](const QString&, const QString&, quint64 seq) { acked.append(seq); });
    QObject::connect(
        &carol, &Client::messageReceived, &carol, [&](const Message& m) { got.append(m); });
    carol.join(room);
    constexpr int kCount = 400;
    const QString filler(990, QLatin1Char('x'));
    for (int i = 0; i < kCount; ++i) {
        carol.send(room, QStringLiteral("%1 ").arg(i, 4, 10, QLatin1Char('0')) + filler);
    }
    carol.connectToServer();
    ASSERT_TRUE(waitUntil([&] { return acked.size() == kCount && got.size() == kCount; }, 30000))
        << "acked " << acked.size() << ", received " << got.size() << ", state "
        << connectionStateName(carol.state()).toStdString();
    for (int i = 0; i < kCount; ++i) {
        EXPECT_TRUE(got[i].body.startsWith(QStringLiteral("%1 ").arg(i, 4, 10, QLatin1Char('0'))))
            << i;
        EXPECT_EQ(got[i].seq, quint64(i + 1));
    }
    carol.disconnectFromServer();
}

INSTANTIATE_TEST_SUITE_P(AllTransports, TransportChat,
    ::testing::Values(TransportKind::WebSocket, TransportKind::Sse, TransportKind::LongPoll),
    [](const ::testing::TestParamInfo<TransportKind>& info) { return name(info.param); });
