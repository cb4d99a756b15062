// ConnectionController + ConnectionStatusWidget on a real Client that never reaches its server
// (nothing listens on the port): what the status bar says while it keeps trying. The wording after
// a real connection was lost is covered against a real parleyd in
// tests/integration/desktop/desktopapp_test.cpp.
#include "controllers/connectioncontroller.h"
#include "waituntil.h"
#include "widgets/connectionstatuswidget.h"

#include <QPushButton>
#include <QTcpServer>
#include <gtest/gtest.h>
#include <parley/client.h>
#include <parley/clientoptions.h>

using namespace parley::desktop;
using namespace std::chrono_literals;
using parley::test::waitUntil;

namespace {

//! A loopback port nothing listens on: bound once to get a free one, then closed.
quint16 closedPort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0)) {
        return 0;
    }
    const quint16 port = probe.serverPort();
    probe.close();
    return port;
}

} // namespace

TEST(ConnectionStatusTest, AClientThatNeverConnectedCannotReachTheServerItHasNotLostAConnection)
{
    const quint16 port = closedPort();
    ASSERT_NE(port, 0);
    auto options = parley::ClientOptions::forServer(
        QUrl(QStringLiteral("ws://127.0.0.1:%1/v1/ws").arg(port)), QStringLiteral("alice"));
    options.reconnect.initialDelay = 50ms;
    options.reconnect.maxDelay = 50ms;
    parley::Client client(options);
    ConnectionController connection(client);
    ConnectionStatusWidget status(connection, QStringLiteral("127.0.0.1:%1").arg(port));
    status.show();

    // Everything the status bar shows, each time it changes.
    QStringList shown { status.text() };
    auto record = [&] {
        if (shown.constLast() != status.text()) {
            shown.append(status.text());
        }
    };
    QObject::connect(&connection, &ConnectionController::statusChanged, &status, record);
    QObject::connect(&connection, &ConnectionController::countdownChanged, &status, record);
    QObject::connect(&connection, &ConnectionController::lastErrorChanged, &status, record);

    connection.start();
    ASSERT_TRUE(waitUntil([&] { return client.reconnectAttempt() >= 3; }))
        << "the client keeps retrying; shown: " << shown.join(QStringLiteral(" | ")).toStdString();
    ASSERT_TRUE(
        waitUntil([&] { return connection.status() == ConnectionController::Status::Reconnecting; }));
    record();

    EXPECT_FALSE(connection.hasConnected());
    EXPECT_TRUE(status.text().startsWith(QStringLiteral("Cannot reach 127.0.0.1:%1").arg(port)))
        << status.text().toStdString();
    EXPECT_TRUE(status.reconnectButton()->isVisibleTo(&status));
    EXPECT_FALSE(status.toolTip().isEmpty()) << "the reason is one hover away";
    for (const auto& text : shown) {
        EXPECT_FALSE(text.contains(QStringLiteral("lost"), Qt::CaseInsensitive))
            << "nothing was ever connected: \"" << text.toStdString() << "\"";
    }
    EXPECT_TRUE(shown.contains(QStringLiteral("Connecting to 127.0.0.1:%1…").arg(port)))
        << shown.join(QStringLiteral(" | ")).toStdString();
}
