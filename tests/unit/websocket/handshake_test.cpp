#include "websocket/handshake.h"

#include <gtest/gtest.h>

using namespace parley::server::websocket;

namespace {

QByteArray request(QByteArrayView extra)
{
    return "GET /v1/ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\n"
        + extra.toByteArray() + "\r\n";
}

} // namespace

TEST(HandshakeTest, AcceptKeyFromTheRfc)
{
    // RFC 6455 section 1.3.
    EXPECT_EQ(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(HandshakeTest, Table)
{
    const struct {
        const char* name;
        QByteArray head;
        int status;
        QByteArray code;
    } table[] = {
        { "valid",
            request("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"),
            101, {} },
        { "header names are case-insensitive",
            request(
                "sec-websocket-key:dGhlIHNhbXBsZSBub25jZQ==\r\nSEC-WEBSOCKET-VERSION:  13 \r\n"),
            101, {} },
        { "no version", request("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), 426,
            "unsupported_websocket_version" },
        { "version 8",
            request("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n"),
            426, "unsupported_websocket_version" },
        { "no key", request("Sec-WebSocket-Version: 13\r\n"), 400, "bad_websocket_key" },
        { "key not base64",
            request("Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==\r\nSec-WebSocket-Version: 13\r\n"),
            400, "bad_websocket_key" },
        { "HTTP/1.0",
            "GET /v1/ws HTTP/1.0\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n",
            400, "unsupported_http_version" },
        { "HTTP/1.0 without headers", "GET /v1/ws HTTP/1.0\r\n\r\n", 400,
            "unsupported_http_version" },
        { "HTTP/2.0",
            "GET /v1/ws HTTP/2.0\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n",
            400, "unsupported_http_version" },
        { "key of 15 bytes",
            request("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j\r\nSec-WebSocket-Version: 13\r\n"),
            400, "bad_websocket_key" },
    };
    for (const auto& row : table) {
        const HandshakeReply reply = answerHandshake(row.head);
        EXPECT_EQ(reply.status, row.status) << row.name;
        EXPECT_EQ(reply.accepted, row.status == 101) << row.name;
        EXPECT_EQ(reply.code, row.code) << row.name;
        if (row.status == 101) {
            EXPECT_TRUE(reply.response.startsWith("HTTP/1.1 101 Switching Protocols\r\n"));
            EXPECT_TRUE(
                reply.response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
            EXPECT_TRUE(reply.response.endsWith("\r\n\r\n"));
        } else {
            EXPECT_TRUE(reply.response.startsWith("HTTP/1.1 " + QByteArray::number(row.status)));
            EXPECT_TRUE(reply.response.contains("Connection: close"));
        }
    }
    EXPECT_TRUE(answerHandshake(table[2].head).response.contains("Sec-WebSocket-Version: 13\r\n"));
}
