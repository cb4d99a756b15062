// Cluster presence end to end: a real redis-server, two parleyd nodes with a short presence TTL,
// a watcher on node 0 and the watched user on node 1. What users see: the watcher learns when
// the user comes online and goes offline, within 1 s of a clean disconnect, and within TTL + 5 s
// when the user's client vanishes without a goodbye (process SIGKILLed, network path cut while
// the server's socket stays open). And what a room far above --presence-max-members costs, counted
// in frames over both nodes: no `user_presence` per join to every member.
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

// Members of one big room spread over two nodes: the room's size is counted over the cluster,
// so it is above the limit on both although each node alone holds fewer members than it would
// take locally. Counted at the members, in frames.
class ClusterBigRoomPresenceTest : public ::testing::Test {
protected:
    static constexpr std::size_t kLimit = 8;
    static constexpr std::size_t kMembers = 60;
    static constexpr std::size_t kFillBound = kLimit * (kLimit + 1) / 2;

    void SetUp() override
    {
        m_redis = std::make_unique<RedisServer>();
        ASSERT_TRUE(m_redis->start()) << m_redis->output().toStdString();
        for (int i = 0; i < 2; ++i) {
            m_nodes.push_back(std::make_unique<ServerProcess>(
                QStringList { "--redis", m_redis->url(), "--node-id", QString("node-%1").arg(i),
                    "--presence-max-members", QString::number(kLimit) }));
            ASSERT_TRUE(m_nodes.back()->start()) << m_nodes.back()->output().toStdString();
        }
    }

    std::unique_ptr<RawClient> connect(std::size_t node, const std::string& user)
    {
        auto client = std::make_unique<RawClient>(m_nodes[node]->webSocketUrl());
        EXPECT_TRUE(client->open());
        EXPECT_TRUE(client->hello(user));
        return client;
    }

    //! Member `i`, on node i % 2, in the big room and in a room of its own ("p-i", the settle
    //! path below).
    std::unique_ptr<RawClient> member(std::size_t i)
    {
        auto client = connect(i % 2, memberName(i));
        EXPECT_TRUE(client->join("big"));
        EXPECT_TRUE(client->join("p-" + std::to_string(i)));
        return client;
    }
    static std::string memberName(std::size_t i) { return "user" + std::to_string(i); }

    //! Every `user_presence` the cluster produced so far for the members has reached them. Each
    //! node runs its presence scripts in order on one Redis link and the channel is one total
    //! order, so a transition a node published after the others reaches every member after
    //! them: one fresh sentinel user per node joins every member's own room and each member waits
    //! for both. Each round adds two users to those rooms (kLimit allows three rounds).
    void settle(std::size_t members)
    {
        ++m_round;
        std::vector<std::string> sentinels;
        for (std::size_t node = 0; node < m_nodes.size(); ++node) {
            sentinels.push_back("sentinel-" + std::to_string(m_round) + "-" + std::to_string(node));
            m_sentinels.push_back(connect(node, sentinels.back()));
            for (std::size_t i = 0; i < members; ++i) {
                ASSERT_TRUE(m_sentinels.back()->join("p-" + std::to_string(i)));
            }
        }
        for (std::size_t i = 0; i < members; ++i) {
            for (const std::string& sentinel : sentinels) {
                ASSERT_TRUE(m_members[i]->take<protocol::UserPresence>(
                    [&](const protocol::UserPresence& p) { return p.user == sentinel; }))
                    << memberName(i) << " never heard of " << sentinel;
            }
        }
    }

    //! `user_presence` frames the members received about other members (not about themselves,
    //! not about the sentinels).
    std::size_t countMemberFrames() const
    {
        std::size_t count = 0;
        for (std::size_t i = 0; i < m_members.size(); ++i) {
            for (const auto& frame : m_members[i]->frames()) {
                const auto* p = std::get_if<protocol::UserPresence>(&frame);
                count += p && p->user != memberName(i) && p->user.rfind("sentinel-", 0) != 0;
            }
        }
        return count;
    }

    std::unique_ptr<RedisServer> m_redis;
    std::vector<std::unique_ptr<ServerProcess>> m_nodes;
    std::vector<std::unique_ptr<RawClient>> m_members;
    std::vector<std::unique_ptr<RawClient>> m_sentinels;
    int m_round = 0;
};

TEST_F(ClusterBigRoomPresenceTest, JoiningARoomFarAboveTheLimitCostsTheMembersNoFrames)
{
    for (std::size_t i = 0; i < kMembers; ++i) {
        m_members.push_back(member(i));
    }
    settle(kMembers);
    // Only the first kLimit users of the room are announced, each to the fewer than kLimit
    // members already in it: not the N(N-1)/2 = 1,770 of announcing every member coming online
    // to every other.
    const std::size_t filled = countMemberFrames();
    EXPECT_LE(filled, kFillBound);
    EXPECT_GT(filled, 0u);

    // One more member, on either node: nothing reaches the others.
    auto newcomer = connect(1, "newcomer");
    ASSERT_TRUE(newcomer->join("big"));
    settle(kMembers);
    EXPECT_EQ(countMemberFrames(), filled);

    // Nor when it goes offline: once node 0 says it is offline, its transition was published,
    // before the next round of sentinels.
    newcomer->close();
    std::optional<bool> online = true;
    for (int i = 0; i < 1000 && online != std::optional<bool>(false); ++i) {
        online = m_members.front()->queryOnline("newcomer");
    }
    ASSERT_EQ(online, std::optional<bool>(false));
    settle(kMembers);
    EXPECT_EQ(countMemberFrames(), filled);
}

} // namespace
} // namespace parley::test
