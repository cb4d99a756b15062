// parley::ServerAddress: every accepted form and every refusal, as a table.
#include <gtest/gtest.h>
#include <parley/serveraddress.h>

using parley::ServerAddress;

TEST(ServerAddress, AcceptedFormsBecomeWebSocketEndpoints)
{
    const struct {
        const char* input;
        const char* url;
        const char* hostAndPort;
    } cases[] = {
        { "127.0.0.1:8080", "ws://127.0.0.1:8080/v1/ws", "127.0.0.1:8080" },
        { "localhost:9000", "ws://localhost:9000/v1/ws", "localhost:9000" },
        { "  localhost:9000  ", "ws://localhost:9000/v1/ws", "localhost:9000" },
        { "chat.example", "ws://chat.example/v1/ws", "chat.example:80" },
        { "chat.example:8080/", "ws://chat.example:8080/v1/ws", "chat.example:8080" },
        { "ws://127.0.0.1:8080", "ws://127.0.0.1:8080/v1/ws", "127.0.0.1:8080" },
        { "ws://127.0.0.1:8080/", "ws://127.0.0.1:8080/v1/ws", "127.0.0.1:8080" },
        { "ws://127.0.0.1:8080/v1/ws", "ws://127.0.0.1:8080/v1/ws", "127.0.0.1:8080" },
        { "WS://Chat.Example:8080", "ws://chat.example:8080/v1/ws", "chat.example:8080" },
        { "wss://chat.example/custom", "wss://chat.example/custom", "chat.example:443" },
        { "wss://chat.example/parley/v1/ws?x=1", "wss://chat.example/parley/v1/ws?x=1",
            "chat.example:443" },
        { "http://127.0.0.1:8080", "ws://127.0.0.1:8080/v1/ws", "127.0.0.1:8080" },
        { "http://chat.example:80", "ws://chat.example:80/v1/ws", "chat.example:80" },
        { "https://chat.example", "wss://chat.example/v1/ws", "chat.example:443" },
        { "HTTPS://chat.example:8443/", "wss://chat.example:8443/v1/ws", "chat.example:8443" },
        { "[::1]:8080", "ws://[::1]:8080/v1/ws", "[::1]:8080" },
        { "ws://[::1]", "ws://[::1]/v1/ws", "[::1]:80" },
        { "host:65535", "ws://host:65535/v1/ws", "host:65535" },
    };
    for (const auto& c : cases) {
        const ServerAddress address = ServerAddress::parse(QString::fromUtf8(c.input));
        EXPECT_TRUE(address.isValid()) << c.input << ": " << address.error.toStdString();
        EXPECT_TRUE(address.error.isEmpty()) << c.input;
        EXPECT_EQ(address.url.toString().toStdString(), c.url) << c.input;
        EXPECT_EQ(address.hostAndPort().toStdString(), c.hostAndPort) << c.input;
    }
}

TEST(ServerAddress, RefusalsSayWhyInWordsForPeople)
{
    const struct {
        const char* input;
        const char* reason; // a part of the error
    } cases[] = {
        { "", "no server address" },
        { "   ", "no server address" },
        { "ftp://chat.example", "'ftp://' is not a Parley server scheme" },
        { "file:///etc/passwd", "'file://' is not a Parley server scheme" },
        { "ws://", "no host name" },
        { "http://:8080", "no host name" },
        { ":8080", "no host name" },
        { "host:0", "port must be a number from 1 to 65535" },
        { "host:65536", "port must be a number from 1 to 65535" },
        { "host:http", "port must be a number from 1 to 65535" },
        { "host:", "port must be a number from 1 to 65535" },
        { "host:+80", "port must be a number from 1 to 65535" },
        { "ws://host:80x/v1/ws", "port must be a number from 1 to 65535" },
        { "[::1]:", "port must be a number from 1 to 65535" },
        { "::1", "IPv6 address goes in brackets" },
        { "[::1", "closing ']'" },
        { "[::1]x", "only ':port' may follow" },
        { "alice:secret@host:8080", "no user name or password" },
        { "ws://alice@host", "no user name or password" },
        { "ws://host:8080/v1/ws#top", "no #fragment" },
        { "9ws://host", "scheme before :// is not valid" },
        { "ws://bad host:8080", "'bad host' is not a valid host name" },
    };
    for (const auto& c : cases) {
        const ServerAddress address = ServerAddress::parse(QString::fromUtf8(c.input));
        EXPECT_FALSE(address.isValid())
            << c.input << " -> " << address.url.toString().toStdString();
        EXPECT_TRUE(address.url.isEmpty()) << c.input;
        EXPECT_TRUE(address.error.contains(QString::fromUtf8(c.reason)))
            << c.input << ": " << address.error.toStdString();
        EXPECT_TRUE(address.hostAndPort().isEmpty()) << c.input;
        // Words for people: nothing of Qt's own diagnostics.
        EXPECT_FALSE(address.error.contains(QLatin1String("QUrl"))) << c.input;
    }
}

TEST(ServerAddress, TheDefaultPathIsTheServersWebSocketPath)
{
    EXPECT_EQ(ServerAddress::defaultPath(), QStringLiteral("/v1/ws"));
    EXPECT_FALSE(ServerAddress().isValid());
}
