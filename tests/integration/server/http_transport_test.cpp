// The HTTP transports of parleyd (POST /v1/session, GET /v1/sse, GET /v1/poll,
// POST /v1/commands) against a real server, over raw sockets and with a stock SSE client
// (curl -N): malformed requests get the right 4xx and the server carries on.
#include "rawclient.h"
#include "serverprocess.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpSocket>
#include <gtest/gtest.h>

using parley::test::RawClient;
using parley::test::ServerProcess;

namespace {

//! Sends `request` on a new connection; returns what came back once the connection closed (or,
//! with `untilBody`, once a complete Content-Length response is there).
QByteArray rawHttp(quint16 port, const QByteArray& request, bool untilClose = true)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000)) {
        return {};
    }
    socket.write(request);
    QByteArray response;
    RawClient::waitUntil(
        [&] {
            response += socket.readAll();
            if (untilClose) {
                return socket.state() == QAbstractSocket::UnconnectedState;
            }
            const qsizetype end = response.indexOf("\r\n\r\n");
            if (end < 0) {
                return false;
            }
            const qsizetype at = response.indexOf("Content-Length: ");
            const qsizetype length
                = response.mid(at + 16, response.indexOf('\r', at) - at - 16).toLongLong();
            return response.size() >= end + 4 + length;
        },
        10000);
    return response + socket.readAll();
}

QByteArray post(const char* path, const QByteArray& body, const QByteArray& token = {})
{
    QByteArray request
        = QByteArray("POST ") + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    if (!token.isEmpty()) {
        request += "X-Parley-Session: " + token + "\r\n";
    }
    return request + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

QByteArray bodyOf(const QByteArray& response)
{
    return response.mid(response.indexOf("\r\n\r\n") + 4);
}

class HttpTransportTest : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        s_server = new ServerProcess({ "--poll-timeout-ms", "300", "--sse-keepalive-ms", "200" });
        ASSERT_TRUE(s_server->start()) << s_server->output().toStdString();
    }
    static void TearDownTestSuite()
    {
        delete s_server;
        s_server = nullptr;
    }

    //! Opens a session for `user`; returns its token.
    static QByteArray openSession(const char* user)
    {
        const QByteArray response = rawHttp(s_server->port(),
            post("/v1/session", QByteArray(R"({"type":"hello","user":")") + user + "\"}"));
        const QJsonObject reply = QJsonDocument::fromJson(bodyOf(response)).object();
        EXPECT_TRUE(response.startsWith("HTTP/1.1 200")) << response.toStdString();
        EXPECT_EQ(reply.value("welcome").toObject().value("type").toString(), "welcome");
        EXPECT_EQ(reply.value("cursor").toInt(), 1);
        return reply.value("token").toString().toLatin1();
    }

    static bool healthy()
    {
        return rawHttp(s_server->port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .startsWith("HTTP/1.1 200");
    }

    static inline ServerProcess* s_server = nullptr;
};

} // namespace

TEST_F(HttpTransportTest, MalformedRequestsGetTheRight4xxAndTheServerCarriesOn)
{
    const QByteArray token = openSession("mallory");
    struct Case {
        const char* name;
        QByteArray request;
        const char* status;
    };
    const Case cases[] = {
        { "bad request line", "POST  /v1/session HTTP/1.1\r\n\r\n", "400" },
        { "huge head", "POST /v1/session HTTP/1.1\r\nX: " + QByteArray(9000, 'a'), "431" },
        { "GET session", "GET /v1/session HTTP/1.1\r\nHost: x\r\n\r\n", "405" },
        { "POST sse", post("/v1/sse", "{}"), "405" },
        { "DELETE commands", "DELETE /v1/commands HTTP/1.1\r\nHost: x\r\n\r\n", "405" },
        { "chunked body",
            "POST /v1/commands HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "411" },
        { "bad content length",
            "POST /v1/commands HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n", "400" },
        { "body too large",
            "POST /v1/commands HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n", "413" },
        { "hello not JSON", post("/v1/session", "{nope"), "400" },
        { "empty hello", post("/v1/session", ""), "400" },
        { "not a hello", post("/v1/session", R"({"type":"join","room":"r"})"), "400" },
        { "bad user", post("/v1/session", R"({"type":"hello","user":"a b"})"), "401" },
        { "commands without token", post("/v1/commands", R"({"type":"heartbeat"})"), "401" },
        { "malformed token", post("/v1/commands", R"({"type":"heartbeat"})", "nope"), "401" },
        { "unknown session", post("/v1/commands", R"({"type":"heartbeat"})", "0.999999.abc"),
            "404" },
        { "wrong secret",
            post("/v1/commands", R"({"type":"heartbeat"})",
                token.left(token.lastIndexOf('.') + 1) + "0000"),
            "404" },
        { "commands not JSON", post("/v1/commands", "[1,", token), "400" },
        { "batch of non-objects", post("/v1/commands", "[1,2]", token), "400" },
        { "commands scalar", post("/v1/commands", "42", token), "400" },
        { "sse unknown session",
            "GET /v1/sse HTTP/1.1\r\nHost: x\r\nX-Parley-Session: 0.999999.abc\r\n\r\n", "404" },
        { "poll bad cursor",
            "GET /v1/poll?cursor=zz HTTP/1.1\r\nHost: x\r\nX-Parley-Session: " + token + "\r\n\r\n",
            "400" },
    };
    for (const Case& c : cases) {
        const QByteArray response = rawHttp(s_server->port(), c.request);
        EXPECT_TRUE(response.startsWith(QByteArray("HTTP/1.1 ") + c.status))
            << c.name << ": " << response.toStdString();
        EXPECT_TRUE(response.contains("Content-Type: application/json")) << c.name;
        EXPECT_TRUE(healthy()) << c.name;
    }
}

TEST_F(HttpTransportTest, CommandsKeepTheConnectionAliveAndEventsArriveByPoll)
{
    const QByteArray token = openSession("alice");
    // Two requests on one connection: keep-alive.
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, s_server->port());
    ASSERT_TRUE(socket.waitForConnected(5000));
    const QByteArray join = R"([{"type":"join","id":"j1","room":"kitchen"}])";
    const QByteArray request = "POST /v1/commands HTTP/1.1\r\nHost: x\r\nX-Parley-Session: " + token
        + "\r\nContent-Length: " + QByteArray::number(join.size()) + "\r\n\r\n" + join;
    socket.write(request);
    QByteArray got;
    ASSERT_TRUE(RawClient::waitUntil(
        [&] {
            got += socket.readAll();
            return got.contains("}");
        },
        10000));
    EXPECT_TRUE(got.startsWith("HTTP/1.1 202")) << got.toStdString();
    EXPECT_TRUE(got.contains("Connection: keep-alive"));
    // The join is done once the poll shows `joined`; then send on the same connection.
    QJsonArray events;
    quint64 cursor = 1;
    ASSERT_TRUE(RawClient::waitUntil(
        [&] {
            const QByteArray poll = rawHttp(s_server->port(),
                "GET /v1/poll?cursor=" + QByteArray::number(cursor)
                    + " HTTP/1.1\r\nHost: x\r\nX-Parley-Session: " + token + "\r\n\r\n");
            const QJsonObject reply = QJsonDocument::fromJson(bodyOf(poll)).object();
            for (const QJsonValue& v : reply.value("events").toArray()) {
                events.append(v);
            }
            cursor = quint64(reply.value("cursor").toInteger());
            return !events.isEmpty();
        },
        10000));
    EXPECT_EQ(events.at(0).toObject().value("type").toString(), "joined");
    const QByteArray send
        = R"({"type":"send","id":"s1","room":"kitchen","client_id":"c1","body":"hi"})";
    got.clear();
    socket.write("POST /v1/commands HTTP/1.1\r\nHost: x\r\nX-Parley-Session: " + token
        + "\r\nContent-Length: " + QByteArray::number(send.size()) + "\r\n\r\n" + send);
    ASSERT_TRUE(RawClient::waitUntil(
        [&] {
            got += socket.readAll();
            return got.contains("}");
        },
        10000));
    EXPECT_TRUE(got.startsWith("HTTP/1.1 202")) << got.toStdString();
    QStringList types;
    ASSERT_TRUE(RawClient::waitUntil(
        [&] {
            const QByteArray poll = rawHttp(s_server->port(),
                "GET /v1/poll?cursor=" + QByteArray::number(cursor)
                    + " HTTP/1.1\r\nHost: x\r\nX-Parley-Session: " + token + "\r\n\r\n");
            const QJsonObject reply = QJsonDocument::fromJson(bodyOf(poll)).object();
            for (const QJsonValue& v : reply.value("events").toArray()) {
                types.append(v.toObject().value("type").toString());
            }
            cursor = quint64(reply.value("cursor").toInteger());
            return types.contains("ack") && types.contains("message");
        },
        10000))
        << types.join(',').toStdString();
}

TEST_F(HttpTransportTest, AStockSseClientReadsTheStreamAndResumesWithLastEventId)
{
    const QString curl = QStandardPaths::findExecutable("curl");
    if (curl.isEmpty()) {
        GTEST_SKIP() << "curl not installed";
    }
    const QByteArray token = openSession("bob");
    const QByteArray join = R"({"type":"join","id":"j1","room":"hall"})";
    ASSERT_TRUE(
        rawHttp(s_server->port(), post("/v1/commands", join, token)).startsWith("HTTP/1.1 202"));
    // curl -N: no buffering; it prints the stream as it comes. Stop it once it saw enough.
    QProcess process;
    const QString url = QStringLiteral("http://127.0.0.1:%1/v1/sse").arg(s_server->port());
    process.start(curl,
        { "-sN", "-H", "X-Parley-Session: " + QString::fromLatin1(token), "-H", "Last-Event-ID: 1",
            url });
    QByteArray out;
    const bool got = RawClient::waitUntil(
        [&] {
            out += process.readAllStandardOutput();
            return out.contains(": keep-alive") && out.contains("\"joined\"");
        },
        10000);
    process.kill();
    process.waitForFinished(5000);
    ASSERT_TRUE(got) << out.toStdString();
    EXPECT_TRUE(out.startsWith("retry: 2000\n\n")) << out.toStdString();
    EXPECT_TRUE(out.contains("id: 2\ndata: {\"type\":\"joined\"")) << out.toStdString();

    // Reconnect from cursor 1 again: the joined event is replayed (Last-Event-ID).
    QProcess again;
    again.start(curl,
        { "-sN", "-H", "X-Parley-Session: " + QString::fromLatin1(token), "-H", "Last-Event-ID: 1",
            url });
    QByteArray replay;
    const bool replayed = RawClient::waitUntil(
        [&] {
            replay += again.readAllStandardOutput();
            return replay.contains("id: 2\n");
        },
        10000);
    again.kill();
    again.waitForFinished(5000);
    EXPECT_TRUE(replayed) << replay.toStdString();
}

TEST_F(HttpTransportTest, DeleteSessionEndsItAndAHeldPollGetsTheCloseAtOnce)
{
    const QByteArray token = openSession("carol");
    const QByteArray del = "DELETE /v1/session HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    // Without or with a wrong token: nothing ends.
    EXPECT_TRUE(rawHttp(s_server->port(), del + "\r\n").startsWith("HTTP/1.1 401"));
    EXPECT_TRUE(rawHttp(s_server->port(), del + "X-Parley-Session: 0.999999.abc\r\n\r\n")
                    .startsWith("HTTP/1.1 404"));

    // A poll held open on the session (the server's poll timeout is 300 ms: keep the session
    // busy with a longer one by asking from the current cursor).
    QTcpSocket poll;
    poll.connectToHost(QHostAddress::LocalHost, s_server->port());
    ASSERT_TRUE(poll.waitForConnected(5000));
    poll.write(
        "GET /v1/poll?cursor=1 HTTP/1.1\r\nHost: x\r\nX-Parley-Session: " + token + "\r\n\r\n");
    ASSERT_TRUE(poll.waitForBytesWritten(5000));

    const QByteArray ended
        = rawHttp(s_server->port(), del + "X-Parley-Session: " + token + "\r\n\r\n");
    EXPECT_TRUE(ended.startsWith("HTTP/1.1 200")) << ended.toStdString();
    EXPECT_EQ(QJsonDocument::fromJson(bodyOf(ended)).object().value("ended").toBool(), true);

    // The poll (this one, or the next if it had already timed out) reports the close.
    QByteArray answer;
    ASSERT_TRUE(RawClient::waitUntil(
        [&] {
            answer += poll.readAll();
            return poll.state() == QAbstractSocket::UnconnectedState;
        },
        10000));
    if (!answer.contains("\"closed\"")) {
        answer = rawHttp(s_server->port(),
            "GET /v1/poll?cursor=1 HTTP/1.1\r\nHost: x\r\nX-Parley-Session: " + token + "\r\n\r\n");
    }
    EXPECT_TRUE(answer.contains("\"closed\"") || answer.startsWith("HTTP/1.1 404"))
        << answer.toStdString();
    // The session is gone: commands and a second DELETE find nothing.
    ASSERT_TRUE(RawClient::waitUntil(
        [&] {
            return rawHttp(s_server->port(), post("/v1/commands", R"({"type":"heartbeat"})", token))
                .startsWith("HTTP/1.1 404");
        },
        5000));
    EXPECT_TRUE(rawHttp(s_server->port(), del + "X-Parley-Session: " + token + "\r\n\r\n")
                    .startsWith("HTTP/1.1 404"));
    EXPECT_TRUE(healthy());
}

TEST_F(HttpTransportTest, ABatchIsHandledInOrderAndEachFrameAnsweredOnce)
{
    // A send and a history behind a join still in flight wait for it (they do not fail as not
    // joined), and the history sees the send before it.
    const QByteArray token = openSession("carol");
    const QByteArray batch
        = R"([{"type":"join","id":"j1","room":"pantry"},)"
          R"({"type":"send","id":"s1","room":"pantry","client_id":"c1","body":"in the batch"},)"
          R"({"type":"history","id":"h1","room":"pantry"},)"
          R"({"type":"heartbeat","id":"hb"}])";
    const QByteArray accepted = rawHttp(s_server->port(), post("/v1/commands", batch, token));
    ASSERT_TRUE(accepted.startsWith("HTTP/1.1 202")) << accepted.toStdString();
    EXPECT_EQ(QJsonDocument::fromJson(bodyOf(accepted)).object().value("accepted").toInt(), 4);
    QJsonArray events;
    quint64 cursor = 1;
    QStringList answers;
    ASSERT_TRUE(RawClient::waitUntil(
        [&] {
            const QByteArray poll = rawHttp(s_server->port(),
                "GET /v1/poll?cursor=" + QByteArray::number(cursor)
                    + " HTTP/1.1\r\nHost: x\r\nX-Parley-Session: " + token + "\r\n\r\n");
            const QJsonObject reply = QJsonDocument::fromJson(bodyOf(poll)).object();
            for (const QJsonValue& v : reply.value("events").toArray()) {
                events.append(v);
                const QString id = v.toObject().value("id").toString();
                if (!id.isEmpty()) {
                    answers.append(v.toObject().value("type").toString() + ":" + id);
                }
            }
            cursor = quint64(reply.value("cursor").toInteger());
            return answers.contains("heartbeat_ack:hb");
        },
        10000))
        << answers.join(',').toStdString();
    EXPECT_EQ(answers.join(',').toStdString(), "joined:j1,ack:s1,history_page:h1,heartbeat_ack:hb");
    for (const QJsonValue& v : std::as_const(events)) {
        if (v.toObject().value("type").toString() == "history_page") {
            const QJsonArray messages = v.toObject().value("messages").toArray();
            ASSERT_EQ(messages.size(), 1);
            EXPECT_EQ(messages.at(0).toObject().value("body").toString(), "in the batch");
        }
    }
}
