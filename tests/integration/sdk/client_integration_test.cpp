// parley::Client against a real parleyd on loopback: chat, concurrent senders, history paging,
// the outbox across a server restart, catching up after being away.
#include "serverprocess.h"
#include "waituntil.h"

#include <parley/client.h>

#include <QDir>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>

#include <gtest/gtest.h>

#include <map>
#include <memory>

using namespace parley;
using parley::test::ServerProcess;
using parley::test::waitUntil;

namespace {

//! Options without automatic reconnect: the tests of the basic flow decide when to reconnect.
ClientOptions manualOptions(const QUrl& url, const QString& user)
{
    auto options = ClientOptions::forServer(url, user);
    options.reconnect.enabled = false;
    return options;
}

//! Options with a fast automatic reconnect, so a test does not wait for production backoff.
ClientOptions reconnectingOptions(const QUrl& url, const QString& user)
{
    auto options = ClientOptions::forServer(url, user);
    options.reconnect.initialDelay = std::chrono::milliseconds(20);
    options.reconnect.maxDelay = std::chrono::milliseconds(200);
    return options;
}

//! A Client plus everything it reported, for assertions.
struct Recorder {
    explicit Recorder(const QUrl& url, const QString& user)
        : Recorder(manualOptions(url, user))
    {
    }

    explicit Recorder(const ClientOptions& options)
        : client(options)
    {
        QObject::connect(&client, &Client::messageReceived, &client,
            [this](const Message& m) { received.append(m); });
        QObject::connect(&client, &Client::messageAcked, &client,
            [this](const QString& id, const QString&, quint64 seq) { acks.append({ id, seq }); });
        QObject::connect(&client, &Client::messageFailed, &client,
            [this](const QString& id, const Error& e) { failures.append({ id, e }); });
        QObject::connect(&client, &Client::joined, &client,
            [this](const QString& room, quint64, const QStringList&) { joinedRooms.append(room); });
        QObject::connect(&client, &Client::errorOccurred, &client,
            [this](const Error& e) { errors.append(e); });
    }

    bool connectAndJoin(const QString& room)
    {
        const qsizetype before = joinedRooms.count(room);
        client.join(room);
        client.connectToServer();
        return waitUntil([&] { return joinedRooms.count(room) > before; });
    }

    QList<quint64> receivedSeqs(const QString& room) const
    {
        QList<quint64> seqs;
        for (const auto& m : received) {
            if (m.room == room) {
                seqs.append(m.seq);
            }
        }
        return seqs;
    }

    Client client;
    QList<Message> received;
    QList<QPair<QString, quint64>> acks;
    QList<QPair<QString, Error>> failures;
    QStringList joinedRooms;
    QList<Error> errors;
};

QList<quint64> range(quint64 from, quint64 to)
{
    QList<quint64> r;
    for (quint64 s = from; s <= to; ++s) {
        r.append(s);
    }
    return r;
}

class ClientIntegration : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(QFile::exists(ServerProcess::executable())) << "build parleyd first";
        ASSERT_TRUE(m_server.start()) << m_server.output().toStdString();
    }

    QUrl url() const { return m_server.webSocketUrl(); }

    ServerProcess m_server;
};

} // namespace

TEST_F(ClientIntegration, TwoClientsChat)
{
    Recorder alice(url(), "alice");
    Recorder bob(url(), "bob");
    ASSERT_TRUE(alice.connectAndJoin("kitchen"));
    EXPECT_EQ(alice.client.state(), ConnectionState::Connected);
    EXPECT_FALSE(alice.client.sessionId().isEmpty());
    ASSERT_TRUE(bob.connectAndJoin("kitchen"));

    const QString hi = alice.client.send("kitchen", "hi bob");
    ASSERT_TRUE(waitUntil([&] { return bob.received.size() == 1 && alice.acks.size() == 1; }));
    EXPECT_EQ(bob.received[0].sender, "alice");
    EXPECT_EQ(bob.received[0].body, "hi bob");
    EXPECT_EQ(bob.received[0].clientId, hi);
    EXPECT_EQ(bob.received[0].room, "kitchen");
    EXPECT_TRUE(bob.received[0].timestamp.isValid());
    EXPECT_EQ(alice.acks[0].first, hi);
    EXPECT_EQ(alice.acks[0].second, bob.received[0].seq);

    bob.client.send("kitchen", QString::fromUtf8("hello alice — ünïcode ✓"));
    ASSERT_TRUE(waitUntil([&] { return alice.received.size() == 2; }));
    EXPECT_EQ(alice.received[1].body, QString::fromUtf8("hello alice — ünïcode ✓"));
    EXPECT_EQ(alice.received[1].sender, "bob");
    EXPECT_EQ(alice.received[1].seq, alice.received[0].seq + 1);
    EXPECT_TRUE(alice.failures.isEmpty());
    EXPECT_TRUE(alice.errors.isEmpty());
}

TEST_F(ClientIntegration, FiveConcurrentSendersAllSeeTheSameGaplessOrder)
{
    constexpr int kClients = 5;
    constexpr int kPerClient = 200;
    constexpr int kTotal = kClients * kPerClient;
    std::vector<std::unique_ptr<Recorder>> clients;
    for (int i = 0; i < kClients; ++i) {
        clients.push_back(std::make_unique<Recorder>(url(), QStringLiteral("user%1").arg(i)));
        ASSERT_TRUE(clients.back()->connectAndJoin("busy"));
    }
    std::vector<QStringList> sent(kClients);
    for (int n = 0; n < kPerClient; ++n) {
        for (int i = 0; i < kClients; ++i) {
            sent[i].append(clients[i]->client.send("busy", QStringLiteral("u%1 m%2").arg(i).arg(n)));
        }
    }
    ASSERT_TRUE(waitUntil(
        [&] {
            for (const auto& c : clients) {
                if (c->received.size() < kTotal || c->acks.size() + c->failures.size() < kPerClient) {
                    return false;
                }
            }
            return true;
        },
        120000));

    const QList<quint64> expected = range(1, kTotal);
    QStringList reference;
    for (const auto& m : clients[0]->received) {
        reference.append(m.id);
    }
    for (int i = 0; i < kClients; ++i) {
        const auto& c = *clients[i];
        EXPECT_TRUE(c.failures.isEmpty()) << "client " << i;
        EXPECT_EQ(c.received.size(), kTotal) << "client " << i;
        EXPECT_EQ(c.receivedSeqs("busy"), expected) << "client " << i << ": not gapless 1..1000";
        QStringList order;
        for (const auto& m : c.received) {
            order.append(m.id);
        }
        EXPECT_EQ(order, reference) << "client " << i << " saw another order";
        EXPECT_EQ(QSet<QString>(order.begin(), order.end()).size(), kTotal) << "duplicates";

        // Every send acked exactly once, with the seq the message was delivered at.
        EXPECT_EQ(c.acks.size(), kPerClient);
        std::map<QString, quint64> ackSeq;
        for (const auto& [id, seq] : c.acks) {
            EXPECT_TRUE(ackSeq.emplace(id, seq).second) << "acked twice";
        }
        QStringList ownInOrder;
        for (const auto& m : c.received) {
            if (m.sender == c.client.options().user) {
                ownInOrder.append(m.clientId);
                EXPECT_EQ(ackSeq[m.clientId], m.seq);
            }
        }
        // One connection, sends in order: the server keeps each sender's order.
        EXPECT_EQ(ownInOrder, sent[i]);
        EXPECT_EQ(c.client.pendingMessageCount(), 0);
        EXPECT_EQ(c.client.lastDeliveredSeq("busy"), std::optional<quint64>(kTotal));
    }
}

TEST_F(ClientIntegration, HistoryPagesThroughTheSdk)
{
    Recorder alice(url(), "alice");
    ASSERT_TRUE(alice.connectAndJoin("archive"));
    for (int i = 1; i <= 25; ++i) {
        alice.client.send("archive", QStringLiteral("message %1").arg(i));
    }
    ASSERT_TRUE(waitUntil([&] { return alice.acks.size() == 25; }));

    Recorder reader(url(), "reader");
    ASSERT_TRUE(reader.connectAndJoin("archive"));
    QSignalSpy pages(&reader.client, &Client::historyReceived);
    const auto fetch = [&](const HistoryQuery& query) {
        const QString id = reader.client.fetchHistory("archive", query);
        const qsizetype before = pages.count();
        EXPECT_TRUE(waitUntil([&] { return pages.count() > before; }));
        const auto args = pages.takeLast();
        EXPECT_EQ(args.at(0).toString(), id);
        EXPECT_EQ(args.at(1).toString(), "archive");
        QList<quint64> seqs;
        for (const auto& m : args.at(2).value<QList<Message>>()) {
            seqs.append(m.seq);
        }
        return std::make_pair(seqs, args.at(3).toBool());
    };

    auto [newest, more1] = fetch(HistoryQuery::latest(10));
    EXPECT_EQ(newest, range(16, 25));
    EXPECT_TRUE(more1);
    auto [older, more2] = fetch(HistoryQuery::before(16, 10));
    EXPECT_EQ(older, range(6, 15));
    EXPECT_TRUE(more2);
    auto [oldest, more3] = fetch(HistoryQuery::before(6, 10));
    EXPECT_EQ(oldest, range(1, 5));
    EXPECT_FALSE(more3);
    auto [forward, more4] = fetch(HistoryQuery::after(20, 10));
    EXPECT_EQ(forward, range(21, 25));
    EXPECT_FALSE(more4);

    // Bodies come back as sent.
    const QString id = reader.client.fetchHistory("archive", HistoryQuery::after(0, 1));
    ASSERT_TRUE(waitUntil([&] { return !pages.isEmpty(); }));
    const auto args = pages.takeFirst();
    EXPECT_EQ(args.at(0).toString(), id);
    EXPECT_EQ(args.at(2).value<QList<Message>>().value(0).body, "message 1");
}

TEST_F(ClientIntegration, HistoryOfARoomNotJoinedFails)
{
    Recorder alice(url(), "alice");
    ASSERT_TRUE(alice.connectAndJoin("mine"));
    QSignalSpy failed(&alice.client, &Client::historyFailed);
    alice.client.fetchHistory("other");
    ASSERT_TRUE(failed.wait(5000));
    EXPECT_EQ(failed.at(0).at(2).value<Error>().code, ErrorCode::NotJoined);
}

TEST_F(ClientIntegration, ServerRejectionsFailTheMessage)
{
    Recorder alice(url(), "alice");
    ASSERT_TRUE(alice.connectAndJoin("limits"));
    const QString big = alice.client.send("limits", QString(70 * 1024, 'x'));
    ASSERT_TRUE(waitUntil([&] { return alice.failures.size() == 1; }));
    EXPECT_EQ(alice.failures[0].first, big);
    EXPECT_EQ(alice.failures[0].second.code, ErrorCode::BodyTooLarge);
    EXPECT_FALSE(alice.failures[0].second.retryable);
    // The connection carries on.
    alice.client.send("limits", "small");
    ASSERT_TRUE(waitUntil([&] { return alice.acks.size() == 1; }));
    EXPECT_EQ(alice.client.state(), ConnectionState::Connected);
}

TEST_F(ClientIntegration, UnackedMessagesAreResentAfterTheServerComesBack)
{
    Recorder alice(url(), "alice");
    ASSERT_TRUE(alice.connectAndJoin("durable"));
    alice.client.send("durable", "before");
    ASSERT_TRUE(waitUntil([&] { return alice.acks.size() == 1; }));

    m_server.kill();
    ASSERT_TRUE(waitUntil([&] { return alice.client.state() == ConnectionState::Disconnected; }));
    ASSERT_FALSE(alice.errors.isEmpty());
    EXPECT_EQ(alice.errors.last().code, ErrorCode::ConnectionLost);

    // Accepted while offline, kept in the outbox.
    const QString offline = alice.client.send("durable", "while away");
    EXPECT_EQ(alice.client.pendingMessageCount(), 1);

    ASSERT_TRUE(m_server.restart()) << m_server.output().toStdString();
    alice.client.connectToServer();
    ASSERT_TRUE(waitUntil([&] { return alice.acks.size() == 2; }));
    EXPECT_EQ(alice.acks[1].first, offline);
    EXPECT_EQ(alice.acks[1].second, 2u);
    EXPECT_TRUE(alice.failures.isEmpty());
    // The room was rejoined automatically, and the message delivered once.
    ASSERT_TRUE(waitUntil([&] { return alice.receivedSeqs("durable") == range(1, 2); }));
}

TEST_F(ClientIntegration, AClientThatWasAwayCatchesUpInOrder)
{
    Recorder alice(url(), "alice");
    Recorder bob(url(), "bob");
    ASSERT_TRUE(alice.connectAndJoin("news"));
    ASSERT_TRUE(bob.connectAndJoin("news"));
    alice.client.send("news", "one");
    ASSERT_TRUE(waitUntil([&] { return bob.received.size() == 1; }));

    bob.client.disconnectFromServer();
    EXPECT_EQ(bob.client.state(), ConnectionState::Closed);
    for (int i = 2; i <= 6; ++i) {
        alice.client.send("news", QStringLiteral("n%1").arg(i));
    }
    ASSERT_TRUE(waitUntil([&] { return alice.acks.size() == 6; }));

    // Back: the rejoin shows the room moved on; the missed messages arrive before new ones,
    // each once.
    bob.client.connectToServer();
    ASSERT_TRUE(waitUntil([&] { return bob.joinedRooms.size() == 2; }));
    alice.client.send("news", "seven");
    ASSERT_TRUE(waitUntil([&] { return bob.received.size() >= 7; }));
    EXPECT_EQ(bob.receivedSeqs("news"), range(1, 7));
    EXPECT_EQ(bob.received.last().body, "seven");
}

TEST_F(ClientIntegration, ReconnectsByItselfAfterAServerRestartAndLosesNothing)
{
    Recorder alice(reconnectingOptions(url(), "alice"));
    Recorder bob(reconnectingOptions(url(), "bob"));
    ASSERT_TRUE(alice.connectAndJoin("resilient"));
    ASSERT_TRUE(bob.connectAndJoin("resilient"));
    alice.client.send("resilient", "one");
    ASSERT_TRUE(waitUntil([&] { return bob.received.size() == 1 && alice.acks.size() == 1; }));

    m_server.kill();
    ASSERT_TRUE(waitUntil([&] {
        return alice.client.state() == ConnectionState::Reconnecting
            && bob.client.state() == ConnectionState::Reconnecting;
    }));
    QSignalSpy aliceScheduled(&alice.client, &Client::reconnectScheduled);
    // Sent while the server is down: kept in the outbox, not failed.
    const QString two = alice.client.send("resilient", "two");
    const QString three = alice.client.send("resilient", "three");

    ASSERT_TRUE(m_server.restart()) << m_server.output().toStdString();
    ASSERT_TRUE(waitUntil([&] {
        return alice.client.state() == ConnectionState::Connected
            && bob.client.state() == ConnectionState::Connected && alice.acks.size() == 3
            && bob.received.size() == 3 && alice.receivedSeqs("resilient").size() >= 3;
    })) << m_server.output().toStdString();
    EXPECT_EQ(alice.acks[1].first, two);
    EXPECT_EQ(alice.acks[2].first, three);
    EXPECT_TRUE(alice.failures.isEmpty());
    // Both rejoined on their own and see the same gapless order, once.
    EXPECT_EQ(alice.receivedSeqs("resilient"), range(1, 3));
    EXPECT_EQ(bob.receivedSeqs("resilient"), range(1, 3));
    EXPECT_EQ(bob.received[1].body, "two");
    EXPECT_EQ(bob.received[2].body, "three");
    for (const auto& scheduled : aliceScheduled) {
        EXPECT_LE(scheduled.at(1).toInt(), 200);
    }
}

namespace {

//! Copies the files of directory `from` into `to` (replacing what is there).
bool copyFiles(const QString& from, const QString& to)
{
    for (const QString& name : QDir(to).entryList(QDir::Files)) {
        if (!QFile::remove(to + "/" + name)) {
            return false;
        }
    }
    for (const QString& name : QDir(from).entryList(QDir::Files)) {
        if (!QFile::copy(from + "/" + name, to + "/" + name)) {
            return false;
        }
    }
    return true;
}

} // namespace

TEST_F(ClientIntegration, AServerRestoredFromAnOlderCopyIsFollowedNotIgnored)
{
    // The server comes back from an older copy of its data: same epoch, but its room is behind
    // the cursor alice resumes with. The seqs after the restore repeat ones she delivered, yet
    // they are new messages: she is told the stream was reset and receives them.
    Recorder alice(url(), "alice");
    Recorder bob(url(), "bob");
    QSignalSpy resets(&alice.client, &Client::streamReset);
    ASSERT_TRUE(alice.connectAndJoin("archive"));
    ASSERT_TRUE(bob.connectAndJoin("archive"));
    bob.client.send("archive", "one");
    ASSERT_TRUE(waitUntil([&] { return alice.received.size() == 1; }));

    ASSERT_EQ(m_server.stop(), 0) << m_server.output().toStdString();
    QTemporaryDir backup;
    ASSERT_TRUE(copyFiles(m_server.dataDir(), backup.path()));
    ASSERT_TRUE(m_server.restart()) << m_server.output().toStdString();
    ASSERT_TRUE(waitUntil([&] {
        return alice.client.state() == ConnectionState::Disconnected
            && bob.client.state() == ConnectionState::Disconnected;
    }));
    alice.client.connectToServer();
    bob.client.connectToServer();
    ASSERT_TRUE(
        waitUntil([&] { return alice.joinedRooms.size() == 2 && bob.joinedRooms.size() == 2; }));
    bob.client.send("archive", "two");
    bob.client.send("archive", "three");
    ASSERT_TRUE(waitUntil([&] { return alice.received.size() == 3; }));

    ASSERT_EQ(m_server.stop(), 0) << m_server.output().toStdString();
    ASSERT_TRUE(copyFiles(backup.path(), m_server.dataDir()));
    ASSERT_TRUE(m_server.restart()) << m_server.output().toStdString();
    ASSERT_TRUE(waitUntil([&] {
        return alice.client.state() == ConnectionState::Disconnected
            && bob.client.state() == ConnectionState::Disconnected;
    }));
    alice.client.connectToServer();
    bob.client.connectToServer();
    ASSERT_TRUE(
        waitUntil([&] { return alice.joinedRooms.size() == 3 && bob.joinedRooms.size() == 3; }));
    ASSERT_TRUE(waitUntil([&] { return resets.size() == 1; }));
    EXPECT_EQ(resets.at(0).at(0).toString(), "archive");
    bob.client.send("archive", "after the restore");
    ASSERT_TRUE(waitUntil([&] { return alice.received.size() == 4; }));
    EXPECT_EQ(alice.received.last().body, "after the restore");
    EXPECT_EQ(alice.received.last().seq, 2u);
}

TEST(ClientHeartbeat, AnIdleClientStaysConnectedPastTheServersSilenceLimit)
{
    // The server closes sessions silent for two heartbeat intervals (100 ms here); the client's
    // heartbeats keep an idle session alive. The idle stretch is what is under test: the second
    // client speaks only after eight intervals.
    ServerProcess server({ "--heartbeat-ms", "100" });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    Recorder idle(reconnectingOptions(server.webSocketUrl(), "idle"));
    Recorder talker(reconnectingOptions(server.webSocketUrl(), "talker"));
    ASSERT_TRUE(idle.connectAndJoin("quiet"));
    ASSERT_TRUE(talker.connectAndJoin("quiet"));
    QSignalSpy idleStates(&idle.client, &Client::stateChanged);
    QTimer::singleShot(800, &talker.client, [&] { talker.client.send("quiet", "still there?"); });
    ASSERT_TRUE(waitUntil([&] { return idle.received.size() == 1; })) << server.output().toStdString();
    EXPECT_EQ(idle.received[0].body, "still there?");
    EXPECT_EQ(idleStates.count(), 0) << "the idle client lost its connection";
    EXPECT_TRUE(idle.errors.isEmpty());
    EXPECT_EQ(idle.client.state(), ConnectionState::Connected);
}

TEST(ClientSendOrder, RateLimitedSendsStillArriveInTheOrderTheyWereWritten)
{
    // 200 frames/s with bursts of 400: of 1,000 sends written at once, most are refused
    // (`rate_limited`, retryable), and while the server works through the rest of the burst the
    // bucket refills a few tokens, so without the barrier some later sends would be stored
    // before the earlier refused ones. The outbox resends
    // the refused ones and the server's send barrier keeps the later ones from overtaking them:
    // the room shows alice's messages exactly in the order she wrote them, each once.
    ServerProcess server({ "--rate-limit", "200" });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    Recorder alice(server.webSocketUrl(), "alice");
    Recorder bob(server.webSocketUrl(), "bob");
    ASSERT_TRUE(alice.connectAndJoin("ordered"));
    ASSERT_TRUE(bob.connectAndJoin("ordered"));
    QSignalSpy states(&alice.client, &Client::messageStateChanged);

    constexpr int kCount = 1000;
    QStringList written;
    for (int i = 0; i < kCount; ++i) {
        written.append(alice.client.send("ordered", QStringLiteral("m%1").arg(i)));
    }
    ASSERT_TRUE(waitUntil(
        [&] { return bob.received.size() >= kCount && alice.acks.size() >= kCount; }, 60000))
        << "bob has " << bob.received.size() << ", alice " << alice.acks.size() << " acks\n"
        << server.output().right(3000).toStdString();
    QStringList bodies;
    QStringList clientIds;
    for (const auto& m : bob.received) {
        bodies.append(m.body);
        clientIds.append(m.clientId);
    }
    QStringList expected;
    for (int i = 0; i < kCount; ++i) {
        expected.append(QStringLiteral("m%1").arg(i));
    }
    EXPECT_EQ(bodies, expected);
    EXPECT_EQ(clientIds, written);
    EXPECT_EQ(bob.receivedSeqs("ordered"), range(1, kCount));
    EXPECT_EQ(alice.acks.size(), kCount);
    EXPECT_TRUE(alice.failures.isEmpty());
    // The limit really was hit: some messages went back to Queued after a refusal.
    int requeued = 0;
    for (const auto& change : states) {
        requeued += change.at(1).value<MessageState>() == MessageState::Queued ? 1 : 0;
    }
    EXPECT_GT(requeued, kCount) << "every message is Queued once; refusals add more";
}

TEST(ClientSendOrder, MessagesWaitingToBeResentStillFailAtTheirDeadlineWhileOffline)
{
    // Refused for the rate limit, messages wait for their resend time; the server goes away
    // meanwhile. Offline, a resend that comes due waits for the connection, but the message
    // deadline (messageTimeout) still runs: every message fails by then, none waits forever.
    ServerProcess server({ "--rate-limit", "5" });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    auto options = reconnectingOptions(server.webSocketUrl(), "alice");
    options.messageTimeout = std::chrono::seconds(3);
    Recorder alice(options);
    ASSERT_TRUE(alice.connectAndJoin("offline"));
    QSignalSpy states(&alice.client, &Client::messageStateChanged);
    constexpr int kCount = 50;
    for (int i = 0; i < kCount; ++i) {
        alice.client.send("offline", QStringLiteral("m%1").arg(i));
    }
    // Some are refused (back to Queued, waiting for their resend time) ...
    ASSERT_TRUE(waitUntil([&] {
        for (const auto& change : states) {
            if (change.at(1).value<MessageState>() == MessageState::Queued
                && alice.client.messageState(change.at(0).toString()) == MessageState::Queued) {
                return true;
            }
        }
        return false;
    }));
    // ... when the server dies.
    server.kill();
    ASSERT_TRUE(waitUntil([&] { return alice.acks.size() + alice.failures.size() == kCount; }, 15000))
        << alice.acks.size() << " acked, " << alice.failures.size() << " failed of " << kCount;
    // A message that was refused fails with the server's last refusal (rate_limited), one that
    // never was with a plain timeout.
    for (const auto& failure : alice.failures) {
        EXPECT_TRUE(failure.second.code == ErrorCode::Timeout
            || failure.second.code == ErrorCode::RateLimited)
            << int(failure.second.code) << " " << failure.second.message.toStdString();
    }
    EXPECT_FALSE(alice.failures.isEmpty());
}
