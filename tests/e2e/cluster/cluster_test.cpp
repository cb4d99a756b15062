// Cluster end-to-end: a real redis-server (AOF on), three parleyd nodes with --redis, raw
// WebSocket clients spread over the nodes. What users depend on: every member of a room sees the
// same gapless order, whichever node it is on; no acknowledged message is lost or duplicated when
// a node is killed or Redis restarts mid-burst; /healthz tells the balancer about the Redis link.
#include "chatter.h"
#include "redisserver.h"
#include "serverprocess.h"

#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <gtest/gtest.h>
#include <map>
#include <set>

namespace parley::test {
namespace {

constexpr int kNodes = 3;
constexpr int kClients = 30;
constexpr int kRooms = 10;
constexpr int kWaitMs = 60000;

struct Health {
    int status = 0;
    QJsonObject body;
};

Health getHealth(const QUrl& base)
{
    QNetworkAccessManager manager;
    QNetworkReply* reply = manager.get(QNetworkRequest(base.resolved(QUrl("/healthz"))));
    RawClient::waitUntil([reply] { return reply->isFinished(); }, 5000);
    Health health;
    health.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    health.body = QJsonDocument::fromJson(reply->readAll()).object();
    reply->deleteLater();
    return health;
}

class ClusterTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        m_redis = std::make_unique<RedisServer>(
            QStringList { "--appendonly", "yes", "--appendfsync", "always" });
        ASSERT_TRUE(m_redis->start()) << m_redis->output().toStdString();
        for (int i = 0; i < kNodes; ++i) {
            m_nodes.push_back(std::make_unique<ServerProcess>(
                QStringList { "--redis", m_redis->url(), "--node-id", QString("node-%1").arg(i) }));
            ASSERT_TRUE(m_nodes.back()->start()) << m_nodes.back()->output().toStdString();
        }
        ASSERT_TRUE(RawClient::waitUntil([this] { return allHealthy(); }, kWaitMs));
        for (int i = 0; i < kClients; ++i) {
            m_chatters.push_back(std::make_unique<Chatter>(
                "user" + std::to_string(i), "room-" + std::to_string(i % kRooms)));
            m_nodeOf.push_back(i % kNodes);
            ASSERT_TRUE(m_chatters.back()->connectTo(m_nodes[i % kNodes]->webSocketUrl(), false))
                << "client " << i;
        }
    }

    bool allHealthy()
    {
        for (const auto& node : m_nodes) {
            if (node->isRunning() && getHealth(node->httpUrl()).status != 200) {
                return false;
            }
        }
        return true;
    }

    void pollAll()
    {
        for (const auto& chatter : m_chatters) {
            chatter->poll();
        }
    }

    void burst(int perClient)
    {
        for (int k = 0; k < perClient; ++k) {
            for (const auto& chatter : m_chatters) {
                if (chatter->isOpen()) {
                    chatter->sendNext();
                }
            }
        }
    }

    //! Waits until every send is acked and every member has received `perRoom` messages.
    bool waitSettled(std::size_t perRoom)
    {
        return RawClient::waitUntil(
            [&] {
                pollAll();
                for (const auto& chatter : m_chatters) {
                    if (chatter->unacked() != 0 || chatter->received().size() < perRoom) {
                        return false;
                    }
                }
                return true;
            },
            kWaitMs);
    }

    //! Reconnects the clients of dead nodes to the next live node (resume) and resends.
    void failOver()
    {
        for (std::size_t i = 0; i < m_chatters.size(); ++i) {
            if (m_nodes[m_nodeOf[i]]->isRunning()) {
                continue;
            }
            Chatter& chatter = *m_chatters[i];
            ASSERT_TRUE(RawClient::waitUntil([&] { return !chatter.isOpen(); }, kWaitMs));
            int next = (m_nodeOf[i] + 1) % kNodes;
            while (!m_nodes[next]->isRunning()) {
                next = (next + 1) % kNodes;
            }
            m_nodeOf[i] = next;
            ASSERT_TRUE(chatter.connectTo(m_nodes[next]->webSocketUrl(), true))
                << chatter.user() << " could not resume on node " << next;
            chatter.resendUnacked();
        }
    }

    //! Every member of a room saw seqs 1..N exactly once, in the same order with the same
    //! message ids; every ack (of any member) names a message every member received.
    void expectIdenticalGaplessOrder(std::size_t perRoom)
    {
        pollAll();
        std::map<std::string, std::vector<std::string>> reference; // room -> msg ids by seq
        for (const auto& chatter : m_chatters) {
            const auto& received = chatter->received();
            ASSERT_EQ(received.size(), perRoom) << chatter->user();
            std::vector<std::string> ids;
            for (std::size_t k = 0; k < received.size(); ++k) {
                ASSERT_EQ(received[k].seq, k + 1) << chatter->user() << " at " << k;
                ids.push_back(received[k].msgId);
            }
            auto [it, inserted] = reference.try_emplace(chatter->room(), ids);
            if (!inserted) {
                EXPECT_EQ(it->second, ids) << chatter->user() << " saw another order";
            }
        }
        std::set<std::string> ackedIds;
        for (const auto& chatter : m_chatters) {
            EXPECT_EQ(chatter->acks().size(), chatter->sentCount()) << chatter->user();
            for (const auto& [clientId, ack] : chatter->acks()) {
                const auto& ids = reference[chatter->room()];
                ASSERT_GE(ack.seq, 1u);
                ASSERT_LE(ack.seq, ids.size());
                EXPECT_EQ(ids[ack.seq - 1], ack.msgId) << clientId;
                EXPECT_TRUE(ackedIds.insert(ack.msgId).second) << "two acks name " << ack.msgId;
            }
        }
    }

    std::unique_ptr<RedisServer> m_redis;
    std::vector<std::unique_ptr<ServerProcess>> m_nodes;
    std::vector<std::unique_ptr<Chatter>> m_chatters;
    std::vector<int> m_nodeOf;
};

TEST_F(ClusterTest, EveryMemberSeesTheSameGaplessOrderAcrossNodes)
{
    burst(10);
    ASSERT_TRUE(waitSettled(30));
    expectIdenticalGaplessOrder(30);
}

TEST_F(ClusterTest, NodeKilledDuringBurstLosesNoAckedMessage)
{
    burst(10);
    m_nodes[0]->kill();
    failOver();
    burst(10);
    ASSERT_TRUE(waitSettled(60));
    expectIdenticalGaplessOrder(60);
}

TEST_F(ClusterTest, RedisRestartDuringBurstLosesNoAckedMessage)
{
    burst(10);
    ASSERT_TRUE(m_redis->stop());
    // Sends during the outage are refused with a retryable error, never silently dropped.
    burst(2);
    ASSERT_TRUE(RawClient::waitUntil(
        [this] {
            pollAll();
            for (const auto& chatter : m_chatters) {
                if (chatter->retryableErrors() == 0) {
                    return false;
                }
            }
            return true;
        },
        kWaitMs));
    EXPECT_EQ(getHealth(m_nodes[1]->httpUrl()).status, 503);
    ASSERT_TRUE(m_redis->restart());
    ASSERT_TRUE(RawClient::waitUntil([this] { return allHealthy(); }, kWaitMs));
    pollAll();
    for (const auto& chatter : m_chatters) {
        chatter->resendUnacked();
    }
    burst(10);
    ASSERT_TRUE(waitSettled(66));
    expectIdenticalGaplessOrder(66);
}

TEST_F(ClusterTest, HistoryReadOnAnotherNodeMatchesWhatMembersSaw)
{
    burst(4);
    ASSERT_TRUE(waitSettled(12));
    const Chatter& member = *m_chatters[0];
    // A new member joins on another node than the sender and reads the room's history.
    RawClient reader(m_nodes[2]->webSocketUrl());
    ASSERT_TRUE(reader.open());
    ASSERT_TRUE(reader.hello("reader"));
    const auto joined = reader.join(member.room());
    ASSERT_TRUE(joined);
    EXPECT_EQ(joined->cursor.seq, 12u);
    const auto latest = reader.history(member.room(), std::nullopt, std::nullopt, 5);
    ASSERT_TRUE(latest);
    ASSERT_EQ(latest->messages.size(), 5u);
    EXPECT_TRUE(latest->hasMore);
    for (std::size_t k = 0; k < 5; ++k) {
        EXPECT_EQ(latest->messages[k].seq, 8 + k);
        EXPECT_EQ(latest->messages[k].msgId, member.received()[7 + k].msgId);
    }
    const auto older = reader.history(member.room(), 8, std::nullopt, 50);
    ASSERT_TRUE(older);
    ASSERT_EQ(older->messages.size(), 7u);
    EXPECT_FALSE(older->hasMore);
    EXPECT_EQ(older->messages.front().seq, 1u);
    const auto after = reader.history(member.room(), std::nullopt, 10, 50);
    ASSERT_TRUE(after);
    ASSERT_EQ(after->messages.size(), 2u);
    EXPECT_EQ(after->messages.back().body, member.received()[11].body);
}

TEST(ClusterHealth, NodeStartsWithoutRedisAndRecoversWhenItAppears)
{
    RedisServer redis;
    ASSERT_TRUE(redis.start()) << redis.output().toStdString();
    ASSERT_TRUE(redis.stop());
    ServerProcess node({ "--redis", redis.url() });
    ASSERT_TRUE(node.start()) << node.output().toStdString();
    const Health down = getHealth(node.httpUrl());
    EXPECT_EQ(down.status, 503);
    EXPECT_EQ(down.body.value("redis").toBool(true), false);

    ASSERT_TRUE(redis.restart());
    ASSERT_TRUE(RawClient::waitUntil(
        [&] { return getHealth(node.httpUrl()).status == 200; }, RawClient::kTimeoutMs));
    EXPECT_EQ(getHealth(node.httpUrl()).body.value("redis").toBool(false), true);
    RawClient client(node.webSocketUrl());
    ASSERT_TRUE(client.open());
    ASSERT_TRUE(client.hello("alice"));
    ASSERT_TRUE(client.join("lobby"));
    const auto ack = client.sendMessage("lobby", "c1", "hello");
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->seq, 1u);
}

} // namespace
} // namespace parley::test
