// Real Qt networking on EpollEventDispatcher: QTcpServer/QTcpSocket and QWebSocketServer/
// QWebSocket echo over loopback, server and client on the same epoll thread. Large payloads
// make QAbstractSocket toggle its write notifier many times.
#include "eventlooptesthelpers.h"

#include <QHostAddress>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QWebSocket>
#include <QWebSocketServer>
#include <gtest/gtest.h>
#include <memory>
#include <vector>

namespace parley::server::test {
namespace {

QByteArray pattern(int size)
{
    QByteArray data(size, Qt::Uninitialized);
    for (int i = 0; i < size; ++i) {
        data[i] = char('a' + (i * 7) % 26);
    }
    return data;
}

TEST(EpollEventDispatcherNetwork, TcpEchoOverLoopback)
{
    runOnEpollThread([] {
        QTcpServer server;
        ASSERT_TRUE(server.listen(QHostAddress::LocalHost, 0));
        std::vector<std::unique_ptr<QTcpSocket>> accepted;
        QObject::connect(&server, &QTcpServer::newConnection, [&] {
            while (QTcpSocket* peer = server.nextPendingConnection()) {
                accepted.emplace_back(peer);
                QObject::connect(
                    peer, &QTcpSocket::readyRead, [peer] { peer->write(peer->readAll()); });
            }
        });

        constexpr int kClients = 3;
        const QByteArray payload = pattern(2 * 1024 * 1024);
        std::vector<std::unique_ptr<QTcpSocket>> clients;
        std::vector<QByteArray> echoed(kClients);
        for (int i = 0; i < kClients; ++i) {
            clients.push_back(std::make_unique<QTcpSocket>());
            QTcpSocket* client = clients.back().get();
            QObject::connect(client, &QTcpSocket::readyRead,
                [client, &echoed, i] { echoed[std::size_t(i)] += client->readAll(); });
            QObject::connect(
                client, &QTcpSocket::connected, [client, &payload] { client->write(payload); });
            client->connectToHost(QHostAddress::LocalHost, server.serverPort());
        }
        const bool done = waitUntil(
            [&] {
                for (const QByteArray& e : echoed) {
                    if (e.size() < payload.size()) {
                        return false;
                    }
                }
                return true;
            },
            30'000);
        ASSERT_TRUE(done);
        for (const QByteArray& e : echoed) {
            EXPECT_EQ(e, payload);
        }

        // Closing from the client side reaches the server side (hang-up delivery).
        QSignalSpy disconnected(accepted.front().get(), &QTcpSocket::disconnected);
        clients.front()->disconnectFromHost();
        ASSERT_TRUE(disconnected.count() > 0 || disconnected.wait(5000));
    });
}

TEST(EpollEventDispatcherNetwork, WebSocketEchoOverLoopback)
{
    runOnEpollThread([] {
        QWebSocketServer server(QStringLiteral("eventloop-test"), QWebSocketServer::NonSecureMode);
        ASSERT_TRUE(server.listen(QHostAddress::LocalHost, 0));
        std::vector<std::unique_ptr<QWebSocket>> peers;
        QObject::connect(&server, &QWebSocketServer::newConnection, [&] {
            while (QWebSocket* peer = server.nextPendingConnection()) {
                peers.emplace_back(peer);
                QObject::connect(peer, &QWebSocket::textMessageReceived,
                    [peer](const QString& text) { peer->sendTextMessage(text); });
                QObject::connect(peer, &QWebSocket::binaryMessageReceived,
                    [peer](const QByteArray& data) { peer->sendBinaryMessage(data); });
            }
        });

        QWebSocket client;
        QStringList texts;
        QByteArray binary;
        QObject::connect(
            &client, &QWebSocket::textMessageReceived, [&](const QString& text) { texts << text; });
        QObject::connect(&client, &QWebSocket::binaryMessageReceived,
            [&](const QByteArray& data) { binary = data; });
        QSignalSpy connected(&client, &QWebSocket::connected);
        client.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(server.serverPort())));
        ASSERT_TRUE(connected.wait(5000));

        for (int i = 0; i < 50; ++i) {
            client.sendTextMessage(QStringLiteral("{\"type\":\"send\",\"n\":%1}").arg(i));
        }
        const QByteArray big = pattern(512 * 1024);
        client.sendBinaryMessage(big);
        ASSERT_TRUE(waitUntil([&] { return texts.size() == 50 && !binary.isEmpty(); }, 30'000));
        for (int i = 0; i < 50; ++i) {
            EXPECT_EQ(texts[i], QStringLiteral("{\"type\":\"send\",\"n\":%1}").arg(i));
        }
        EXPECT_EQ(binary, big);

        QSignalSpy closed(&client, &QWebSocket::disconnected);
        client.close(); // may emit disconnected() synchronously
        ASSERT_TRUE(closed.count() > 0 || closed.wait(5000));
    });
}

} // namespace
} // namespace parley::server::test
