// Cluster presence end to end: a real redis-server, two parleyd nodes with a short presence TTL,
// a watcher on node 0 and the watched user on node 1. What users see: the watcher learns when
// the user comes online and goes offline, within 1 s of a clean disconnect, and within TTL + 5 s
// when the user's client vanishes without a goodbye (process SIGKILLed, network path cut while
// the server's socket stays open).
#include "faultproxy.h"
#include "rawclient.h"
#include "redisserver.h"
#include "serverprocess.h"

#include <QElapsedTimer>
#include <QProcess>
#include <gtest/gtest.h>

namespace parley::test {
namespace {

constexpr int kTtlS = 3;
constexpr int kWaitMs = 30000;

class ClusterPresenceTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        m_redis = std::make_unique<RedisServer>();
        ASSERT_TRUE(m_redis->start()) << m_redis->output().toStdString();
        for (int i = 0; i < 2; ++i) {
            // Heartbeat timeout (2 x 30 s) far above the TTL: only presence can notice a
            // silent client in time.
            m_nodes.push_back(std::make_unique<ServerProcess>(
                QStringList { "--redis", m_redis->url(), "--node-id", QString("node-%1").arg(i),
                    "--presence-ttl", QString::number(kTtlS), "--heartbeat-ms", "30000" }));
            ASSERT_TRUE(m_nodes.back()->start()) << m_nodes.back()->output().toStdString();
        }
        m_watcher = std::make_unique<RawClient>(m_nodes[0]->webSocketUrl());
        ASSERT_TRUE(m_watcher->open());
        ASSERT_TRUE(m_watcher->hello("watcher"));
        ASSERT_TRUE(m_watcher->join("lobby"));
    }

    //! The watcher's next user_presence frame about `user` saying `online`, within `timeoutMs`.
    bool watcherSees(const std::string& user, bool online, int timeoutMs)
    {
        return m_watcher
            ->take<protocol::UserPresence>(
                [&](const protocol::UserPresence& p) {
                    return p.user == user && p.online == online;
                },
                timeoutMs)
            .has_value();
    }

    //! Asks node 0 whether `user` is online (presence_query).
    std::optional<bool> queryOnline(const std::string& user)
    {
        return m_watcher->queryOnline(user);
    }

    std::unique_ptr<RedisServer> m_redis;
    std::vector<std::unique_ptr<ServerProcess>> m_nodes;
    std::unique_ptr<RawClient> m_watcher;
};

TEST_F(ClusterPresenceTest, CleanDisconnectOnAnotherNodeIsOfflineWithinOneSecond)
{
    RawClient bob(m_nodes[1]->webSocketUrl());
    ASSERT_TRUE(bob.open());
    ASSERT_TRUE(bob.hello("bob"));
    ASSERT_TRUE(bob.join("lobby"));
    ASSERT_TRUE(watcherSees("bob", true, kWaitMs));
    EXPECT_EQ(queryOnline("bob"), std::optional<bool>(true));
    EXPECT_EQ(queryOnline("nobody"), std::optional<bool>(false));

    QElapsedTimer clock;
    clock.start();
    bob.close();
    ASSERT_TRUE(watcherSees("bob", false, 5000));
    EXPECT_LE(clock.elapsed(), 1000);
    EXPECT_EQ(queryOnline("bob"), std::optional<bool>(false));
}

TEST_F(ClusterPresenceTest, SigkilledClientIsOfflineWithinTtlPlusFiveSeconds)
{
    QProcess tail;
    tail.setProcessChannelMode(QProcess::MergedChannels);
    tail.start(QStringLiteral(PARLEY_CLI_PATH),
        { "tail", "lobby", "--user", "carol", "--server", m_nodes[1]->webSocketUrl().toString() });
    ASSERT_TRUE(tail.waitForStarted());
    ASSERT_TRUE(watcherSees("carol", true, kWaitMs)) << tail.readAll().toStdString();

    QElapsedTimer clock;
    clock.start();
    tail.kill();
    tail.waitForFinished();
    ASSERT_TRUE(watcherSees("carol", false, (kTtlS + 5) * 1000 + 1000));
    EXPECT_LE(clock.elapsed(), (kTtlS + 5) * 1000);
}

TEST_F(ClusterPresenceTest, ClientBehindACutNetworkIsOfflineWithinTtlPlusFiveSeconds)
{
    FaultProxy proxy(QHostAddress::LocalHost, m_nodes[1]->port());
    ASSERT_TRUE(proxy.listen());
    RawClient dave(QUrl(proxy.webSocketUrl()));
    ASSERT_TRUE(dave.open());
    ASSERT_TRUE(dave.hello("dave"));
    ASSERT_TRUE(dave.join("lobby"));
    ASSERT_TRUE(watcherSees("dave", true, kWaitMs));

    // Half-open path: node 1 keeps the socket and would wait 60 s for missed heartbeats.
    QElapsedTimer clock;
    clock.start();
    proxy.setMode(FaultProxy::Mode::BlackHole);
    ASSERT_TRUE(watcherSees("dave", false, (kTtlS + 5) * 1000 + 1000));
    EXPECT_GE(clock.elapsed(), kTtlS * 1000 - 500);
    EXPECT_LE(clock.elapsed(), (kTtlS + 5) * 1000);
    EXPECT_EQ(queryOnline("dave"), std::optional<bool>(false));
}

} // namespace
} // namespace parley::test
