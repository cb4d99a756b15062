// Cluster routing end to end: a real redis-server and two parleyd nodes, no balancer (so no
// stickiness at all). What users depend on: an HTTP-transport client whose POST /v1/commands
// lands on the wrong node still chats (the command is forwarded to the node holding its session),
// with honest statuses when that node is unknown (404), gone (503) or frozen (504); its goodbye
// (DELETE /v1/session) likewise ends the session on its owner; its event stream and its polls
// on the wrong node are served by the owner through a relay, and end honestly when the owner
// has no such session (404), is frozen (504) or dies (the stream ends, the next request gets
// 503); and a direct
// message from a user on node A reaches the user on node B.
#include "rawclient.h"
#include "redisserver.h"
#include "serverprocess.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <gtest/gtest.h>

namespace parley::test {
namespace {

constexpr int kWaitMs = 30000;

struct HttpResponse {
    int status = 0;
    QByteArray body;
};

//! One request on its own connection (Connection: close); the response once the server closed.
HttpResponse request(quint16 port, const QByteArray& method, const QByteArray& path,
    const QByteArray& body = {}, const QByteArray& token = {}, int timeoutMs = 15000)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000)) {
        return {};
    }
    QByteArray head = method + ' ' + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    if (!token.isEmpty()) {
        head += "X-Parley-Session: " + token + "\r\n";
    }
    socket.write(head + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    QByteArray response;
    RawClient::waitUntil(
        [&] {
            response += socket.readAll();
            return socket.state() == QAbstractSocket::UnconnectedState;
        },
        timeoutMs);
    response += socket.readAll();
    HttpResponse result;
    result.status = response.mid(9, 3).toInt();
    result.body = response.mid(response.indexOf("\r\n\r\n") + 4);
    return result;
}

//! A request whose response is read as it arrives (an event stream, a held poll).
class OpenRequest {
public:
    OpenRequest(quint16 port, const QByteArray& path, const QByteArray& token,
        const QByteArray& extraHeaders = {})
    {
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        if (m_socket.waitForConnected(5000)) {
            m_socket.write("GET " + path + " HTTP/1.1\r\nHost: x\r\nX-Parley-Session: " + token
                + "\r\n" + extraHeaders + "\r\n");
        }
    }
    //! Everything received so far.
    const QByteArray& received()
    {
        m_received += m_socket.readAll();
        return m_received;
    }
    bool waitFor(const QByteArray& text, int timeoutMs = kWaitMs)
    {
        return RawClient::waitUntil([&] { return received().contains(text); }, timeoutMs);
    }
    //! The server closed the response (all of it was received).
    bool waitClosed(int timeoutMs = kWaitMs)
    {
        const bool closed = RawClient::waitUntil(
            [&] {
                received();
                return m_socket.state() == QAbstractSocket::UnconnectedState;
            },
            timeoutMs);
        received();
        return closed;
    }
    int status() { return received().mid(9, 3).toInt(); }

private:
    QTcpSocket m_socket;
    QByteArray m_received;
};

class ClusterRoutingTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        m_redis = std::make_unique<RedisServer>();
        ASSERT_TRUE(m_redis->start()) << m_redis->output().toStdString();
        for (int i = 0; i < 2; ++i) {
            m_nodes.push_back(std::make_unique<ServerProcess>(
                QStringList { "--redis", m_redis->url(), "--node-id", QString("node-%1").arg(i),
                    "--poll-timeout-ms", "300", "--max-body-bytes", "60000" }));
            ASSERT_TRUE(m_nodes.back()->start()) << m_nodes.back()->output().toStdString();
        }
        ASSERT_TRUE(RawClient::waitUntil([this] { return healthy(0) && healthy(1); }, kWaitMs));
    }

    bool healthy(int node)
    {
        const HttpResponse health = request(m_nodes[node]->port(), "GET", "/healthz");
        return health.status == 200
            && QJsonDocument::fromJson(health.body).object().value("node_channel").toBool();
    }

    //! Opens an HTTP session for `user` on `node`; its token.
    QByteArray openSession(int node, const QByteArray& user)
    {
        const HttpResponse response = request(m_nodes[node]->port(), "POST", "/v1/session",
            R"({"type":"hello","user":")" + user + "\"}");
        EXPECT_EQ(response.status, 200) << response.body.toStdString();
        return QJsonDocument::fromJson(response.body).object().value("token").toString().toLatin1();
    }

    std::unique_ptr<RedisServer> m_redis;
    std::vector<std::unique_ptr<ServerProcess>> m_nodes;
};

TEST_F(ClusterRoutingTest, CommandsLandingOnAnotherNodeAreForwardedToTheSession)
{
    // A WebSocket member of the room on node 1 sees what the HTTP client on node 0 sends.
    RawClient watcher(m_nodes[1]->webSocketUrl());
    ASSERT_TRUE(watcher.open());
    ASSERT_TRUE(watcher.hello("watcher"));
    ASSERT_TRUE(watcher.join("lobby"));

    const QByteArray token = openSession(0, "alice");
    ASSERT_TRUE(token.endsWith("~node-0")) << token.toStdString();
    // Every command goes to node 1, which does not hold the session.
    const HttpResponse joined = request(m_nodes[1]->port(), "POST", "/v1/commands",
        R"({"type":"join","id":"j1","room":"lobby"})", token);
    EXPECT_EQ(joined.status, 202) << joined.body.toStdString();
    // 202 means the owner's session took the frames; the join completes asynchronously. The
    // session's own events (joined, ack) are read on its node, by long-poll.
    QByteArray events;
    ASSERT_TRUE(RawClient::waitUntil(
        [&] {
            events += request(m_nodes[0]->port(), "GET", "/v1/poll?cursor=1", {}, token).body;
            return events.contains("\"joined\"");
        },
        kWaitMs))
        << events.toStdString();

    const HttpResponse sent = request(m_nodes[1]->port(), "POST", "/v1/commands",
        R"([{"type":"heartbeat"},{"type":"send","id":"s1","room":"lobby","client_id":"c1","body":"hi"}])",
        token);
    EXPECT_EQ(sent.status, 202) << sent.body.toStdString();
    EXPECT_EQ(QJsonDocument::fromJson(sent.body).object().value("accepted").toInt(), 2);

    const auto message = watcher.take<protocol::Message>(
        [](const protocol::Message& m) { return m.sender == "alice" && m.body == "hi"; });
    ASSERT_TRUE(message);
    ASSERT_TRUE(RawClient::waitUntil(
        [&] {
            events += request(m_nodes[0]->port(), "GET", "/v1/poll?cursor=1", {}, token).body;
            return events.contains("\"ack\"");
        },
        kWaitMs))
        << events.toStdString();
}

TEST_F(ClusterRoutingTest, ForwardingAnswersHonestlyWhenTheOwnerCannotRunIt)
{
    const QByteArray token = openSession(0, "bob");
    const QByteArray heartbeat = R"({"type":"heartbeat"})";
    // The owner exists but has no such session.
    const QByteArray wrongSecret = token.left(token.lastIndexOf('.') + 1) + "0000~node-0";
    EXPECT_EQ(
        request(m_nodes[1]->port(), "POST", "/v1/commands", heartbeat, wrongSecret).status, 404);
    // No node of that name listens.
    QByteArray ghost = token;
    ghost.replace("~node-0", "~node-ghost");
    EXPECT_EQ(request(m_nodes[1]->port(), "POST", "/v1/commands", heartbeat, ghost).status, 503);

    // The owner is frozen (SIGSTOP): still subscribed in Redis, but it never answers.
    ASSERT_TRUE(m_nodes[0]->freeze());
    QElapsedTimer clock;
    clock.start();
    const HttpResponse frozen
        = request(m_nodes[1]->port(), "POST", "/v1/commands", heartbeat, token);
    m_nodes[0]->thaw();
    EXPECT_EQ(frozen.status, 504) << frozen.body.toStdString();
    EXPECT_GE(clock.elapsed(), 4000);

    // The owner is dead: its channel has no subscriber any more.
    m_nodes[0]->kill();
    EXPECT_TRUE(RawClient::waitUntil(
        [&] {
            return request(m_nodes[1]->port(), "POST", "/v1/commands", heartbeat, token).status
                == 503;
        },
        kWaitMs));
}

TEST_F(ClusterRoutingTest, EndingTheSessionOnAnotherNodeEndsItOnItsOwner)
{
    const QByteArray token = openSession(0, "carol");
    const QByteArray heartbeat = R"({"type":"heartbeat"})";
    ASSERT_EQ(request(m_nodes[0]->port(), "POST", "/v1/commands", heartbeat, token).status, 202);

    // The client's goodbye lands on node 1: forwarded, the owner ends the session.
    const HttpResponse ended = request(m_nodes[1]->port(), "DELETE", "/v1/session", {}, token);
    EXPECT_EQ(ended.status, 200) << ended.body.toStdString();
    EXPECT_EQ(request(m_nodes[0]->port(), "POST", "/v1/commands", heartbeat, token).status, 404);
    // Ending it again: the owner has no such session any more.
    EXPECT_EQ(request(m_nodes[1]->port(), "DELETE", "/v1/session", {}, token).status, 404);
}

TEST_F(ClusterRoutingTest, StreamsAndPollsLandingOnAnotherNodeAreServedByTheOwner)
{
    const QByteArray token = openSession(0, "dave");
    ASSERT_TRUE(token.endsWith("~node-0")) << token.toStdString();
    // The event stream is opened on node 1, which does not hold the session.
    OpenRequest stream(m_nodes[1]->port(), "/v1/sse", token);
    ASSERT_TRUE(stream.waitFor("retry: ")) << stream.received().toStdString();
    EXPECT_EQ(stream.status(), 200);
    EXPECT_TRUE(stream.received().contains("Content-Type: text/event-stream"));

    // A join (a command on node 1 too, forwarded): its answer comes down the relayed stream,
    // numbered by the owner's cursor.
    EXPECT_EQ(request(m_nodes[1]->port(), "POST", "/v1/commands",
                  R"({"type":"join","id":"j1","room":"lobby"})", token)
                  .status,
        202);
    ASSERT_TRUE(stream.waitFor("\"joined\"")) << stream.received().toStdString();
    EXPECT_TRUE(stream.received().contains("id: 2\ndata: {")) << stream.received().toStdString();
    EXPECT_EQ(
        request(m_nodes[1]->port(), "POST", "/v1/commands",
            R"({"type":"send","id":"s1","room":"lobby","client_id":"c1","body":"relayed"})", token)
            .status,
        202);
    ASSERT_TRUE(stream.waitFor("\"relayed\"")) << stream.received().toStdString();

    // A poll on node 1 after what the stream delivered: answered by the owner (held until a
    // frame or its timeout, 300 ms here) with the owner's cursor.
    const QByteArray& events = stream.received();
    const qsizetype lastId = events.lastIndexOf("id: ");
    const int streamed = events.mid(lastId + 4, events.indexOf('\n', lastId) - lastId - 4).toInt();
    ASSERT_GE(streamed, 4) << events.toStdString();
    const HttpResponse polled = request(
        m_nodes[1]->port(), "GET", "/v1/poll?cursor=" + QByteArray::number(streamed), {}, token);
    EXPECT_EQ(polled.status, 200) << polled.body.toStdString();
    EXPECT_GE(QJsonDocument::fromJson(polled.body).object().value("cursor").toInt(), streamed)
        << polled.body.toStdString();
    // A poll from an older cursor replays from the owner's queue.
    const HttpResponse replay = request(m_nodes[1]->port(), "GET", "/v1/poll?cursor=1", {}, token);
    EXPECT_EQ(replay.status, 200);
    EXPECT_TRUE(replay.body.contains("\"joined\"")) << replay.body.toStdString();
    EXPECT_TRUE(replay.body.contains("\"relayed\"")) << replay.body.toStdString();

    // Ending the session (on node 1 as well) closes the relayed stream with the close event.
    EXPECT_EQ(request(m_nodes[1]->port(), "DELETE", "/v1/session", {}, token).status, 200);
    ASSERT_TRUE(stream.waitClosed()) << stream.received().toStdString();
    EXPECT_TRUE(stream.received().contains("event: close\ndata: {\"code\":1000"))
        << stream.received().toStdString();
}

TEST_F(ClusterRoutingTest, RelayedRequestsAnswerHonestlyWhenTheOwnerCannotServeThem)
{
    const QByteArray token = openSession(0, "erin");
    // The owner has no such session.
    const QByteArray wrongSecret = token.left(token.lastIndexOf('.') + 1) + "0000~node-0";
    const HttpResponse unknown
        = request(m_nodes[1]->port(), "GET", "/v1/poll?cursor=1", {}, wrongSecret);
    EXPECT_EQ(unknown.status, 404) << unknown.body.toStdString();
    EXPECT_TRUE(unknown.body.contains("unknown_session"));
    // No node of that name listens.
    QByteArray ghost = token;
    ghost.replace("~node-0", "~node-ghost");
    EXPECT_EQ(request(m_nodes[1]->port(), "GET", "/v1/sse", {}, ghost).status, 503);
    // A malformed cursor is refused by the node that got it.
    EXPECT_EQ(request(m_nodes[1]->port(), "GET", "/v1/poll?cursor=x", {}, token).status, 400);

    // The owner is frozen (SIGSTOP): still subscribed, never answering: the relayed poll is
    // answered 504 once the open went unacknowledged for 5 s.
    ASSERT_TRUE(m_nodes[0]->freeze());
    OpenRequest frozen(m_nodes[1]->port(), "/v1/poll?cursor=1", token);
    const bool answered = frozen.waitClosed(15000);
    m_nodes[0]->thaw();
    ASSERT_TRUE(answered) << frozen.received().toStdString();
    EXPECT_EQ(frozen.status(), 504) << frozen.received().toStdString();

    // The owner dies while node 1 relays its stream: node 1 ends the stream (its Redis channel
    // has no subscriber any more), and the client's next request learns the session is gone.
    OpenRequest stream(m_nodes[1]->port(), "/v1/sse", token);
    ASSERT_TRUE(stream.waitFor("retry: ")) << stream.received().toStdString();
    m_nodes[0]->kill();
    EXPECT_TRUE(stream.waitClosed(10000)) << stream.received().toStdString();
    const HttpResponse gone = request(m_nodes[1]->port(), "GET", "/v1/poll?cursor=1", {}, token);
    EXPECT_EQ(gone.status, 503) << gone.body.toStdString();
}

TEST_F(ClusterRoutingTest, ARelayedClientThatStopsReadingIsDroppedWithoutHurtingOthers)
{
    // The session is on node 0; its event stream is relayed through node 1 to a client that
    // stops reading (a 1-byte read buffer keeps Qt from draining the kernel buffer for it).
    const QByteArray token = openSession(0, "slow");
    EXPECT_EQ(request(m_nodes[0]->port(), "POST", "/v1/commands",
                  R"({"type":"join","id":"j1","room":"firehose"})", token)
                  .status,
        202);
    QTcpSocket slow;
    slow.connectToHost(QHostAddress::LocalHost, m_nodes[1]->port());
    ASSERT_TRUE(slow.waitForConnected(5000));
    slow.write("GET /v1/sse HTTP/1.1\r\nHost: x\r\nX-Parley-Session: " + token + "\r\n\r\n");
    ASSERT_TRUE(RawClient::waitUntil([&] { return slow.peek(8192).contains("\"joined\""); }))
        << slow.peek(8192).toStdString();
    slow.setReadBufferSize(1);

    RawClient fast(m_nodes[0]->webSocketUrl());
    ASSERT_TRUE(fast.open());
    ASSERT_TRUE(fast.hello("fast"));
    ASSERT_TRUE(fast.join("firehose"));
    // Far more than the kernel buffers hold, until node 1 drops the client that does not read
    // (more than --max-outbound-bytes, 1 MiB, unsent to it); the writer is acked throughout.
    const std::string body(50000, 'x');
    int sent = 0;
    const bool dropped = RawClient::waitUntil(
        [&] {
            if (m_nodes[1]->output().contains("event=relay_slow_consumer")) {
                return true;
            }
            if (sent < 2000) {
                EXPECT_TRUE(fast.sendMessage("firehose", "f" + std::to_string(++sent), body));
            }
            return false;
        },
        120000);
    ASSERT_TRUE(dropped) << "sent " << sent << "\n" << m_nodes[1]->output().toStdString();
    // Reading again, the client finds its connection cut.
    slow.setReadBufferSize(0);
    EXPECT_TRUE(RawClient::waitUntil(
        [&] {
            slow.readAll();
            return slow.state() == QAbstractSocket::UnconnectedState;
        },
        kWaitMs));
    EXPECT_TRUE(fast.sync());
    // Node 1 still relays for others.
    const QByteArray other = openSession(0, "other");
    const HttpResponse polled = request(m_nodes[1]->port(), "GET", "/v1/poll?cursor=0", {}, other);
    EXPECT_EQ(polled.status, 200) << polled.body.toStdString();
}

TEST_F(ClusterRoutingTest, DirectMessageReachesTheUserOnAnotherNode)
{
    RawClient alice(m_nodes[0]->webSocketUrl());
    ASSERT_TRUE(alice.open());
    ASSERT_TRUE(alice.hello("alice"));
    RawClient bob(m_nodes[1]->webSocketUrl());
    ASSERT_TRUE(bob.open());
    ASSERT_TRUE(bob.hello("bob"));
    // Bob's session reaches Redis asynchronously after his welcome; alice, like any sender,
    // writes to him once presence says he is online (a direct before that is user_offline).
    ASSERT_TRUE(RawClient::waitUntil([&] { return alice.queryOnline("bob") == true; }, kWaitMs));

    alice.send(protocol::Direct { "d1", "bob", "c-1", "psst" });
    const auto ack = alice.take<protocol::DirectAck>(
        [](const protocol::DirectAck& a) { return a.id == "d1"; });
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->clientId, "c-1");
    const auto received = bob.take<protocol::DirectMessage>();
    ASSERT_TRUE(received);
    EXPECT_EQ(received->from, "alice");
    EXPECT_EQ(received->body, "psst");
    EXPECT_EQ(received->msgId, ack->msgId);

    alice.send(protocol::Direct { "d2", "nobody", "c-2", "hello?" });
    const auto offline = alice.takeError("d2");
    ASSERT_TRUE(offline);
    EXPECT_EQ(offline->code, protocol::ErrorCode::UserOffline);
    EXPECT_EQ(offline->clientId, "c-2");
}

} // namespace
} // namespace parley::test
