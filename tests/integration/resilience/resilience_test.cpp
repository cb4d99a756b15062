// Issue 4's scenarios: SDK clients against a real parleyd through a fault-injection proxy.
// A: connections cut at random points during a 2 x 1,000-message exchange.
// B: a black hole (half-open TCP) detected by heartbeats, then recovery.
// C: parleyd SIGKILLed and restarted on its data directory mid-traffic.
// D: retention shorter than the gap: historyGap with the exact range.
// Every scenario runs over each transport (WebSocket, SSE, long-poll: issue 6's "same
// guarantees on every transport"). Over the HTTP transports a cut event stream or poll is
// resumed inside the transport (Last-Event-ID, cursor) without the Client seeing a loss, so
// scenario A counts lost connections only over WebSocket; what it checks on every transport is
// that nothing is lost, duplicated or reordered.
// No sleeps: every wait is on a condition with a deadline (waitUntil).
#include "faultproxy.h"
#include "serverprocess.h"
#include "waituntil.h"

#include <QElapsedTimer>
#include <QHash>
#include <QRandomGenerator>
#include <QSet>
#include <QVariant>
#include <algorithm>
#include <gtest/gtest.h>
#include <parley/client.h>

using namespace parley;
using parley::test::FaultProxy;
using parley::test::ServerProcess;
using parley::test::waitUntil;

namespace {

ClientOptions fastOptions(
    const QUrl& url, const QString& user, TransportKind transport = TransportKind::WebSocket)
{
    auto options = ClientOptions::forServer(url, user);
    options.transport = transport;
    options.reconnect.initialDelay = std::chrono::milliseconds(20);
    options.reconnect.maxDelay = std::chrono::milliseconds(200);
    options.requestTimeout = std::chrono::milliseconds(3000);
    options.maxOutboxMessages = 5000;
    return options;
}

//! A client and everything it reported.
struct Peer {
    explicit Peer(const ClientOptions& options)
        : client(options)
    {
        QObject::connect(&client, &Client::messageReceived, &client,
            [this](const Message& m) { received.append(m); });
        QObject::connect(&client, &Client::messageAcked, &client,
            [this](const QString& id, const QString&, quint64) { ++acks[id]; });
        QObject::connect(&client, &Client::messageFailed, &client,
            [this](const QString& id, const Error& e) { failures.append(id + ": " + e.message); });
        QObject::connect(&client, &Client::joined, &client,
            [this](const QString&, quint64, const QStringList&) { ++joins; });
        QObject::connect(&client, &Client::historyGap, &client,
            [this](const QString& room, quint64 from, quint64 to) {
                gaps.append({ room, from, to });
            });
        QObject::connect(&client, &Client::errorOccurred, &client, [this](const Error& e) {
            if (e.code == ErrorCode::ConnectionLost) {
                ++lost;
            }
        });
        QObject::connect(&client, &Client::stateChanged, &client,
            [this](ConnectionState s) { states.append(s); });
        QObject::connect(&client, &Client::messageStateChanged, &client,
            [this](const QString& id, MessageState s) { messageStates[id].append(s); });
    }

    bool connectAndJoin(const QString& room)
    {
        const int before = joins;
        client.join(room);
        client.connectToServer();
        return waitUntil([&] { return joins > before; });
    }

    QList<quint64> seqs() const
    {
        QList<quint64> result;
        for (const Message& m : received) {
            result.append(m.seq);
        }
        return result;
    }

    QStringList msgIds() const
    {
        QStringList result;
        for (const Message& m : received) {
            result.append(m.id);
        }
        return result;
    }

    Client client;
    QList<Message> received;
    QHash<QString, int> acks;
    QStringList failures;
    int joins = 0;
    int lost = 0;
    struct Gap {
        QString room;
        quint64 from;
        quint64 to;
    };
    QList<Gap> gaps;
    QList<ConnectionState> states;
    QHash<QString, QList<MessageState>> messageStates;
};

//! Empty when equal; else where and how two sequences differ (short, unlike gtest's dump).
template <typename T> std::string firstDifference(const QList<T>& actual, const QList<T>& expected)
{
    if (actual == expected) {
        return {};
    }
    qsizetype i = 0;
    while (i < actual.size() && i < expected.size() && actual.at(i) == expected.at(i)) {
        ++i;
    }
    QString out = QStringLiteral("sizes %1 vs %2, first difference at index %3:")
                      .arg(actual.size())
                      .arg(expected.size())
                      .arg(i);
    for (qsizetype j = std::max<qsizetype>(0, i - 2); j < i + 3; ++j) {
        out += QStringLiteral(" [%1] %2/%3")
                   .arg(j)
                   .arg(j < actual.size() ? QVariant::fromValue(actual.at(j)).toString()
                                          : QStringLiteral("-"))
                   .arg(j < expected.size() ? QVariant::fromValue(expected.at(j)).toString()
                                            : QStringLiteral("-"));
    }
    return out.toStdString();
}

QList<quint64> oneTo(quint64 n)
{
    QList<quint64> result;
    for (quint64 i = 1; i <= n; ++i) {
        result.append(i);
    }
    return result;
}

//! Every body from `sender` appears exactly once and in send order.
void expectEachOnceInOrder(const Peer& peer, const QString& sender, int count)
{
    QList<int> order;
    for (const Message& m : peer.received) {
        if (m.sender == sender) {
            order.append(m.body.section(QLatin1Char('-'), 1).toInt());
        }
    }
    QList<int> expected;
    for (int i = 0; i < count; ++i) {
        expected.append(i);
    }
    EXPECT_EQ(firstDifference(order, expected), "") << "messages of " << sender.toStdString();
}

class Resilience : public testing::TestWithParam<TransportKind> {
protected:
    static ClientOptions fastOptions(const QUrl& url, const QString& user)
    {
        return ::fastOptions(url, user, GetParam());
    }
    static bool overWebSocket() { return GetParam() == TransportKind::WebSocket; }
};

// Scenario A.
TEST_P(Resilience, CutsAtRandomPointsLoseNothingAndDuplicateNothing)
{
    ServerProcess server({ QStringLiteral("--heartbeat-ms"), QStringLiteral("1000") });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    FaultProxy proxy(QHostAddress::LocalHost, server.port());
    ASSERT_TRUE(proxy.listen());

    Peer alice(fastOptions(QUrl(proxy.webSocketUrl()), QStringLiteral("alice")));
    Peer bob(fastOptions(QUrl(proxy.webSocketUrl()), QStringLiteral("bob")));
    ASSERT_TRUE(alice.connectAndJoin(QStringLiteral("room")));
    ASSERT_TRUE(bob.connectAndJoin(QStringLiteral("room")));

    constexpr int perPeer = 1000;
    constexpr int total = 2 * perPeer;
    const quint32 seed = QRandomGenerator::global()->generate();
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    QRandomGenerator random(seed);
    QList<int> cutPoints;
    for (int i = 0; i < 6; ++i) {
        cutPoints.append(int(random.bounded(50, total - 50)));
    }
    std::sort(cutPoints.begin(), cutPoints.end());

    QStringList aliceIds;
    QStringList bobIds;
    // Interleaved sends, in batches so the cuts land while traffic flows both ways.
    int sent = 0;
    int cutsDone = 0;
    while (sent < perPeer || cutsDone < cutPoints.size()) {
        for (int i = 0; i < 50 && sent < perPeer; ++i, ++sent) {
            aliceIds.append(
                alice.client.send(QStringLiteral("room"), QStringLiteral("a-%1").arg(sent)));
            bobIds.append(
                bob.client.send(QStringLiteral("room"), QStringLiteral("b-%1").arg(sent)));
        }
        if (cutsDone < cutPoints.size()) {
            const int point = cutPoints.at(cutsDone);
            // Wait until the exchange has progressed to the cut point (or everything sent so
            // far arrived), then cut every connection.
            ASSERT_TRUE(waitUntil(
                [&] { return alice.received.size() >= point || alice.received.size() >= 2 * sent; },
                60000));
            if (alice.received.size() >= point) {
                // Both connected first, so every cut really drops two live connections.
                ASSERT_TRUE(waitUntil([&] {
                    return alice.client.state() == ConnectionState::Connected
                        && bob.client.state() == ConnectionState::Connected;
                }));
                ++cutsDone;
                if (overWebSocket()) {
                    EXPECT_GE(proxy.cutAll(), 2);
                    // Both clients noticed this cut before the next one can count.
                    ASSERT_TRUE(
                        waitUntil([&] { return alice.lost >= cutsDone && bob.lost >= cutsDone; }));
                } else {
                    // HTTP connections come and go (every poll or stream response ends its
                    // connection): cut whatever is open at the first moment something is.
                    ASSERT_TRUE(waitUntil([&] { return proxy.cutAll() > 0; }));
                    // The next cut lands on streams re-established after this one.
                    const qsizetype seen = alice.received.size();
                    ASSERT_TRUE(waitUntil(
                        [&] {
                            return alice.received.size() > seen
                                || alice.received.size() >= 2 * sent;
                        },
                        60000));
                }
            }
        }
    }
    ASSERT_TRUE(waitUntil(
        [&] {
            return alice.received.size() >= total && bob.received.size() >= total
                && alice.acks.size() == perPeer && bob.acks.size() == perPeer;
        },
        120000))
        << "alice got " << alice.received.size() << ", bob got " << bob.received.size() << ", acks "
        << alice.acks.size() << "/" << bob.acks.size() << ", states "
        << connectionStateName(alice.client.state()).toStdString() << "/"
        << connectionStateName(bob.client.state()).toStdString() << ", open connections "
        << proxy.openConnections();
    // Let any straggler (a duplicate would come now) arrive: one more round trip each.
    const QString lastA
        = alice.client.send(QStringLiteral("room"), QStringLiteral("a-%1").arg(perPeer));
    ASSERT_TRUE(waitUntil([&] {
        return alice.acks.contains(lastA) && bob.received.size() > total
            && alice.received.size() > total;
    }));

    if (overWebSocket()) {
        EXPECT_GE(alice.lost, 6) << "the cuts did reach the clients";
        EXPECT_GE(bob.lost, 6) << "the cuts did reach the clients";
    }
    EXPECT_EQ(firstDifference(alice.seqs(), oneTo(total + 1)), "");
    EXPECT_EQ(firstDifference(bob.seqs(), oneTo(total + 1)), "");
    EXPECT_EQ(firstDifference(alice.msgIds(), bob.msgIds()), "");
    expectEachOnceInOrder(alice, QStringLiteral("alice"), perPeer + 1);
    expectEachOnceInOrder(alice, QStringLiteral("bob"), perPeer);
    expectEachOnceInOrder(bob, QStringLiteral("alice"), perPeer + 1);
    expectEachOnceInOrder(bob, QStringLiteral("bob"), perPeer);
    for (const QString& id : aliceIds) {
        EXPECT_EQ(alice.acks.value(id), 1) << id.toStdString();
    }
    for (const QString& id : bobIds) {
        EXPECT_EQ(bob.acks.value(id), 1) << id.toStdString();
    }
    EXPECT_TRUE(alice.failures.isEmpty()) << alice.failures.join(QLatin1Char('\n')).toStdString();
    EXPECT_TRUE(bob.failures.isEmpty()) << bob.failures.join(QLatin1Char('\n')).toStdString();
    EXPECT_TRUE(alice.gaps.isEmpty());
    EXPECT_TRUE(bob.gaps.isEmpty());
    // Every message's last state change is Acked.
    for (const QString& id : aliceIds) {
        ASSERT_FALSE(alice.messageStates.value(id).isEmpty());
        EXPECT_EQ(alice.messageStates.value(id).constLast(), MessageState::Acked);
        EXPECT_EQ(alice.messageStates.value(id).constFirst(), MessageState::Queued);
    }
}

// Scenario B.
TEST_P(Resilience, ABlackHoleIsDetectedWithinTwoHeartbeatsAndRecovered)
{
    constexpr int heartbeatMs = 300;
    ServerProcess server({ QStringLiteral("--heartbeat-ms"), QString::number(heartbeatMs) });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    FaultProxy proxy(QHostAddress::LocalHost, server.port());
    ASSERT_TRUE(proxy.listen());

    auto options = fastOptions(QUrl(proxy.webSocketUrl()), QStringLiteral("alice"));
    options.requestTimeout = std::chrono::milliseconds(1000);
    Peer alice(options);
    Peer bob(fastOptions(server.webSocketUrl(), QStringLiteral("bob"))); // direct, unaffected
    ASSERT_TRUE(alice.connectAndJoin(QStringLiteral("room")));
    ASSERT_TRUE(bob.connectAndJoin(QStringLiteral("room")));
    // A round trip so the connection is known to carry traffic right before the fault.
    alice.client.send(QStringLiteral("room"), QStringLiteral("a-0"));
    ASSERT_TRUE(waitUntil([&] { return alice.acks.size() == 1; }));

    QElapsedTimer sinceFault;
    proxy.setMode(FaultProxy::Mode::BlackHole);
    sinceFault.start();
    ASSERT_TRUE(waitUntil([&] { return alice.lost > 0; }, 10 * heartbeatMs));
    const qint64 detectedAfter = sinceFault.elapsed();
    // Two intervals of silence after the last frame, and the last frame came before the fault;
    // the margin is for event-loop scheduling on a loaded machine.
    EXPECT_LE(detectedAfter, 2 * heartbeatMs + 150);
    EXPECT_NE(alice.client.state(), ConnectionState::Connected);

    // While the path is dead, the message waits in the outbox.
    const QString during = alice.client.send(QStringLiteral("room"), QStringLiteral("a-1"));
    ASSERT_TRUE(waitUntil([&] { return alice.client.messageState(during) == MessageState::Queued; }));

    proxy.setMode(FaultProxy::Mode::PassThrough);
    ASSERT_TRUE(waitUntil([&] { return alice.client.state() == ConnectionState::Connected; }, 10000));
    ASSERT_TRUE(waitUntil([&] { return alice.acks.contains(during) && bob.received.size() == 2; }));
    expectEachOnceInOrder(bob, QStringLiteral("alice"), 2);
    EXPECT_EQ(firstDifference(bob.seqs(), oneTo(2)), "");
}

// Scenario C.
TEST_P(Resilience, ServerKilledAndRestartedMidTrafficResendsWithoutDuplicates)
{
    ServerProcess server({ QStringLiteral("--heartbeat-ms"), QStringLiteral("1000") });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    // Through the proxy, so the clients keep one URL even if the restarted server gets a new
    // port.
    FaultProxy proxy(QHostAddress::LocalHost, server.port());
    ASSERT_TRUE(proxy.listen());

    Peer alice(fastOptions(QUrl(proxy.webSocketUrl()), QStringLiteral("alice")));
    Peer bob(fastOptions(QUrl(proxy.webSocketUrl()), QStringLiteral("bob")));
    ASSERT_TRUE(alice.connectAndJoin(QStringLiteral("room")));
    ASSERT_TRUE(bob.connectAndJoin(QStringLiteral("room")));

    constexpr int count = 3000;
    QStringList ids;
    for (int i = 0; i < count; ++i) {
        ids.append(alice.client.send(QStringLiteral("room"), QStringLiteral("a-%1").arg(i)));
    }
    ASSERT_TRUE(
        waitUntil([&] { return bob.received.size() >= 100 && alice.acks.size() >= 100; }, 60000));
    server.kill();
    ASSERT_LT(alice.acks.size(), count) << "the kill should land mid-traffic";
    ASSERT_TRUE(server.restart()) << server.output().toStdString();
    proxy.setTarget(QHostAddress::LocalHost, server.port());

    ASSERT_TRUE(waitUntil(
        [&] {
            return alice.acks.size() == count && bob.received.size() >= count
                && alice.received.size() >= count;
        },
        120000))
        << "acks " << alice.acks.size() << ", bob got " << bob.received.size();
    // A last message flushes out any late duplicate before the checks.
    const QString last
        = alice.client.send(QStringLiteral("room"), QStringLiteral("a-%1").arg(count));
    ASSERT_TRUE(waitUntil([&] {
        return alice.acks.contains(last) && bob.received.size() > count
            && alice.received.size() > count;
    }));

    EXPECT_EQ(firstDifference(bob.seqs(), oneTo(count + 1)), "");
    EXPECT_EQ(firstDifference(alice.seqs(), oneTo(count + 1)), "");
    expectEachOnceInOrder(bob, QStringLiteral("alice"), count + 1);
    for (const QString& id : ids) {
        EXPECT_EQ(alice.acks.value(id), 1) << id.toStdString();
    }
    EXPECT_TRUE(alice.failures.isEmpty()) << alice.failures.join(QLatin1Char('\n')).toStdString();
    EXPECT_TRUE(bob.gaps.isEmpty());
}

// Scenario D.
TEST_P(Resilience, RetentionShorterThanTheGapReportsTheExactMissingRange)
{
    ServerProcess server({ QStringLiteral("--history-retain-count"), QStringLiteral("10") });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    FaultProxy proxy(QHostAddress::LocalHost, server.port());
    ASSERT_TRUE(proxy.listen());

    Peer alice(fastOptions(server.webSocketUrl(), QStringLiteral("alice")));
    Peer bob(fastOptions(QUrl(proxy.webSocketUrl()), QStringLiteral("bob")));
    ASSERT_TRUE(alice.connectAndJoin(QStringLiteral("room")));
    ASSERT_TRUE(bob.connectAndJoin(QStringLiteral("room")));
    for (int i = 0; i < 5; ++i) {
        alice.client.send(QStringLiteral("room"), QStringLiteral("a-%1").arg(i));
    }
    ASSERT_TRUE(waitUntil([&] { return bob.received.size() == 5; }));

    // Bob is cut off (connections cut, new ones refused) while 30 more messages are posted:
    // the server keeps only seqs 26..35.
    proxy.setMode(FaultProxy::Mode::Refuse);
    proxy.cutAll();
    ASSERT_TRUE(waitUntil([&] { return bob.client.state() == ConnectionState::Reconnecting; }));
    for (int i = 5; i < 35; ++i) {
        alice.client.send(QStringLiteral("room"), QStringLiteral("a-%1").arg(i));
    }
    ASSERT_TRUE(waitUntil([&] { return alice.acks.size() == 35; }));

    proxy.setMode(FaultProxy::Mode::PassThrough);
    bob.client.reconnectNow();
    ASSERT_TRUE(waitUntil([&] { return bob.received.size() == 15; }, 20000))
        << "bob got " << bob.received.size();
    ASSERT_EQ(bob.gaps.size(), 1);
    EXPECT_EQ(bob.gaps.at(0).room, QStringLiteral("room"));
    EXPECT_EQ(bob.gaps.at(0).from, 6u);
    EXPECT_EQ(bob.gaps.at(0).to, 25u);
    QList<quint64> expected = oneTo(5);
    for (quint64 s = 26; s <= 35; ++s) {
        expected.append(s);
    }
    EXPECT_EQ(firstDifference(bob.seqs(), expected), "");
}

// The state machine a UI shows: Reconnecting with the attempt and the time of the next try.
TEST_P(Resilience, ReconnectingExposesAttemptAndNextTryAndReconnectNowSkipsTheWait)
{
    ServerProcess server;
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    FaultProxy proxy(QHostAddress::LocalHost, server.port());
    ASSERT_TRUE(proxy.listen());

    auto options = fastOptions(QUrl(proxy.webSocketUrl()), QStringLiteral("alice"));
    // Long waits: only reconnectNow() can bring the client back within the test's deadline.
    options.reconnect.initialDelay = std::chrono::milliseconds(60000);
    options.reconnect.maxDelay = std::chrono::milliseconds(60000);
    Peer alice(options);
    QList<QPair<int, int>> scheduled;
    QObject::connect(
        &alice.client, &Client::reconnectScheduled, &alice.client, [&](int attempt, int delayMs) {
            scheduled.append({ attempt, delayMs });
        });
    ASSERT_TRUE(alice.connectAndJoin(QStringLiteral("room")));
    EXPECT_EQ(alice.client.reconnectAttempt(), 0);
    EXPECT_TRUE(alice.client.nextReconnectAt().isNull());

    proxy.setMode(FaultProxy::Mode::Refuse);
    const QDateTime before = QDateTime::currentDateTimeUtc();
    proxy.cutAll();
    ASSERT_TRUE(waitUntil([&] { return alice.client.state() == ConnectionState::Reconnecting; }));
    ASSERT_EQ(scheduled.size(), 1);
    EXPECT_EQ(scheduled.at(0).first, 1);
    EXPECT_EQ(alice.client.reconnectAttempt(), 1);
    const QDateTime next = alice.client.nextReconnectAt();
    ASSERT_TRUE(next.isValid());
    EXPECT_GE(next, before.addMSecs(scheduled.at(0).second));
    EXPECT_LE(next, QDateTime::currentDateTimeUtc().addMSecs(scheduled.at(0).second));

    // Refused: the attempt fails at once and the next one is scheduled with attempt 2.
    alice.client.reconnectNow();
    ASSERT_TRUE(waitUntil([&] { return scheduled.size() == 2; }));
    EXPECT_EQ(scheduled.at(1).first, 2);
    EXPECT_EQ(alice.client.state(), ConnectionState::Reconnecting);

    proxy.setMode(FaultProxy::Mode::PassThrough);
    alice.client.reconnectNow();
    ASSERT_TRUE(waitUntil([&] { return alice.client.state() == ConnectionState::Connected; }));
    EXPECT_TRUE(alice.client.nextReconnectAt().isNull());
    EXPECT_EQ(alice.client.reconnectAttempt(), 0);

    // Closed by the user: no more attempts.
    alice.client.disconnectFromServer();
    EXPECT_EQ(alice.client.state(), ConnectionState::Closed);
    proxy.cutAll();
    EXPECT_EQ(alice.client.state(), ConnectionState::Closed);
}

INSTANTIATE_TEST_SUITE_P(Transports, Resilience,
    testing::Values(TransportKind::WebSocket, TransportKind::Sse, TransportKind::LongPoll),
    [](const testing::TestParamInfo<TransportKind>& info) {
        return transportKindName(info.param).remove(QLatin1Char('-')).toStdString();
    });

} // namespace
