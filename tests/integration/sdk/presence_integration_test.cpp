// parley::Client presence against a real single parleyd (LocalPresence): queryPresence() answers,
// userPresenceChanged() reports a room mate coming online and going offline, and bad queries fail
// with InvalidArgument without reaching the server.
#include "serverprocess.h"
#include "waituntil.h"

#include <parley/client.h>

#include <gtest/gtest.h>

using namespace parley;
using parley::test::ServerProcess;
using parley::test::waitUntil;

namespace {

ClientOptions optionsFor(const QUrl& url, const QString& user)
{
    auto options = ClientOptions::forServer(url, user);
    options.reconnect.enabled = false;
    return options;
}

//! A connected client in `room` and the presence it heard of.
struct Member {
    Member(const QUrl& url, const QString& user)
        : client(optionsFor(url, user))
    {
        QObject::connect(&client, &Client::joined, &client,
            [this](const QString&, quint64, const QStringList&) { joined = true; });
        QObject::connect(&client, &Client::userPresenceChanged, &client,
            [this](const QString& u, bool online) { changes.append({ u, online }); });
        QObject::connect(&client, &Client::presenceReceived, &client,
            [this](const QString& id, const QHash<QString, bool>& online) {
                answers.insert(id, online);
            });
        QObject::connect(&client, &Client::presenceQueryFailed, &client,
            [this](const QString& id, const Error& error) { failures.insert(id, error); });
        QObject::connect(&client, &Client::directMessageReceived, &client,
            [this](const QString& from, const QString& text, const QDateTime&) {
                directs.append({ from, text });
            });
        QObject::connect(&client, &Client::directMessageAcked, &client,
            [this](const QString& id, const QString&) { directAcks.append(id); });
        QObject::connect(&client, &Client::directMessageFailed, &client,
            [this](const QString& id, const Error& error) { failures.insert(id, error); });
    }

    bool connectAndJoin(const QString& room)
    {
        client.join(room);
        client.connectToServer();
        return waitUntil([this] { return joined; });
    }

    bool heard(const QString& user, bool online) const
    {
        return changes.contains(qMakePair(user, online));
    }

    Client client;
    bool joined = false;
    QList<QPair<QString, bool>> changes;
    QHash<QString, QHash<QString, bool>> answers;
    QHash<QString, Error> failures;
    QList<QPair<QString, QString>> directs;
    QStringList directAcks;
};

class PresenceIntegration : public ::testing::Test {
protected:
    void SetUp() override
    {
        m_server = std::make_unique<ServerProcess>(QStringList { "--presence-ttl", "5" });
        ASSERT_TRUE(m_server->start()) << m_server->output().toStdString();
    }

    std::unique_ptr<ServerProcess> m_server;
};

TEST_F(PresenceIntegration, RoomMateComesOnlineAndGoesOffline)
{
    Member alice(m_server->webSocketUrl(), "alice");
    ASSERT_TRUE(alice.connectAndJoin("lobby"));
    auto bob = std::make_unique<Member>(m_server->webSocketUrl(), "bob");
    ASSERT_TRUE(bob->connectAndJoin("lobby"));
    ASSERT_TRUE(waitUntil([&] { return alice.heard("bob", true); }));

    const QString id = alice.client.queryPresence({ "bob", "carol" });
    ASSERT_TRUE(waitUntil([&] { return alice.answers.contains(id); }));
    EXPECT_EQ(alice.answers.value(id).value("bob"), true);
    EXPECT_EQ(alice.answers.value(id).value("carol", true), false);

    bob->client.disconnectFromServer();
    ASSERT_TRUE(waitUntil([&] { return alice.heard("bob", false); }, 2000));
    const QString again = alice.client.queryPresence({ "bob" });
    ASSERT_TRUE(waitUntil([&] { return alice.answers.contains(again); }));
    EXPECT_EQ(alice.answers.value(again).value("bob", true), false);
}

TEST_F(PresenceIntegration, BadQueriesFailWithoutReachingTheServer)
{
    Member alice(m_server->webSocketUrl(), "alice");
    const QString offline = alice.client.queryPresence({ "bob" });
    ASSERT_TRUE(waitUntil([&] { return alice.failures.contains(offline); }));
    EXPECT_EQ(alice.failures.value(offline).code, ErrorCode::ConnectionLost);
    EXPECT_TRUE(alice.failures.value(offline).retryable);

    ASSERT_TRUE(alice.connectAndJoin("lobby"));
    const QString empty = alice.client.queryPresence({});
    QStringList many;
    for (int i = 0; i < 101; ++i) {
        many.append(QStringLiteral("u%1").arg(i));
    }
    const QString tooMany = alice.client.queryPresence(many);
    const QString badName = alice.client.queryPresence({ "no spaces" });
    ASSERT_TRUE(waitUntil([&] {
        return alice.failures.contains(empty) && alice.failures.contains(tooMany)
            && alice.failures.contains(badName);
    }));
    for (const QString& id : { empty, tooMany, badName }) {
        EXPECT_EQ(alice.failures.value(id).code, ErrorCode::InvalidArgument) << id.toStdString();
    }
    EXPECT_EQ(alice.client.state(), ConnectionState::Connected);
}

} // namespace

TEST_F(PresenceIntegration, DirectMessageReachesTheUserOrFailsWhenOffline)
{
    Member alice(m_server->webSocketUrl(), "alice");
    ASSERT_TRUE(alice.connectAndJoin("lobby"));
    Member bob(m_server->webSocketUrl(), "bob");
    ASSERT_TRUE(bob.connectAndJoin("lobby"));

    const QString id = alice.client.sendDirect("bob", "psst");
    ASSERT_TRUE(waitUntil([&] { return alice.directAcks.contains(id); }));
    ASSERT_TRUE(waitUntil([&] { return !bob.directs.isEmpty(); }));
    EXPECT_EQ(bob.directs.first(), qMakePair(QString("alice"), QString("psst")));

    const QString lost = alice.client.sendDirect("carol", "anyone?");
    ASSERT_TRUE(waitUntil([&] { return alice.failures.contains(lost); }));
    EXPECT_EQ(alice.failures.value(lost).code, ErrorCode::UserOffline);
    EXPECT_FALSE(alice.failures.value(lost).retryable);
    EXPECT_TRUE(alice.directAcks.size() == 1);
}
