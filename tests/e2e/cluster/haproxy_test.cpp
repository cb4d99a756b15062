// Through HAProxy in front of three real nodes on a real Redis. Three balancer configurations:
// the shipped one (packaging/haproxy/parley.cfg, the file `./run cluster` uses: leastconn and a
// PARLEY_NODE cookie); a plain round-robin one with no cookie and no stickiness of any kind,
// which docs/cluster.md says is enough for every transport; and the shipped one refusing /v1/
// requests that lack its cookie (a balancer that relies on cookies). The last two are written
// by the test into its temporary directory.
//
// - Raw WebSocket clients spread over the nodes survive a node's death: they reconnect through
//   the balancer, land on a live node, resume, and no acked message is lost or duplicated.
// - SDK followers on Server-Sent Events and on long-poll, idle but for a trickle of messages and
//   their own heartbeats, keep their one server session: every message arrives once, in order,
//   with no reconnect at all (each stream or poll request may land on any node).
// - After a node is SIGKILLed, every SDK follower, on every transport, delivers again within
//   10 s (a correctness bound of the product, not a benchmark), and in the end every acked
//   message reached every follower once, in order.
#include "chatter.h"
#include "redisserver.h"
#include "serverprocess.h"

#include <QElapsedTimer>
#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTimer>
#include <gtest/gtest.h>
#include <map>
#include <parley/client.h>
#include <set>

namespace parley::test {
namespace {

constexpr int kWaitMs = 60000;
//! After a node dies, every follower delivers again within this bound (docs/cluster.md).
constexpr int kRecoveryBoundMs = 10000;

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

//! Round robin over the three nodes, health checks, and nothing that pins a client to a node:
//! no cookie, no stick table, no source hashing.
constexpr const char* kRoundRobinConfig = R"(global
    maxconn 9000
    log stderr format short local0 notice

defaults
    mode http
    log global
    timeout connect 5s
    timeout client 65s
    timeout server 65s
    timeout tunnel 1h

frontend parley
    bind "${PARLEY_LB_BIND}"
    default_backend parleyd

backend parleyd
    balance roundrobin
    option redispatch
    retries 3
    option httpchk GET /healthz
    http-check expect status 200
    default-server inter 1s fastinter 500ms fall 2 rise 2
    server node1 "${PARLEY_NODE1}" check
    server node2 "${PARLEY_NODE2}" check
    server node3 "${PARLEY_NODE3}" check
)";

//! The shipped configuration, plus a rule that refuses every /v1/ request (but the WebSocket
//! upgrade) without the stickiness cookie: the kind of balancer or proxy that relies on cookies.
//! The cookie is set on the first answer (the HTTP transports' GET /healthz).
QByteArray cookieRequiredConfig()
{
    QFile shipped(PARLEY_HAPROXY_CONFIG);
    if (!shipped.open(QIODevice::ReadOnly)) {
        return {};
    }
    QByteArray config = shipped.readAll();
    config.replace("    default_backend parleyd\n",
        "    http-request deny deny_status 403 if { path_beg /v1/ } !{ path /v1/ws } "
        "!{ req.cook(PARLEY_NODE) -m found }\n"
        "    default_backend parleyd\n");
    return config;
}

enum class Balancer { Shipped, RoundRobin, CookieRequired };

//! redis-server, three parleyd nodes sharing it, HAProxy in front.
class Cluster {
public:
    bool start(Balancer balancer, const QStringList& nodeArgs)
    {
        if (!m_redis.start()) {
            m_error = "redis: " + m_redis.output().toStdString();
            return false;
        }
        for (int i = 0; i < 3; ++i) {
            QStringList args { "--redis", m_redis.url(), "--node-id", QString("node-%1").arg(i) };
            m_nodes.push_back(std::make_unique<ServerProcess>(args + nodeArgs));
            if (!m_nodes.back()->start()) {
                m_error = "node: " + m_nodes.back()->output().toStdString();
                return false;
            }
        }
        QString config = PARLEY_HAPROXY_CONFIG;
        if (balancer != Balancer::Shipped) {
            const QByteArray text = balancer == Balancer::RoundRobin ? QByteArray(kRoundRobinConfig)
                                                                     : cookieRequiredConfig();
            config = m_dir.filePath("haproxy.cfg");
            QFile file(config);
            if (text.isEmpty() || !file.open(QIODevice::WriteOnly) || file.write(text) < 0) {
                m_error = "cannot write " + config.toStdString();
                return false;
            }
        }
        m_port = freePort();
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("PARLEY_LB_BIND", QString("127.0.0.1:%1").arg(m_port));
        for (int i = 0; i < 3; ++i) {
            env.insert(QString("PARLEY_NODE%1").arg(i + 1),
                QString("127.0.0.1:%1").arg(m_nodes[std::size_t(i)]->port()));
        }
        m_haproxy.setProcessEnvironment(env);
        m_haproxy.setProcessChannelMode(QProcess::MergedChannels);
        m_haproxy.start(PARLEY_HAPROXY_EXECUTABLE, { "-db", "-f", config });
        if (!m_haproxy.waitForStarted(10000)) {
            m_error = "haproxy did not start";
            return false;
        }
        // Every node healthy behind the balancer (each answers /healthz with its name).
        std::set<std::string> seen;
        const bool up = RawClient::waitUntil(
            [&] {
                for (int i = 0; i < 3; ++i) {
                    if (healthStatus(m_nodes[std::size_t(i)]->httpUrl().resolved(QUrl("/healthz")))
                        != 200) {
                        return false;
                    }
                }
                return healthStatus(QUrl(QString("http://127.0.0.1:%1/healthz").arg(m_port)))
                    == 200;
            },
            kWaitMs);
        if (!up) {
            m_error = "cluster not healthy: " + m_haproxy.readAll().toStdString();
        }
        return up;
    }

    ~Cluster()
    {
        m_haproxy.terminate();
        m_haproxy.waitForFinished(10000);
    }

    const std::string& error() const { return m_error; }
    ServerProcess& node(int i) { return *m_nodes[std::size_t(i)]; }
    //! The balancer's WebSocket endpoint (the HTTP transports use the same host and port).
    QUrl endpoint() const { return QUrl(QString("ws://127.0.0.1:%1/v1/ws").arg(m_port)); }

private:
    QTemporaryDir m_dir;
    RedisServer m_redis { { "--appendonly", "yes", "--appendfsync", "always" } };
    std::vector<std::unique_ptr<ServerProcess>> m_nodes;
    QProcess m_haproxy;
    quint16 m_port = 0;
    std::string m_error;
};

const char* kindName(TransportKind kind)
{
    switch (kind) {
    case TransportKind::Sse:
        return "sse";
    case TransportKind::LongPoll:
        return "long-poll";
    default:
        return "websocket";
    }
}

//! An SDK client following one room, counting every time it leaves Connected.
struct Follower {
    Follower(const QUrl& endpoint, const QString& user, TransportKind kind)
        : kind(kind)
    {
        ClientOptions options = ClientOptions::forServer(endpoint, user);
        options.transport = kind;
        client = std::make_unique<Client>(options);
        QObject::connect(
            client.get(), &Client::stateChanged, client.get(), [this](ConnectionState state) {
                if (state == ConnectionState::Connected) {
                    ++connects;
                } else if (connects > 0) {
                    ++drops;
                }
            });
        QObject::connect(client.get(), &Client::joined, client.get(),
            [this](const QString&, quint64, const QStringList&) { joined = true; });
        QObject::connect(client.get(), &Client::messageReceived, client.get(),
            [this](const Message& message) { received.push_back(message); });
        client->join("lobby");
        client->connectToServer();
    }

    std::string describe() const
    {
        return client->options().user.toStdString() + " (" + kindName(kind) + ", node "
            + client->serverNode().toStdString() + ", " + std::to_string(received.size())
            + " received, " + std::to_string(drops) + " drops)";
    }

    TransportKind kind;
    std::unique_ptr<Client> client;
    int connects = 0;
    int drops = 0; // Connected -> anything else
    bool joined = false;
    std::vector<Message> received;
};

//! An SDK WebSocket client that posts to the room and remembers what was acked.
struct Writer {
    explicit Writer(const QUrl& endpoint)
    {
        ClientOptions options = ClientOptions::forServer(endpoint, "writer");
        options.transport = TransportKind::WebSocket;
        client = std::make_unique<Client>(options);
        QObject::connect(client.get(), &Client::joined, client.get(),
            [this](const QString&, quint64, const QStringList&) { joined = true; });
        QObject::connect(client.get(), &Client::messageAcked, client.get(),
            [this](const QString& id, const QString&, quint64 seq) { acked[id] = seq; });
        client->join("lobby");
        client->connectToServer();
    }
    //! Posts message number `sent` ("m-<n>").
    void post() { ids.push_back(client->send("lobby", QString("m-%1").arg(ids.size()))); }

    std::unique_ptr<Client> client;
    bool joined = false;
    std::vector<QString> ids; // client ids, in send order
    std::map<QString, quint64> acked;
};

//! Every message the writer got acked reached `follower` exactly once, in seq order.
void expectEveryAckedMessageOnce(const Follower& follower, const Writer& writer)
{
    std::set<quint64> seqs;
    quint64 previous = 0;
    for (const Message& message : follower.received) {
        EXPECT_GT(message.seq, previous) << follower.describe();
        previous = message.seq;
        EXPECT_TRUE(seqs.insert(message.seq).second) << follower.describe();
    }
    for (const auto& [id, seq] : writer.acked) {
        EXPECT_TRUE(seqs.count(seq)) << follower.describe() << " misses seq " << seq;
    }
}

bool hasEveryAcked(const Follower& follower, const Writer& writer)
{
    std::set<quint64> seqs;
    for (const Message& message : follower.received) {
        seqs.insert(message.seq);
    }
    for (const auto& [id, seq] : writer.acked) {
        if (!seqs.count(seq)) {
            return false;
        }
    }
    return true;
}

std::string balancerName(const ::testing::TestParamInfo<Balancer>& info)
{
    switch (info.param) {
    case Balancer::Shipped:
        return "ShippedConfig";
    case Balancer::RoundRobin:
        return "PlainRoundRobin";
    default:
        return "CookieRequired";
    }
}

class ClusterHaproxyIdle : public ::testing::TestWithParam<Balancer> { };
class ClusterHaproxyKill : public ::testing::TestWithParam<Balancer> { };

TEST(ClusterHaproxy, ClientsConnectThroughTheBalancerAndSurviveANodeDeath)
{
    Cluster cluster;
    ASSERT_TRUE(cluster.start(Balancer::Shipped, {})) << cluster.error();

    const QUrl wsUrl = cluster.endpoint();
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
    cluster.node(victimIndex).kill();

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
}

TEST_P(ClusterHaproxyIdle, SseAndLongPollFollowersKeepTheirSession)
{
    // Short heartbeats and poll timeouts make a few seconds hold many idle cycles: each follower
    // sends a heartbeat (POST /v1/commands) every 2 s, each long-poll returns empty after 1 s at
    // most, each event stream carries a keep-alive comment every second. (Not shorter: a client
    // or session silent for two heartbeat intervals is dropped, and a loaded machine must not
    // make that happen.)
    constexpr int kHeartbeatMs = 2000;
    Cluster cluster;
    ASSERT_TRUE(cluster.start(GetParam(),
        { "--heartbeat-ms", QString::number(kHeartbeatMs), "--poll-timeout-ms", "1000",
            "--sse-keepalive-ms", "1000" }))
        << cluster.error();

    std::vector<std::unique_ptr<Follower>> followers;
    for (int i = 0; i < 3; ++i) {
        followers.push_back(std::make_unique<Follower>(
            cluster.endpoint(), QString("sse%1").arg(i), TransportKind::Sse));
        followers.push_back(std::make_unique<Follower>(
            cluster.endpoint(), QString("poll%1").arg(i), TransportKind::LongPoll));
    }
    Writer writer(cluster.endpoint());
    ASSERT_TRUE(RawClient::waitUntil(
        [&] {
            return writer.joined
                && std::all_of(
                    followers.begin(), followers.end(), [](const auto& f) { return f->joined; });
        },
        kWaitMs));
    std::map<const Follower*, QString> sessions;
    for (const auto& follower : followers) {
        sessions[follower.get()] = follower->client->sessionId();
        ASSERT_FALSE(sessions[follower.get()].isEmpty()) << follower->describe();
    }

    // A trickle: one message per quarter heartbeat interval, for three heartbeat intervals, so
    // the followers' requests keep crossing the balancer, idle in between.
    constexpr int kMessages = 12;
    QTimer pace;
    pace.setInterval(kHeartbeatMs / 4);
    QObject::connect(&pace, &QTimer::timeout, &pace, [&] {
        if (writer.ids.size() < std::size_t(kMessages)) {
            writer.post();
        }
    });
    pace.start();
    const bool delivered = RawClient::waitUntil(
        [&] {
            return writer.acked.size() == std::size_t(kMessages)
                && std::all_of(followers.begin(), followers.end(),
                    [&](const auto& f) { return hasEveryAcked(*f, writer); });
        },
        kWaitMs);
    pace.stop();
    for (const auto& follower : followers) {
        EXPECT_EQ(follower->drops, 0) << follower->describe();
        EXPECT_EQ(follower->connects, 1) << follower->describe();
        EXPECT_EQ(follower->client->sessionId(), sessions[follower.get()]) << follower->describe();
        EXPECT_EQ(follower->received.size(), std::size_t(kMessages)) << follower->describe();
        expectEveryAckedMessageOnce(*follower, writer);
    }
    ASSERT_TRUE(delivered);
}

TEST_P(ClusterHaproxyKill, EveryFollowerDeliversAgainWithinTenSeconds)
{
    // Server defaults (30 s heartbeats, 25 s polls, 15 s keep-alives): recovery must not wait
    // for any of them.
    Cluster cluster;
    ASSERT_TRUE(cluster.start(GetParam(), {})) << cluster.error();

    std::vector<std::unique_ptr<Follower>> followers;
    for (int i = 0; i < 4; ++i) {
        for (const TransportKind kind :
            { TransportKind::WebSocket, TransportKind::Sse, TransportKind::LongPoll }) {
            followers.push_back(std::make_unique<Follower>(
                cluster.endpoint(), QString("%1%2").arg(kindName(kind)).arg(i), kind));
        }
    }
    ASSERT_TRUE(RawClient::waitUntil(
        [&] {
            return std::all_of(
                followers.begin(), followers.end(), [](const auto& f) { return f->joined; });
        },
        kWaitMs));

    // The victim: the node holding the most HTTP sessions.
    std::map<QString, int> httpSessions;
    for (const auto& follower : followers) {
        if (follower->kind != TransportKind::WebSocket) {
            ++httpSessions[follower->client->serverNode()];
        }
    }
    const auto busiest = std::max_element(httpSessions.begin(), httpSessions.end(),
        [](const auto& a, const auto& b) { return a.second < b.second; });
    const int victim = busiest->first.back().digitValue();
    ASSERT_GE(victim, 0) << busiest->first.toStdString();
    const int survivor = (victim + 1) % 3;

    // The writer talks to a surviving node directly: what is measured is the followers.
    Writer writer(cluster.node(survivor).webSocketUrl());
    ASSERT_TRUE(RawClient::waitUntil([&] { return writer.joined; }, kWaitMs));
    writer.post();
    ASSERT_TRUE(RawClient::waitUntil(
        [&] {
            return std::all_of(followers.begin(), followers.end(),
                [&](const auto& f) { return hasEveryAcked(*f, writer) && !writer.acked.empty(); });
        },
        kWaitMs));

    cluster.node(victim).kill();
    QElapsedTimer sinceKill;
    sinceKill.start();
    const std::size_t firstAfterKill = writer.ids.size();
    // Messages keep coming after the kill; a follower delivers again once it received one of
    // them.
    std::map<const Follower*, qint64> recoveredAtMs;
    QTimer pace;
    pace.setInterval(200);
    QObject::connect(&pace, &QTimer::timeout, &pace, [&] { writer.post(); });
    pace.start();
    const auto deliveredAgain = [&](const Follower& f) {
        for (const Message& message : f.received) {
            if (message.body.mid(2).toULongLong() >= firstAfterKill) {
                return true;
            }
        }
        return false;
    };
    const bool allBack = RawClient::waitUntil(
        [&] {
            bool all = true;
            for (const auto& follower : followers) {
                if (recoveredAtMs.count(follower.get())) {
                    continue;
                }
                if (deliveredAgain(*follower)) {
                    recoveredAtMs[follower.get()] = sinceKill.elapsed();
                } else {
                    all = false;
                }
            }
            return all;
        },
        kRecoveryBoundMs);
    pace.stop();
    for (const auto& follower : followers) {
        const auto it = recoveredAtMs.find(follower.get());
        EXPECT_TRUE(it != recoveredAtMs.end())
            << follower->describe() << " did not deliver within " << kRecoveryBoundMs << " ms";
        if (it != recoveredAtMs.end()) {
            std::printf(
                "[ recovery ] %s: %lld ms\n", follower->describe().c_str(), (long long)it->second);
        }
    }
    ASSERT_TRUE(allBack);

    // Nothing lost or duplicated: every acked message reaches every follower once, in order.
    ASSERT_TRUE(RawClient::waitUntil(
        [&] {
            return writer.acked.size() == writer.ids.size()
                && std::all_of(followers.begin(), followers.end(),
                    [&](const auto& f) { return hasEveryAcked(*f, writer); });
        },
        kWaitMs));
    for (const auto& follower : followers) {
        expectEveryAckedMessageOnce(*follower, writer);
    }
}

// The cookie-requiring balancer only for the idle case: it proves the SDK keeps and sends
// cookies; a node kill behind it is the shipped configuration's case.
INSTANTIATE_TEST_SUITE_P(Balancers, ClusterHaproxyIdle,
    ::testing::Values(Balancer::Shipped, Balancer::RoundRobin, Balancer::CookieRequired),
    balancerName);
INSTANTIATE_TEST_SUITE_P(Balancers, ClusterHaproxyKill,
    ::testing::Values(Balancer::Shipped, Balancer::RoundRobin), balancerName);

} // namespace
} // namespace parley::test
