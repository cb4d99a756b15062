// Through HAProxy (packaging/haproxy/parley.cfg, the file `./run cluster` uses): clients connect
// to the balancer only, are spread over three nodes, and survive a node's death: they reconnect
// through the balancer, land on a live node, resume, and no acked message is lost or duplicated.
#include "chatter.h"
#include "redisserver.h"
#include "serverprocess.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTcpServer>
#include <gtest/gtest.h>
#include <set>

namespace parley::test {
namespace {

constexpr int kWaitMs = 60000;

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

int healthStatus(const QUrl& url)
{
    QNetworkAccessManager manager;
    QNetworkReply* reply = manager.get(QNetworkRequest(url));
    RawClient::waitUntil([reply] { return reply->isFinished(); }, 5000);
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    reply->deleteLater();
    return status;
}

TEST(ClusterHaproxy, ClientsConnectThroughTheBalancerAndSurviveANodeDeath)
{
    RedisServer redis({ "--appendonly", "yes", "--appendfsync", "always" });
    ASSERT_TRUE(redis.start()) << redis.output().toStdString();
    std::vector<std::unique_ptr<ServerProcess>> nodes;
    for (int i = 0; i < 3; ++i) {
        nodes.push_back(std::make_unique<ServerProcess>(
            QStringList { "--redis", redis.url(), "--node-id", QString("node-%1").arg(i) }));
        ASSERT_TRUE(nodes.back()->start()) << nodes.back()->output().toStdString();
    }

    const quint16 port = freePort();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("PARLEY_LB_BIND", QString("127.0.0.1:%1").arg(port));
    for (int i = 0; i < 3; ++i) {
        env.insert(QString("PARLEY_NODE%1").arg(i + 1),
            QString("127.0.0.1:%1").arg(nodes[std::size_t(i)]->port()));
    }
    QProcess haproxy;
    haproxy.setProcessEnvironment(env);
    haproxy.setProcessChannelMode(QProcess::MergedChannels);
    haproxy.start(PARLEY_HAPROXY_EXECUTABLE, { "-db", "-f", PARLEY_HAPROXY_CONFIG });
    ASSERT_TRUE(haproxy.waitForStarted(10000));
    const QUrl lb(QString("http://127.0.0.1:%1/healthz").arg(port));
    ASSERT_TRUE(RawClient::waitUntil([&] { return healthStatus(lb) == 200; }, kWaitMs))
        << haproxy.readAll().toStdString();

    const QUrl wsUrl(QString("ws://127.0.0.1:%1/v1/ws").arg(port));
    std::vector<std::unique_ptr<Chatter>> chatters;
    std::set<std::string> usedNodes;
    for (int i = 0; i < 9; ++i) {
        chatters.push_back(std::make_unique<Chatter>("user" + std::to_string(i), "lobby"));
        ASSERT_TRUE(chatters.back()->connectTo(wsUrl, false)) << i;
        usedNodes.insert(chatters.back()->node());
    }
    EXPECT_GE(usedNodes.size(), 2u) << "the balancer should spread connections";

    auto pollAll = [&] {
        for (const auto& chatter : chatters) {
            chatter->poll();
        }
    };
    for (int k = 0; k < 5; ++k) {
        for (const auto& chatter : chatters) {
            chatter->sendNext();
        }
    }
    // Kill the node of the first client, mid-burst.
    const std::string victim = chatters.front()->node();
    const int victimIndex = victim.back() - '0';
    nodes[std::size_t(victimIndex)]->kill();

    for (const auto& chatter : chatters) {
        if (chatter->node() != victim) {
            continue;
        }
        ASSERT_TRUE(RawClient::waitUntil([&] { return !chatter->isOpen(); }, kWaitMs));
        // Reconnect through the balancer (as the SDK's backoff would) until a live node resumes.
        bool resumed = false;
        for (int attempt = 0; attempt < 20 && !resumed; ++attempt) {
            resumed = chatter->connectTo(wsUrl, true) && chatter->node() != victim;
        }
        ASSERT_TRUE(resumed) << chatter->user();
        chatter->resendUnacked();
    }
    for (int k = 0; k < 5; ++k) {
        for (const auto& chatter : chatters) {
            chatter->sendNext();
        }
    }
    const std::size_t total = 9 * 10;
    ASSERT_TRUE(RawClient::waitUntil(
        [&] {
            pollAll();
            for (const auto& chatter : chatters) {
                if (chatter->unacked() != 0 || chatter->received().size() < total) {
                    return false;
                }
            }
            return true;
        },
        kWaitMs));
    pollAll();
    std::vector<std::string> reference;
    for (const auto& chatter : chatters) {
        ASSERT_EQ(chatter->received().size(), total) << chatter->user();
        std::vector<std::string> ids;
        for (std::size_t k = 0; k < total; ++k) {
            ASSERT_EQ(chatter->received()[k].seq, k + 1) << chatter->user();
            ids.push_back(chatter->received()[k].msgId);
        }
        if (reference.empty()) {
            reference = ids;
        }
        EXPECT_EQ(ids, reference) << chatter->user();
        for (const auto& [clientId, ack] : chatter->acks()) {
            EXPECT_EQ(reference[ack.seq - 1], ack.msgId) << clientId;
        }
    }
    haproxy.terminate();
    haproxy.waitForFinished(10000);
}

} // namespace
} // namespace parley::test
