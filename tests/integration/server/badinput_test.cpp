// Bad input never crashes parleyd: each bad frame gets the right error code (or close code), the
// connection carries on where it can, and the server keeps serving everyone else.
#include "rawclient.h"
#include "serverprocess.h"

#include <QTcpSocket>
#include <QTemporaryFile>
#include <gtest/gtest.h>

namespace parley::test {
namespace {

constexpr int kMaxFrame = 4096;
constexpr int kMaxBody = 1024;

class BadInputTest : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        s_server = new ServerProcess(
            { "--max-frame-bytes", QString::number(kMaxFrame), "--max-body-bytes",
                QString::number(kMaxBody), "--max-rooms", "3", "--header-timeout-ms", "300" });
        ASSERT_TRUE(s_server->start()) << s_server->output().toStdString();
    }
    static void TearDownTestSuite()
    {
        delete s_server;
        s_server = nullptr;
    }
    void TearDown() override
    {
        // After every bad input: the server is alive and a fresh client chats normally.
        ASSERT_TRUE(s_server->isRunning()) << s_server->output().toStdString();
        RawClient other(s_server->webSocketUrl());
        ASSERT_TRUE(other.open());
        ASSERT_TRUE(other.hello("bystander"));
        ASSERT_TRUE(other.join("calm"));
        ASSERT_TRUE(other.sendMessage("calm", "ok-" + std::to_string(++s_counter), "fine"));
    }

    static std::unique_ptr<RawClient> welcomed(const std::string& user = "tester")
    {
        auto client = std::make_unique<RawClient>(s_server->webSocketUrl());
        EXPECT_TRUE(client->open());
        EXPECT_TRUE(client->hello(user));
        return client;
    }

    static inline ServerProcess* s_server = nullptr;
    static inline int s_counter = 0;
};

struct BadFrame {
    const char* name;
    std::string text; // sent as one text frame (after hello unless beforeHello)
    const char* code;
    std::string id; // the request id the error must carry ("" when none is readable)
    bool beforeHello = false;
    std::string clientId = {}; // the client_id the error must carry (errors answering a send)
};

void PrintTo(const BadFrame& c, std::ostream* os)
{
    *os << c.name;
}

class BadFrameTable : public BadInputTest, public ::testing::WithParamInterface<BadFrame> { };

TEST_P(BadFrameTable, GetsTypedErrorAndConnectionCarriesOn)
{
    const BadFrame& c = GetParam();
    auto client = std::make_unique<RawClient>(s_server->webSocketUrl());
    ASSERT_TRUE(client->open());
    if (!c.beforeHello) {
        ASSERT_TRUE(client->hello("tester"));
        ASSERT_TRUE(client->join("room-a"));
    }
    client->sendText(QString::fromStdString(c.text));
    const auto error = client->take<protocol::Error>();
    ASSERT_TRUE(error) << "no error frame for " << c.name;
    EXPECT_EQ(protocol::errorCodeName(error->code), c.code) << error->message;
    EXPECT_EQ(error->id, c.id);
    EXPECT_EQ(error->clientId, c.clientId);
    EXPECT_FALSE(error->message.empty());
    // The same connection still works (and still accepts its hello).
    if (c.beforeHello) {
        EXPECT_TRUE(client->hello("tester"));
    }
    EXPECT_TRUE(client->sync());
    EXPECT_TRUE(client->isOpen());
}

const std::string kOversize
    = R"({"type":"heartbeat","id":"big","pad":")" + std::string(kMaxFrame + 10, 'x') + "\"}";

INSTANTIATE_TEST_SUITE_P(Table, BadFrameTable,
    ::testing::Values(BadFrame { "Garbage", "\x01\x02garbage", "bad_json", "" },
        BadFrame { "InvalidJson", R"({"type":"send",)", "bad_json", "" },
        BadFrame { "NotAnObject", R"([1,2,3])", "bad_json", "" },
        BadFrame { "UnknownType", R"({"type":"dance","id":"u1"})", "unknown_type", "u1" },
        BadFrame { "MissingType", R"({"id":"m0","room":"x"})", "bad_frame", "m0" },
        BadFrame { "MissingRoom", R"({"type":"join","id":"m1"})", "bad_frame", "m1" },
        BadFrame { "MissingClientId", R"({"type":"send","id":"m2","room":"room-a","body":"x"})",
            "bad_frame", "m2" },
        BadFrame { "WrongFieldType", R"({"type":"join","id":"w1","room":42})", "bad_frame", "w1" },
        BadFrame { "WrongLimitType",
            R"({"type":"history","id":"w2","room":"room-a","limit":"ten"})", "bad_frame", "w2" },
        BadFrame { "HistoryBothCursors",
            R"({"type":"history","id":"w3","room":"room-a","before":5,"after":1})", "bad_frame",
            "w3" },
        BadFrame { "HistoryLimitTooBig",
            R"({"type":"history","id":"w4","room":"room-a","limit":100000})", "bad_frame", "w4" },
        BadFrame { "OversizeFrame", kOversize, "frame_too_large", "" },
        BadFrame { "EmptyBody",
            R"({"type":"send","id":"e1","room":"room-a","client_id":"c1","body":""})", "empty_body",
            "e1", false, "c1" },
        BadFrame { "BodyTooLarge",
            R"({"type":"send","id":"e2","room":"room-a","client_id":"c2","body":")"
                + std::string(kMaxBody + 1, 'b') + "\"}",
            "body_too_large", "e2", false, "c2" },
        BadFrame { "BodyNotAString",
            R"({"type":"send","id":"e3","room":"room-a","client_id":"c3","body":{"t":1}})",
            "bad_frame", "e3", false, "c3" },
        BadFrame { "SendToBadRoomName",
            R"({"type":"send","id":"e4","room":"no spaces","client_id":"c4","body":"x"})",
            "bad_room", "e4", false, "c4" },
        BadFrame { "SendToRoomNameTooLong",
            R"({"type":"send","id":"e5","room":")" + std::string(65, 'r')
                + R"(","client_id":"c5","body":"x"})",
            "bad_room", "e5", false, "c5" },
        BadFrame { "DirectBodyTooLarge",
            R"({"type":"direct","id":"d1","to":"bob","client_id":"c6","body":")"
                + std::string(kMaxBody + 1, 'b') + "\"}",
            "body_too_large", "d1", false, "c6" },
        BadFrame { "SendToUnjoinedRoom",
            R"({"type":"send","id":"n1","room":"elsewhere","client_id":"c7","body":"hi"})",
            "not_joined", "n1", false, "c7" },
        BadFrame { "HistoryOfUnjoinedRoom", R"({"type":"history","id":"n2","room":"elsewhere"})",
            "not_joined", "n2" },
        BadFrame { "LeaveUnjoinedRoom", R"({"type":"leave","id":"n3","room":"elsewhere"})",
            "not_joined", "n3" },
        BadFrame { "BadRoomName", R"({"type":"join","id":"b1","room":"no spaces allowed"})",
            "bad_room", "b1" },
        BadFrame { "RoomNameTooLong",
            R"({"type":"join","id":"b2","room":")" + std::string(65, 'r') + "\"}", "bad_room",
            "b2" },
        BadFrame { "EmptyRoomName", R"({"type":"join","id":"b3","room":""})", "bad_room", "b3" },
        BadFrame { "SecondHello", R"({"type":"hello","id":"h2","user":"tester"})",
            "already_welcomed", "h2" },
        BadFrame { "FrameBeforeHello", R"({"type":"join","id":"j0","room":"room-a"})",
            "hello_required", "j0", true },
        BadFrame { "SendBeforeHello",
            R"({"type":"send","id":"s0","room":"room-a","client_id":"c8","body":"x"})",
            "hello_required", "s0", true, "c8" },
        BadFrame { "GarbageBeforeHello", "not json at all", "bad_json", "", true }),
    [](const ::testing::TestParamInfo<BadFrame>& info) { return std::string(info.param.name); });

TEST_F(BadInputTest, TooManyRooms)
{
    auto client = welcomed();
    for (const char* room : { "r1", "r2", "r3" }) {
        ASSERT_TRUE(client->join(room));
    }
    client->send(protocol::Join { "j4", "r4" });
    const auto error = client->takeError("j4");
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, protocol::ErrorCode::TooManyRooms);
    // Leaving one makes room for another.
    client->send(protocol::Leave { "l1", "r1" });
    ASSERT_TRUE(client->take<protocol::Left>());
    EXPECT_TRUE(client->join("r4"));
}

TEST_F(BadInputTest, FrameFarOverTheLimitClosesWith1009)
{
    // Frames up to 4x max_frame_bytes get frame_too_large; beyond that Qt's framing refuses
    // the frame from its header and closes with 1009 (message too big).
    auto client = welcomed();
    client->sendText(QString(kMaxFrame * 4 + 100, u'x'));
    EXPECT_EQ(client->waitClosed(), 1009);
}

TEST_F(BadInputTest, BinaryFrameIsAProtocolViolation)
{
    auto client = welcomed();
    client->sendBinary(QByteArray("\x00\x01\x02", 3));
    const auto error = client->take<protocol::Error>();
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, protocol::ErrorCode::BadFrame);
    EXPECT_EQ(client->waitClosed(), 4000);
}

TEST_F(BadInputTest, BadUserNameIsUnauthorizedAndTerminal)
{
    // One rule for the user name, whatever is wrong with it: unauthorized, then close 4001.
    for (const std::string& user : { std::string("not a name"), std::string(65, 'u'), std::string(),
             std::string("caf\xc3\xa9") }) {
        RawClient client(s_server->webSocketUrl());
        ASSERT_TRUE(client.open());
        client.sendText(
            QString::fromStdString(R"({"type":"hello","id":"h1","user":")" + user + "\"}"));
        const auto error = client.takeError("h1");
        ASSERT_TRUE(error) << "user '" << user << "'";
        EXPECT_EQ(error->code, protocol::ErrorCode::Unauthorized) << "user '" << user << "'";
        EXPECT_EQ(client.waitClosed(), 4001) << "user '" << user << "'";
    }
}

TEST_F(BadInputTest, RateLimitedSendsNameTheirMessage)
{
    // A server with a rate limit of 1 frame per second (bursts of 2): the hello and the first
    // send use the burst, the sends behind them are refused as rate limited (undecodable ones
    // too: these have an empty body), and every refusal says which message it was.
    ServerProcess server({ "--rate-limit", "1" });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    RawClient client(server.webSocketUrl());
    ASSERT_TRUE(client.open());
    ASSERT_TRUE(client.hello("hasty"));
    int rateLimited = 0;
    for (int i = 1; i <= 5; ++i) {
        const std::string n = std::to_string(i);
        client.sendText(QString::fromStdString(R"({"type":"send","id":"q)" + n
            + R"(","room":"r","client_id":"k)" + n + R"(","body":""})"));
    }
    for (int i = 1; i <= 5; ++i) {
        const std::string n = std::to_string(i);
        const auto error = client.takeError("q" + n);
        ASSERT_TRUE(error) << "q" << n;
        EXPECT_EQ(error->clientId, "k" + n);
        EXPECT_TRUE(error->code == protocol::ErrorCode::EmptyBody
            || error->code == protocol::ErrorCode::RateLimited)
            << protocol::errorCodeName(error->code);
        rateLimited += error->code == protocol::ErrorCode::RateLimited ? 1 : 0;
    }
    EXPECT_GE(rateLimited, 1);
}

// Raw TCP: what the HTTP side answers (status line) for bad requests, and the slow-loris bound.
QByteArray rawHttp(quint16 port, const QByteArray& request, bool waitForClose = true)
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
            return waitForClose ? socket.state() == QAbstractSocket::UnconnectedState
                                : response.contains("\r\n\r\n");
        },
        10000);
    return response + socket.readAll();
}

TEST_F(BadInputTest, HttpErrorsAreJson)
{
    const quint16 port = s_server->port();
    const QByteArray notFound = rawHttp(port, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(notFound.startsWith("HTTP/1.1 404")) << notFound.toStdString();
    EXPECT_TRUE(notFound.contains(R"({"error":"not_found")")) << notFound.toStdString();
    const QByteArray method = rawHttp(port, "DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(method.startsWith("HTTP/1.1 405")) << method.toStdString();
    const QByteArray garbage = rawHttp(port, QByteArray("\x16\x03\x01\x00\xff", 5));
    EXPECT_TRUE(garbage.startsWith("HTTP/1.1 400")) << garbage.toStdString();
    const QByteArray huge = rawHttp(port, "GET /healthz HTTP/1.1\r\nX: " + QByteArray(9000, 'a'));
    EXPECT_TRUE(huge.startsWith("HTTP/1.1 431")) << huge.toStdString();
}

TEST_F(BadInputTest, HeadsThatBreakHttp11GetA400AtOnce)
{
    // The server runs with --header-timeout-ms 300: a head left waiting would get 408 there, so
    // a 400 shows it was refused from the bytes themselves, before any timeout.
    const quint16 port = s_server->port();
    const QByteArray bareLf = rawHttp(port, "GET /healthz HTTP/1.1\nHost: x\n\n");
    EXPECT_TRUE(bareLf.startsWith("HTTP/1.1 400")) << bareLf.toStdString();
    EXPECT_TRUE(bareLf.contains(R"({"error":"bad_request")")) << bareLf.toStdString();
    // The client has not finished its head (nor closed): the first bare LF is enough.
    const QByteArray partial = rawHttp(port, "GET /healthz HTTP/1.1\n");
    EXPECT_TRUE(partial.startsWith("HTTP/1.1 400")) << partial.toStdString();

    // RFC 9112 3.2: Host is required in HTTP/1.1 (and only one), optional in HTTP/1.0.
    const QByteArray hostless = rawHttp(port, "GET /healthz HTTP/1.1\r\n\r\n");
    EXPECT_TRUE(hostless.startsWith("HTTP/1.1 400")) << hostless.toStdString();
    EXPECT_TRUE(hostless.contains("Host")) << hostless.toStdString();
    const QByteArray twoHosts
        = rawHttp(port, "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    EXPECT_TRUE(twoHosts.startsWith("HTTP/1.1 400")) << twoHosts.toStdString();
    const QByteArray http10 = rawHttp(port, "GET /healthz HTTP/1.0\r\n\r\n");
    EXPECT_TRUE(http10.startsWith("HTTP/1.1 200")) << http10.toStdString();
}

TEST_F(BadInputTest, SlowLorisIsCutOffAtTheHeaderTimeout)
{
    // The server runs with --header-timeout-ms 300: a head that never completes gets 408.
    const QByteArray response
        = rawHttp(s_server->port(), "GET /healthz HTTP/1.1\r\nHost: slow\r\n");
    EXPECT_TRUE(response.startsWith("HTTP/1.1 408")) << response.toStdString();
}

TEST(AuthFileTest, TokensAreChecked)
{
    QTemporaryFile tokens;
    ASSERT_TRUE(tokens.open());
    tokens.write("alice s3cret\n");
    tokens.flush();
    ServerProcess server({ "--auth-file", tokens.fileName() });
    ASSERT_TRUE(server.start()) << server.output().toStdString();

    RawClient good(server.webSocketUrl());
    ASSERT_TRUE(good.open());
    good.send(protocol::Hello { "h1", "alice", "s3cret", {} });
    EXPECT_TRUE(good.take<protocol::Welcome>());

    RawClient bad(server.webSocketUrl());
    ASSERT_TRUE(bad.open());
    bad.send(protocol::Hello { "h1", "alice", "wrong", {} });
    const auto error = bad.takeError("h1");
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, protocol::ErrorCode::Unauthorized);
    EXPECT_EQ(bad.waitClosed(), 4001);
}

TEST(StartupTest, RefusesToStartWithoutAuth)
{
    QProcess process;
    process.start(ServerProcess::executable(), { "--listen", "127.0.0.1:0" });
    ASSERT_TRUE(process.waitForFinished(10000));
    EXPECT_NE(process.exitCode(), 0);
    EXPECT_TRUE(process.readAllStandardError().contains("--dev-auth"));
}

} // namespace
} // namespace parley::test
