// parleyd's own WebSocket layer over a real socket (server/websocket/): the opening handshake,
// ping/pong, fragmented messages, close codes for every kind of bad framing, and the close
// handshake. The client is a plain blocking POSIX socket with poll() deadlines, using the
// codec's client side (masked writer, unmasked-only parser) so the test sees every byte.
#include "rawclient.h"
#include "serverprocess.h"
#include "websocket/frameparser.h"
#include "websocket/framewriter.h"
#include "websocket/handshake.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parley::test {
namespace {

using server::CloseCode;
using namespace server::websocket;

constexpr int kTimeoutMs = 10000;
constexpr quint32 kMask = 0xa1b2c3d4;
constexpr const char* kKey = "dGhlIHNhbXBsZSBub25jZQ==";

QByteArray upgradeRequest(QByteArrayView extraHeaders = "Sec-WebSocket-Version: 13\r\n")
{
    return "GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: "
        + QByteArray(kKey) + "\r\n" + extraHeaders.toByteArray() + "\r\n";
}

QByteArray text(QByteArrayView payload, bool fin = true)
{
    return encodeMaskedFrame(Opcode::Text, payload, kMask, fin);
}

// A blocking client socket with deadlines.
class WireClient {
public:
    ~WireClient()
    {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }

    bool connectTo(quint16 port, int receiveBuffer = 0)
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (receiveBuffer > 0) {
            ::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
        }
        sockaddr_in address {};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return ::connect(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    }

    bool write(QByteArrayView bytes)
    {
        qsizetype done = 0;
        while (done < bytes.size()) {
            const ssize_t n
                = ::send(m_fd, bytes.data() + done, std::size_t(bytes.size() - done), MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            done += n;
        }
        return true;
    }

    //! The HTTP response head (up to the blank line); what follows stays for nextMessage().
    QByteArray readHead()
    {
        while (!m_buffer.contains("\r\n\r\n")) {
            if (!fill()) {
                return {};
            }
        }
        const qsizetype end = m_buffer.indexOf("\r\n\r\n") + 4;
        const QByteArray head = m_buffer.left(end);
        m_buffer.remove(0, end);
        return head;
    }

    //! Reads a whole HTTP response (head and Content-Length body) until the server closes.
    QByteArray readUntilClosed()
    {
        while (fill()) { }
        return std::exchange(m_buffer, {});
    }

    //! Reads and drops `bytes` bytes (an HTTP body).
    bool skip(qsizetype bytes)
    {
        while (m_buffer.size() < bytes) {
            if (!fill()) {
                return false;
            }
        }
        m_buffer.remove(0, bytes);
        return true;
    }

    bool upgrade(QByteArrayView early = {})
    {
        if (!write(upgradeRequest() + early.toByteArray())) {
            return false;
        }
        const QByteArray head = readHead();
        return head.startsWith("HTTP/1.1 101")
            && head.contains("Sec-WebSocket-Accept: " + acceptKey(kKey));
    }

    //! The next message from the server; nullopt on timeout, EOF or a framing error.
    std::optional<Message> nextMessage()
    {
        for (;;) {
            if (!m_pending.empty()) {
                Message m = std::move(m_pending.front());
                m_pending.erase(m_pending.begin());
                return m;
            }
            if (!m_buffer.isEmpty()) {
                FrameParser::Result r = m_parser.feed(std::exchange(m_buffer, {}));
                if (r.error) {
                    ADD_FAILURE() << "server sent bad framing: " << r.error->reason;
                    return std::nullopt;
                }
                m_pending = std::move(r.messages);
                continue;
            }
            if (!fill()) {
                return std::nullopt;
            }
        }
    }

    //! The next message of `opcode`, skipping others.
    std::optional<Message> next(Opcode opcode)
    {
        for (;;) {
            std::optional<Message> m = nextMessage();
            if (!m || m->opcode == opcode) {
                return m;
            }
        }
    }

    //! Skips messages until a close frame; its code (0 if none came).
    int closeCode()
    {
        const std::optional<Message> m = next(Opcode::Close);
        return m ? m->closeCode : 0;
    }

    //! True when the server closes the TCP connection within the deadline.
    bool waitEof()
    {
        char buffer[4096];
        for (;;) {
            pollfd p { m_fd, POLLIN, 0 };
            if (::poll(&p, 1, kTimeoutMs) <= 0) {
                return false;
            }
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
            if (n <= 0) {
                return true;
            }
        }
    }

private:
    bool fill()
    {
        pollfd p { m_fd, POLLIN, 0 };
        if (::poll(&p, 1, kTimeoutMs) <= 0) {
            return false;
        }
        char buffer[65536];
        const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
            return false;
        }
        m_buffer.append(buffer, n);
        return true;
    }

private:
    int m_fd = -1;
    QByteArray m_buffer;
    FrameParser m_parser { FrameParser::Limits { 1 << 24, false } };
    std::vector<Message> m_pending;
};

class WebSocketTest : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        s_server = new ServerProcess();
        ASSERT_TRUE(s_server->start()) << qPrintable(s_server->output());
    }
    static void TearDownTestSuite()
    {
        delete s_server;
        s_server = nullptr;
    }

    WireClient& connected()
    {
        EXPECT_TRUE(m_client.connectTo(s_server->port()));
        return m_client;
    }
    WireClient& upgraded()
    {
        WireClient& c = connected();
        EXPECT_TRUE(c.upgrade());
        return c;
    }

    static ServerProcess* s_server;
    WireClient m_client;
};

ServerProcess* WebSocketTest::s_server = nullptr;

const QByteArray kHello = R"({"type":"hello","id":"h1","user":"alice"})";

TEST_F(WebSocketTest, HandshakeAndHello)
{
    WireClient& c = upgraded();
    ASSERT_TRUE(c.write(text(kHello)));
    const std::optional<Message> welcome = c.next(Opcode::Text);
    ASSERT_TRUE(welcome);
    EXPECT_TRUE(welcome->payload.contains(R"("type":"welcome")")) << welcome->payload.data();
}

TEST_F(WebSocketTest, HandshakeRefusals)
{
    WireClient& c = connected();
    ASSERT_TRUE(c.write("GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: short\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n"));
    const QByteArray response = c.readUntilClosed();
    EXPECT_TRUE(response.startsWith("HTTP/1.1 400")) << response.data();
    EXPECT_TRUE(response.contains("bad_websocket_key"));

    WireClient old;
    ASSERT_TRUE(old.connectTo(s_server->port()));
    ASSERT_TRUE(old.write(upgradeRequest("Sec-WebSocket-Version: 8\r\n")));
    const QByteArray refused = old.readUntilClosed();
    EXPECT_TRUE(refused.startsWith("HTTP/1.1 426")) << refused.data();
    EXPECT_TRUE(refused.contains("Sec-WebSocket-Version: 13"));
}

TEST_F(WebSocketTest, UpgradeNeedsHttp11WithHost)
{
    // RFC 6455 4.2.1: an HTTP/1.1 request; RFC 9110 7.8: Upgrade is ignored in HTTP/1.0.
    WireClient http10;
    ASSERT_TRUE(http10.connectTo(s_server->port()));
    QByteArray request = upgradeRequest();
    request.replace("HTTP/1.1", "HTTP/1.0");
    ASSERT_TRUE(http10.write(request));
    const QByteArray refused = http10.readUntilClosed();
    EXPECT_TRUE(refused.startsWith("HTTP/1.1 400")) << refused.data();
    EXPECT_TRUE(refused.contains(R"({"error":"unsupported_http_version")")) << refused.data();
    EXPECT_FALSE(refused.contains("Sec-WebSocket-Accept")) << refused.data();

    // RFC 9112 3.2: an HTTP/1.1 request without Host is answered 400.
    WireClient hostless;
    ASSERT_TRUE(hostless.connectTo(s_server->port()));
    request = upgradeRequest();
    request.replace("Host: 127.0.0.1\r\n", "");
    ASSERT_TRUE(hostless.write(request));
    const QByteArray noHost = hostless.readUntilClosed();
    EXPECT_TRUE(noHost.startsWith("HTTP/1.1 400")) << noHost.data();
    EXPECT_TRUE(noHost.contains(R"({"error":"bad_request")")) << noHost.data();

    // The same port still upgrades a correct request.
    WireClient good;
    ASSERT_TRUE(good.connectTo(s_server->port()));
    EXPECT_TRUE(good.upgrade());
}

TEST_F(WebSocketTest, FramesSentWithTheUpgradeRequestAreNotLost)
{
    // RFC 6455 forbids sending before the 101; parleyd still reads such frames (documented).
    WireClient& c = connected();
    ASSERT_TRUE(c.write(upgradeRequest("Sec-WebSocket-Version: 13\r\n") + text(kHello)));
    ASSERT_TRUE(c.readHead().startsWith("HTTP/1.1 101"));
    const std::optional<Message> welcome = c.next(Opcode::Text);
    ASSERT_TRUE(welcome);
    EXPECT_TRUE(welcome->payload.contains("welcome"));
}

TEST_F(WebSocketTest, UpgradeOnAKeptAliveHttpConnection)
{
    // An HTTP transport request answered with keep-alive, then an upgrade on the same connection.
    WireClient& c = connected();
    ASSERT_TRUE(c.write("POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Content-Length: "
        + QByteArray::number(kHello.size()) + "\r\n\r\n" + kHello));
    const QByteArray head = c.readHead();
    ASSERT_TRUE(head.startsWith("HTTP/1.1 200")) << head.data();
    ASSERT_TRUE(head.contains("Connection: keep-alive")) << head.data();
    const qsizetype at = head.indexOf("Content-Length: ") + 16;
    const int length = head.mid(at, head.indexOf("\r\n", at) - at).toInt();
    ASSERT_GT(length, 0);
    ASSERT_TRUE(c.skip(length));
    ASSERT_TRUE(c.upgrade());
    ASSERT_TRUE(c.write(text(kHello)));
    const std::optional<Message> welcome = c.next(Opcode::Text);
    ASSERT_TRUE(welcome);
    EXPECT_TRUE(welcome->payload.contains("welcome"));
}

TEST_F(WebSocketTest, PingIsAnsweredWithTheSamePayload)
{
    WireClient& c = upgraded();
    ASSERT_TRUE(c.write(text(kHello)));
    ASSERT_TRUE(c.next(Opcode::Text));
    ASSERT_TRUE(c.write(encodeMaskedFrame(Opcode::Ping, "are you there", kMask)));
    const std::optional<Message> pong = c.next(Opcode::Pong);
    ASSERT_TRUE(pong);
    EXPECT_EQ(pong->payload, "are you there");
}

TEST_F(WebSocketTest, PingBeforeHelloClosesWithPolicyViolation)
{
    WireClient& c = upgraded();
    ASSERT_TRUE(c.write(encodeMaskedFrame(Opcode::Ping, "are you there", kMask)));
    const std::optional<Message> reply = c.nextMessage();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->opcode, Opcode::Close) << "no pong before hello";
    EXPECT_EQ(reply->closeCode, 1008);
}

TEST_F(WebSocketTest, FragmentedMessageWithAPingBetweenFragments)
{
    WireClient& c = upgraded();
    ASSERT_TRUE(c.write(text(kHello)));
    ASSERT_TRUE(c.next(Opcode::Text));
    const QByteArray heartbeat = R"({"type":"heartbeat","id":"b1"})";
    ASSERT_TRUE(c.write(text(heartbeat.left(10), false)));
    ASSERT_TRUE(c.write(encodeMaskedFrame(Opcode::Ping, "p", kMask)));
    ASSERT_TRUE(
        c.write(encodeMaskedFrame(Opcode::Continuation, heartbeat.mid(10, 10), kMask, false)));
    ASSERT_TRUE(c.write(encodeMaskedFrame(Opcode::Continuation, heartbeat.mid(20), kMask)));
    const std::optional<Message> pong = c.nextMessage();
    ASSERT_TRUE(pong);
    EXPECT_EQ(pong->opcode, Opcode::Pong);
    const std::optional<Message> ack = c.next(Opcode::Text);
    ASSERT_TRUE(ack);
    EXPECT_TRUE(ack->payload.contains("heartbeat_ack")) << ack->payload.data();
}

TEST_F(WebSocketTest, ClientCloseIsEchoedAndTheServerHangsUp)
{
    WireClient& c = upgraded();
    QByteArray payload("\x03\xe8", 2); // 1000
    payload += "bye";
    ASSERT_TRUE(c.write(encodeMaskedFrame(Opcode::Close, payload, kMask)));
    EXPECT_EQ(c.closeCode(), 1000);
    EXPECT_TRUE(c.waitEof());
}

TEST_F(WebSocketTest, BadFramingClosesWithItsCode)
{
    const struct {
        const char* name;
        QByteArray bytes;
        int code;
    } table[] = {
        { "unmasked", encodeFrame(Opcode::Text, kHello), 1002 },
        { "reserved bit", QByteArray("\xc1\x80\x00\x00\x00\x00", 6), 1002 },
        { "continuation first", encodeMaskedFrame(Opcode::Continuation, "x", kMask), 1002 },
        { "ping over 125 bytes", encodeMaskedFrame(Opcode::Ping, QByteArray(126, 'p'), kMask),
            1002 },
        // 4 x --max-frame-bytes (64 KiB) is the hard limit: refused from the header alone.
        { "too big", QByteArray("\x81\xff\x00\x00\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00", 14),
            1009 },
        { "invalid utf-8", text("\xc3\x28"), 1007 },
        { "binary", encodeMaskedFrame(Opcode::Binary, "x", kMask), 4000 },
    };
    for (const auto& row : table) {
        WireClient c;
        ASSERT_TRUE(c.connectTo(s_server->port())) << row.name;
        ASSERT_TRUE(c.upgrade()) << row.name;
        ASSERT_TRUE(c.write(row.bytes)) << row.name;
        EXPECT_EQ(c.closeCode(), row.code) << row.name;
        if (row.code == 4000) {
            // An application-level close: the server waits for the client's close frame.
            ASSERT_TRUE(
                c.write(encodeMaskedFrame(Opcode::Close, QByteArray("\x0f\xa0", 2), kMask)));
        }
        EXPECT_TRUE(c.waitEof()) << row.name;
    }
}

TEST_F(WebSocketTest, ServerKeepsServingOtherClientsAfterBadOnes)
{
    WireClient& c = upgraded();
    ASSERT_TRUE(c.write(text(kHello)));
    ASSERT_TRUE(c.next(Opcode::Text));
    ASSERT_TRUE(c.write(text(R"({"type":"heartbeat","id":"b1"})")));
    const std::optional<Message> ack = c.next(Opcode::Text);
    ASSERT_TRUE(ack);
    EXPECT_TRUE(ack->payload.contains("heartbeat_ack")) << ack->payload.data();
}

TEST(WebSocketSlowConsumerTest, UnsentFramesAreDroppedAndTheCloseFrameFollows)
{
    ServerProcess server({ "--max-body-bytes", "60000", "--max-outbound-bytes", "262144" });
    ASSERT_TRUE(server.start()) << qPrintable(server.output());
    WireClient slow;
    ASSERT_TRUE(slow.connectTo(server.port(), 4096));
    ASSERT_TRUE(slow.upgrade());
    ASSERT_TRUE(slow.write(text(R"({"type":"hello","id":"h","user":"slow"})")));
    ASSERT_TRUE(slow.next(Opcode::Text));
    ASSERT_TRUE(slow.write(text(R"({"type":"join","id":"j","room":"firehose"})")));
    const std::optional<Message> joined = slow.next(Opcode::Text);
    ASSERT_TRUE(joined && joined->payload.contains("joined"));

    RawClient fast(server.webSocketUrl());
    ASSERT_TRUE(fast.open());
    ASSERT_TRUE(fast.hello("fast"));
    ASSERT_TRUE(fast.join("firehose"));
    const std::string body(50000, 'x');
    int sent = 0;
    ASSERT_TRUE(RawClient::waitUntil(
        [&] {
            if (server.output().contains("code=4003")) {
                return true;
            }
            if (sent < 2000) {
                EXPECT_TRUE(fast.sendMessage("firehose", "f" + std::to_string(++sent), body));
            }
            return false;
        },
        120000))
        << "sent " << sent;
    // The slow client now reads: what the kernel held, then at once the close frame, not the
    // rest of the queue (dropped: the client replays from storage when it reconnects).
    int messages = 0;
    std::optional<Message> m = slow.nextMessage();
    for (; m && m->opcode == Opcode::Text; m = slow.nextMessage()) {
        ++messages;
    }
    ASSERT_TRUE(m);
    EXPECT_EQ(m->opcode, Opcode::Close);
    EXPECT_EQ(m->closeCode, 4003);
    EXPECT_LT(messages, sent);
}

} // namespace
} // namespace parley::test
