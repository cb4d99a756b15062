// parley::Client through its public API, without a Parley server: option validation, local
// failures reported after the call returns, the outbox bound, connection failures, and the
// backoff against a scripted server (a few frames of docs/protocol.md on QWebSocketServer).
#include <QCoreApplication>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QWebSocket>
#include <QWebSocketServer>
#include <QTest>
#include <gtest/gtest.h>
#include <memory>
#include <parley/client.h>
#include <vector>

using namespace parley;

namespace {

QUrl unusedPort()
{
    // Bind a free port, then release it: nothing listens there afterwards.
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    const quint16 port = probe.serverPort();
    probe.close();
    return QUrl(QStringLiteral("ws://127.0.0.1:%1/v1/ws").arg(port));
}

Error errorArg(const QSignalSpy& spy, int index, int argument)
{
    return spy.at(index).at(argument).value<Error>();
}

// A server that speaks just enough of docs/protocol.md to show how far a connection gets before
// it is dropped: the test picks the script. Room state is one stream per room (one epoch, a seq
// that grows by one message per connection).
class ScriptedServer {
public:
    enum class Script {
        DropBeforeWelcome, //!< accepts, then drops on hello (a server crashing at start-up)
        DropDuringResume, //!< welcome and `joined`, then a close before the `recovered`
        Serve, //!< welcome, joins and resumes answered, one new message per room; stays up
    };

    ScriptedServer()
        : m_server(QStringLiteral("scripted"), QWebSocketServer::NonSecureMode)
    {
        m_server.listen(QHostAddress::LocalHost, 0);
        QObject::connect(&m_server, &QWebSocketServer::newConnection, &m_server, [this] {
            while (QWebSocket* socket = m_server.nextPendingConnection()) {
                ++m_connections;
                m_sockets.push_back(socket);
                QObject::connect(socket, &QWebSocket::textMessageReceived, socket,
                    [this, socket](const QString& text) {
                        onFrame(socket, QJsonDocument::fromJson(text.toUtf8()).object());
                    });
            }
        });
    }
    ~ScriptedServer() { dropAll(); }

    QUrl url() const
    {
        return QUrl(QStringLiteral("ws://127.0.0.1:%1/v1/ws").arg(m_server.serverPort()));
    }
    void setScript(Script script) { m_script = script; }
    //! Aborts every open connection (a crash, as the client sees it).
    void dropAll()
    {
        for (QWebSocket* socket : m_sockets) {
            if (socket) {
                socket->abort();
                socket->deleteLater();
            }
        }
        m_sockets.clear();
    }
    int connections() const { return m_connections; }

private:
    void send(QWebSocket* socket, const QJsonObject& frame)
    {
        socket->sendTextMessage(
            QString::fromUtf8(QJsonDocument(frame).toJson(QJsonDocument::Compact)));
    }
    void sendJoined(QWebSocket* socket, const QString& id, const QString& room)
    {
        QJsonObject joined { { "type", "joined" }, { "room", room }, { "epoch", kEpoch },
            { "last_seq", qint64(m_lastSeq[room]) }, { "members", QJsonArray { "alice" } } };
        if (!id.isEmpty()) {
            joined.insert("id", id);
        }
        send(socket, joined);
    }
    void sendNewMessage(QWebSocket* socket, const QString& room)
    {
        const quint64 seq = ++m_lastSeq[room];
        send(socket,
            QJsonObject { { "type", "message" }, { "room", room }, { "epoch", kEpoch },
                { "seq", qint64(seq) },
                { "msg_id", QStringLiteral("%1").arg(seq, 16, 16, QChar('0')) },
                { "sender", "bob" }, { "client_id", QStringLiteral("c%1").arg(seq) },
                { "body", "hi" }, { "ts", qint64(1764291234567) } });
    }
    void onFrame(QWebSocket* socket, const QJsonObject& frame)
    {
        const QString type = frame.value("type").toString();
        if (type == "hello") {
            if (m_script == Script::DropBeforeWelcome) {
                socket->abort();
                return;
            }
            send(socket,
                QJsonObject { { "type", "welcome" }, { "id", frame.value("id") },
                    { "session", QStringLiteral("s%1").arg(m_connections) }, { "node", "scripted" },
                    { "user", frame.value("user") }, { "heartbeat_ms", 30000 },
                    { "protocol", 1 } });
            for (const QJsonValue& cursor : frame.value("resume").toArray()) {
                const QString room = cursor.toObject().value("room").toString();
                sendJoined(socket, QString(), room);
                if (m_script == Script::DropDuringResume) {
                    continue;
                }
                send(socket,
                    QJsonObject { { "type", "recovered" }, { "room", room }, { "epoch", kEpoch },
                        { "seq", qint64(m_lastSeq[room]) }, { "recovered", true } });
                sendNewMessage(socket, room);
            }
            if (m_script == Script::DropDuringResume) {
                socket->close(QWebSocketProtocol::CloseCodeGoingAway);
            }
        } else if (type == "join" && m_script == Script::Serve) {
            const QString room = frame.value("room").toString();
            sendJoined(socket, frame.value("id").toString(), room);
            sendNewMessage(socket, room);
        }
    }

    static inline const QString kEpoch = QStringLiteral("9f2c41d07a3e5b68");
    QWebSocketServer m_server;
    Script m_script = Script::Serve;
    std::vector<QPointer<QWebSocket>> m_sockets;
    QHash<QString, quint64> m_lastSeq;
    int m_connections = 0;
};

// Backoff that grows fast and is never reset by uptime: only the connection's progress counts.
ClientOptions backoffOptions(const QUrl& url)
{
    auto options = ClientOptions::forServer(url, "alice");
    options.reconnect.initialDelay = std::chrono::milliseconds(10);
    options.reconnect.maxDelay = std::chrono::milliseconds(10000);
    options.reconnect.healthyAfter = std::chrono::hours(1);
    return options;
}

} // namespace

TEST(ClientOptions, ValidOptions)
{
    const auto options = ClientOptions::forServer(QUrl("ws://127.0.0.1:8080/v1/ws"), "alice");
    EXPECT_FALSE(options.validate().has_value());
    auto secure = ClientOptions::forServer(QUrl("wss://chat.example.org/v1/ws"), "a.b-c_9");
    secure.endpoints.append(QUrl("ws://10.0.0.2:8080/v1/ws"));
    EXPECT_FALSE(secure.validate().has_value());
}

TEST(ClientOptions, InvalidOptionsAreRejectedWithAReason)
{
    const auto base = ClientOptions::forServer(QUrl("ws://127.0.0.1:8080/v1/ws"), "alice");
    struct Case {
        const char* what;
        std::function<void(ClientOptions&)> change;
    };
    const Case cases[] = {
        { "no endpoint", [](ClientOptions& o) { o.endpoints.clear(); } },
        { "http scheme",
            [](ClientOptions& o) { o.endpoints = { QUrl("http://127.0.0.1:8080/") }; } },
        { "no host", [](ClientOptions& o) { o.endpoints = { QUrl("ws:///v1/ws") }; } },
        { "second endpoint bad", [](ClientOptions& o) { o.endpoints.append(QUrl("not a url")); } },
        { "empty user", [](ClientOptions& o) { o.user.clear(); } },
        { "user with space", [](ClientOptions& o) { o.user = "al ice"; } },
        { "user too long", [](ClientOptions& o) { o.user = QString(65, 'a'); } },
        { "zero request timeout",
            [](ClientOptions& o) { o.requestTimeout = std::chrono::milliseconds(0); } },
        { "negative message timeout",
            [](ClientOptions& o) { o.messageTimeout = std::chrono::milliseconds(-1); } },
        { "zero outbox count", [](ClientOptions& o) { o.maxOutboxMessages = 0; } },
        { "zero outbox bytes", [](ClientOptions& o) { o.maxOutboxBytes = 0; } },
        { "zero held", [](ClientOptions& o) { o.maxHeldMessages = 0; } },
        { "zero reconnect delay",
            [](ClientOptions& o) { o.reconnect.initialDelay = std::chrono::milliseconds(0); } },
        { "shrinking backoff", [](ClientOptions& o) { o.reconnect.factor = 0.5; } },
        { "cap below initial",
            [](ClientOptions& o) { o.reconnect.maxDelay = std::chrono::milliseconds(10); } },
        { "no failure allowed before fallback",
            [](ClientOptions& o) { o.transportFailuresBeforeFallback = 0; } },
        { "zero probe delay",
            [](ClientOptions& o) { o.upgradeProbeDelay = std::chrono::milliseconds(0); } },
        { "probe cap below first probe",
            [](ClientOptions& o) { o.upgradeProbeMaxDelay = std::chrono::milliseconds(10); } },
    };
    for (const auto& c : cases) {
        ClientOptions options = base;
        c.change(options);
        const auto error = options.validate();
        ASSERT_TRUE(error.has_value()) << c.what;
        EXPECT_EQ(error->code, ErrorCode::InvalidOptions) << c.what;
        EXPECT_FALSE(error->message.isEmpty()) << c.what;
    }
}

TEST(Client, InvalidOptionsFailConnectAfterTheCallReturns)
{
    Client client(ClientOptions::forServer(QUrl("http://nope"), "alice"));
    QSignalSpy errors(&client, &Client::errorOccurred);
    client.connectToServer();
    EXPECT_EQ(errors.count(), 0);
    ASSERT_TRUE(errors.wait(5000));
    EXPECT_EQ(errorArg(errors, 0, 0).code, ErrorCode::InvalidOptions);
    EXPECT_EQ(client.state(), ConnectionState::Disconnected);
}

TEST(Client, SendToARoomNotJoinedFailsWithItsId)
{
    Client client(ClientOptions::forServer(unusedPort(), "alice"));
    QSignalSpy failed(&client, &Client::messageFailed);
    const QString id = client.send("lobby", "hello");
    EXPECT_FALSE(id.isEmpty());
    EXPECT_EQ(failed.count(), 0); // reported after send() returned, so the id can be recorded first
    ASSERT_TRUE(failed.wait(5000));
    EXPECT_EQ(failed.at(0).at(0).toString(), id);
    EXPECT_EQ(errorArg(failed, 0, 1).code, ErrorCode::NotJoined);
    EXPECT_FALSE(errorArg(failed, 0, 1).retryable);
}

TEST(Client, EmptyMessagesFailLocally)
{
    Client client(ClientOptions::forServer(unusedPort(), "alice"));
    client.join("lobby");
    QSignalSpy failed(&client, &Client::messageFailed);
    const QString id = client.send("lobby", QString());
    ASSERT_TRUE(failed.wait(5000));
    EXPECT_EQ(failed.at(0).at(0).toString(), id);
    EXPECT_EQ(errorArg(failed, 0, 1).code, ErrorCode::EmptyBody);
    EXPECT_EQ(client.pendingMessageCount(), 0);
}

TEST(Client, ClientIdsAreUnique)
{
    Client client(ClientOptions::forServer(unusedPort(), "alice"));
    client.join("lobby");
    QSet<QString> ids;
    for (int i = 0; i < 200; ++i) {
        ids.insert(client.send("lobby", QStringLiteral("m%1").arg(i)));
    }
    EXPECT_EQ(ids.size(), 200);
    EXPECT_EQ(client.pendingMessageCount(), 200);
}

TEST(Client, TheOutboxIsBounded)
{
    auto options = ClientOptions::forServer(unusedPort(), "alice");
    options.maxOutboxMessages = 2;
    Client client(options);
    client.join("lobby");
    QSignalSpy failed(&client, &Client::messageFailed);
    client.send("lobby", "one");
    client.send("lobby", "two");
    const QString third = client.send("lobby", "three");
    ASSERT_TRUE(failed.wait(5000));
    ASSERT_EQ(failed.count(), 1);
    EXPECT_EQ(failed.at(0).at(0).toString(), third);
    EXPECT_EQ(errorArg(failed, 0, 1).code, ErrorCode::OutboxFull);
    // Queued while offline, waiting for a connection: nothing else failed.
    EXPECT_EQ(client.pendingMessageCount(), 2);
}

TEST(Client, InvalidRoomAndHistoryArgumentsFailLocally)
{
    Client client(ClientOptions::forServer(unusedPort(), "alice"));
    QSignalSpy joinFailed(&client, &Client::joinFailed);
    QSignalSpy historyFailed(&client, &Client::historyFailed);
    client.join("no spaces allowed");
    client.join("lobby");
    const QString both = client.fetchHistory("lobby", HistoryQuery { 5, 1, 10 });
    const QString notJoined = client.fetchHistory("elsewhere");
    const QString zero = client.fetchHistory("lobby", HistoryQuery::latest(0));
    ASSERT_TRUE(historyFailed.wait(5000));
    EXPECT_EQ(joinFailed.count(), 1);
    EXPECT_EQ(errorArg(joinFailed, 0, 1).code, ErrorCode::BadRoom);
    ASSERT_EQ(historyFailed.count(), 3);
    EXPECT_EQ(historyFailed.at(0).at(0).toString(), both);
    EXPECT_EQ(errorArg(historyFailed, 0, 2).code, ErrorCode::InvalidArgument);
    EXPECT_EQ(errorArg(historyFailed, 1, 2).code, ErrorCode::NotJoined);
    EXPECT_EQ(historyFailed.at(1).at(0).toString(), notJoined);
    EXPECT_EQ(errorArg(historyFailed, 2, 2).code, ErrorCode::InvalidArgument);
    EXPECT_EQ(historyFailed.at(2).at(0).toString(), zero);
}

TEST(Client, LeavingWhileOfflineFailsItsQueuedMessages)
{
    Client client(ClientOptions::forServer(unusedPort(), "alice"));
    client.join("lobby");
    const QString id = client.send("lobby", "never sent");
    QSignalSpy failed(&client, &Client::messageFailed);
    QSignalSpy left(&client, &Client::left);
    client.leave("lobby");
    EXPECT_EQ(failed.count(), 0);
    ASSERT_TRUE(left.wait(5000));
    // Posted before left(): already delivered.
    ASSERT_EQ(failed.count(), 1);
    EXPECT_EQ(failed.at(0).at(0).toString(), id);
    EXPECT_EQ(errorArg(failed, 0, 1).code, ErrorCode::NotJoined);
    EXPECT_EQ(client.pendingMessageCount(), 0);
}

TEST(Client, NothingListeningIsAConnectionFailure)
{
    auto options = ClientOptions::forServer(unusedPort(), "alice");
    options.reconnect.enabled = false;
    Client client(options);
    client.join("lobby");
    client.send("lobby", "kept for later");
    QSignalSpy states(&client, &Client::stateChanged);
    QSignalSpy errors(&client, &Client::errorOccurred);
    client.connectToServer();
    EXPECT_EQ(client.state(), ConnectionState::Connecting);
    ASSERT_TRUE(errors.wait(10000));
    EXPECT_EQ(errorArg(errors, 0, 0).code, ErrorCode::ConnectionFailed);
    EXPECT_TRUE(errorArg(errors, 0, 0).retryable);
    EXPECT_EQ(client.state(), ConnectionState::Disconnected);
    ASSERT_EQ(states.count(), 2);
    EXPECT_EQ(states.at(0).at(0).value<ConnectionState>(), ConnectionState::Connecting);
    EXPECT_EQ(states.at(1).at(0).value<ConnectionState>(), ConnectionState::Disconnected);
    // The outbox keeps the message for the next connection.
    EXPECT_EQ(client.pendingMessageCount(), 1);
}

TEST(Client, NegotiationFallsThroughTheOrderAndStartsOverWhenNothingOpens)
{
    // Reachable, but every connection is closed at once: neither a WebSocket handshake nor an
    // HTTP answer ever comes back (a hostile middlebox).
    QTcpServer hangUp;
    ASSERT_TRUE(hangUp.listen(QHostAddress::LocalHost, 0));
    QObject::connect(&hangUp, &QTcpServer::newConnection, &hangUp, [&] {
        while (QTcpSocket* socket = hangUp.nextPendingConnection()) {
            socket->abort();
            socket->deleteLater();
        }
    });
    auto options = ClientOptions::forServer(
        QUrl(QStringLiteral("ws://127.0.0.1:%1/v1/ws").arg(hangUp.serverPort())), "alice");
    options.reconnect.initialDelay = std::chrono::milliseconds(5);
    options.reconnect.maxDelay = std::chrono::milliseconds(10);
    options.transportFailuresBeforeFallback = 2;
    Client client(options);
    EXPECT_EQ(client.transport(), TransportKind::WebSocket);
    QSignalSpy changes(&client, &Client::transportChanged);
    QSignalSpy scheduled(&client, &Client::reconnectScheduled);
    client.connectToServer();
    // Two failed opens per kind: WebSocket, WebSocket, SSE, SSE, long-poll, long-poll, WebSocket.
    while (changes.count() < 3) {
        ASSERT_TRUE(changes.wait(10000));
    }
    const QList<TransportKind> expected { TransportKind::Sse, TransportKind::LongPoll,
        TransportKind::WebSocket };
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(changes.at(i).at(0).value<TransportKind>(), expected.at(i)) << i;
    }
    EXPECT_GE(scheduled.count(), 6);
    client.disconnectFromServer();
}

TEST(Client, AServerThatIsDownDoesNotMoveNegotiationOn)
{
    // Connection refused says the server is down, not that WebSocket is blocked: falling back
    // would only land the returning clients on a fallback and upgrade them all a second time.
    auto options = ClientOptions::forServer(unusedPort(), "alice");
    options.reconnect.initialDelay = std::chrono::milliseconds(5);
    options.reconnect.maxDelay = std::chrono::milliseconds(10);
    options.transportFailuresBeforeFallback = 1;
    Client client(options);
    QSignalSpy changes(&client, &Client::transportChanged);
    QSignalSpy scheduled(&client, &Client::reconnectScheduled);
    client.connectToServer();
    while (scheduled.count() < 6) {
        ASSERT_TRUE(scheduled.wait(10000));
    }
    EXPECT_EQ(changes.count(), 0);
    EXPECT_EQ(client.transport(), TransportKind::WebSocket);
    client.disconnectFromServer();
}

TEST(Client, NoWelcomeWithinTheRequestTimeoutCountsAsAFailedOpen)
{
    // Accepts and says nothing: a proxy that black-holes the upgrade.
    QTcpServer silent;
    ASSERT_TRUE(silent.listen(QHostAddress::LocalHost, 0));
    auto options = ClientOptions::forServer(
        QUrl(QStringLiteral("ws://127.0.0.1:%1/v1/ws").arg(silent.serverPort())), "alice");
    options.requestTimeout = std::chrono::milliseconds(150);
    options.reconnect.initialDelay = std::chrono::milliseconds(5);
    options.reconnect.maxDelay = std::chrono::milliseconds(10);
    Client client(options);
    QSignalSpy changes(&client, &Client::transportChanged);
    QSignalSpy errors(&client, &Client::errorOccurred);
    client.connectToServer();
    ASSERT_TRUE(changes.wait(10000));
    EXPECT_EQ(changes.at(0).at(0).value<TransportKind>(), TransportKind::Sse);
    ASSERT_GE(errors.count(), 2);
    EXPECT_EQ(errorArg(errors, 0, 0).code, ErrorCode::Timeout);
    EXPECT_EQ(errorArg(errors, 1, 0).code, ErrorCode::Timeout);
    client.disconnectFromServer();
}

TEST(Client, AForcedTransportIsTheOnlyOneTried)
{
    auto options = ClientOptions::forServer(unusedPort(), "alice");
    options.reconnect.initialDelay = std::chrono::milliseconds(5);
    options.reconnect.maxDelay = std::chrono::milliseconds(10);
    options.transport = TransportKind::LongPoll;
    Client client(options);
    QSignalSpy changes(&client, &Client::transportChanged);
    QSignalSpy scheduled(&client, &Client::reconnectScheduled);
    client.connectToServer();
    while (scheduled.count() < 5) {
        ASSERT_TRUE(scheduled.wait(10000));
    }
    EXPECT_EQ(client.transport(), TransportKind::LongPoll);
    ASSERT_EQ(changes.count(), 1);
    EXPECT_EQ(changes.at(0).at(0).value<TransportKind>(), TransportKind::LongPoll);
    client.disconnectFromServer();
}

TEST(Client, AServerThatNeverAnswersTimesOutTheHandshake)
{
    // A real TCP listener that accepts and says nothing (no WebSocket upgrade answer).
    QTcpServer silent;
    ASSERT_TRUE(silent.listen(QHostAddress::LocalHost, 0));
    auto options = ClientOptions::forServer(
        QUrl(QStringLiteral("ws://127.0.0.1:%1/v1/ws").arg(silent.serverPort())), "alice");
    options.requestTimeout = std::chrono::milliseconds(300);
    options.reconnect.enabled = false;
    Client client(options);
    QSignalSpy errors(&client, &Client::errorOccurred);
    client.connectToServer();
    ASSERT_TRUE(errors.wait(10000));
    EXPECT_EQ(errorArg(errors, 0, 0).code, ErrorCode::Timeout);
    EXPECT_EQ(client.state(), ConnectionState::Disconnected);
}

TEST(Client, DisconnectClosesWithoutAnError)
{
    QTcpServer silent;
    ASSERT_TRUE(silent.listen(QHostAddress::LocalHost, 0));
    Client client(ClientOptions::forServer(
        QUrl(QStringLiteral("ws://127.0.0.1:%1/v1/ws").arg(silent.serverPort())), "alice"));
    QSignalSpy errors(&client, &Client::errorOccurred);
    client.connectToServer();
    client.disconnectFromServer();
    EXPECT_EQ(client.state(), ConnectionState::Closed);
    // Let every queued event of the abandoned attempt run: still no error.
    for (int i = 0; i < 3; ++i) {
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents();
    }
    EXPECT_EQ(errors.count(), 0);
    EXPECT_EQ(client.state(), ConnectionState::Closed);
}

TEST(Client, RetriesWithGrowingJitteredDelaysUntilClosed)
{
    auto options = ClientOptions::forServer(unusedPort(), "alice");
    options.endpoints.append(unusedPort());
    options.reconnect.initialDelay = std::chrono::milliseconds(10);
    options.reconnect.maxDelay = std::chrono::milliseconds(40);
    Client client(options);
    QSignalSpy scheduled(&client, &Client::reconnectScheduled);
    QSignalSpy errors(&client, &Client::errorOccurred);
    client.connectToServer();
    while (scheduled.count() < 4) {
        ASSERT_TRUE(scheduled.wait(10000));
    }
    EXPECT_EQ(client.state(), ConnectionState::Reconnecting);
    const int ceilings[] = { 10, 20, 40, 40 };
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(scheduled.at(i).at(0).toInt(), i + 1);
        EXPECT_GE(scheduled.at(i).at(1).toInt(), 0);
        EXPECT_LE(scheduled.at(i).at(1).toInt(), ceilings[i]) << "attempt " << i + 1;
        EXPECT_EQ(errorArg(errors, i, 0).code, ErrorCode::ConnectionFailed);
    }
    client.disconnectFromServer();
    EXPECT_EQ(client.state(), ConnectionState::Closed);
    const qsizetype after = scheduled.count();
    for (int i = 0; i < 3; ++i) {
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents();
    }
    EXPECT_EQ(scheduled.count(), after);
    EXPECT_EQ(client.state(), ConnectionState::Closed);
}

TEST(Client, MessageStatesAreReportedAfterTheCallInOrder)
{
    Client client(ClientOptions::forServer(unusedPort(), "alice"));
    client.join("lobby");
    QSignalSpy states(&client, &Client::messageStateChanged);
    const QString id = client.send("lobby", "hello");
    EXPECT_EQ(states.count(), 0); // posted, not emitted from inside send()
    EXPECT_EQ(client.messageState(id), MessageState::Queued);
    ASSERT_TRUE(states.wait(5000));
    EXPECT_EQ(states.at(0).at(0).toString(), id);
    EXPECT_EQ(states.at(0).at(1).value<MessageState>(), MessageState::Queued);
    EXPECT_EQ(messageStateName(MessageState::Acked), QStringLiteral("acked"));
}

TEST(Client, AFailedMessageCanBeRetriedWithItsIdOrDiscarded)
{
    auto options = ClientOptions::forServer(unusedPort(), "alice");
    options.maxOutboxMessages = 1;
    Client client(options);
    client.join("lobby");
    QSignalSpy failed(&client, &Client::messageFailed);
    QSignalSpy states(&client, &Client::messageStateChanged);
    const QString first = client.send("lobby", "one");
    const QString second = client.send("lobby", "two"); // past the bound
    ASSERT_TRUE(failed.wait(5000));
    EXPECT_EQ(failed.at(0).at(0).toString(), second);
    EXPECT_EQ(client.messageState(second), MessageState::Failed);
    EXPECT_EQ(client.failedMessages(), QStringList { second });
    // Still full: the retry fails again, under the same id.
    EXPECT_TRUE(client.retry(second));
    ASSERT_TRUE(failed.wait(5000));
    EXPECT_EQ(failed.at(1).at(0).toString(), second);
    EXPECT_EQ(errorArg(failed, 1, 1).code, ErrorCode::OutboxFull);

    // Room again: the retry is accepted and queued with the same id.
    client.leave("lobby"); // fails `first` (queued, never sent)
    client.join("lobby");
    ASSERT_TRUE(failed.wait(5000));
    EXPECT_EQ(client.messageState(first), MessageState::Failed);
    EXPECT_TRUE(client.retry(second));
    EXPECT_EQ(client.messageState(second), MessageState::Queued);
    EXPECT_EQ(client.pendingMessageCount(), 1);
    EXPECT_FALSE(client.retry(second)); // not failed any more

    EXPECT_TRUE(client.discard(first));
    EXPECT_FALSE(client.messageState(first).has_value());
    EXPECT_FALSE(client.discard(first));
    EXPECT_FALSE(client.discard(QStringLiteral("unknown")));
    EXPECT_TRUE(client.failedMessages().isEmpty());
}

TEST(Client, NotReconnectingMeansNoAttemptAndNoNextTry)
{
    Client client(ClientOptions::forServer(unusedPort(), "alice"));
    EXPECT_EQ(client.reconnectAttempt(), 0);
    EXPECT_TRUE(client.nextReconnectAt().isNull());
}

TEST(ClientBackoff, AConnectionThatFinishedItsResumeLetsTheNextLossStartOver)
{
    // Flapping: a server that crashes at start a few times (the attempt count grows), then
    // serves, then goes away again and again for short outages. After each connection that got
    // its welcome and its resume, the next loss must start from the first, short delay, not
    // from wherever the last outage left the count (up to 23 s of silence after 1.7 s down).
    ScriptedServer server;
    server.setScript(ScriptedServer::Script::DropBeforeWelcome);
    Client client(backoffOptions(server.url()));
    QSignalSpy scheduled(&client, &Client::reconnectScheduled);
    QSignalSpy received(&client, &Client::messageReceived);
    client.join("lobby");
    client.connectToServer();
    while (scheduled.count() < 3) {
        ASSERT_TRUE(scheduled.wait(10000));
    }
    EXPECT_EQ(scheduled.at(2).at(0).toInt(), 3);

    server.setScript(ScriptedServer::Script::Serve);
    for (int cycle = 0; cycle < 3; ++cycle) {
        // The room is joined (first cycle) or resumed (later ones), and a message delivered
        // after it: the client handled the whole resume.
        const qsizetype before = received.count();
        while (received.count() == before) {
            ASSERT_TRUE(received.wait(10000)) << "cycle " << cycle;
        }
        ASSERT_EQ(client.state(), ConnectionState::Connected);
        const qsizetype drops = scheduled.count();
        server.dropAll();
        while (scheduled.count() == drops) {
            ASSERT_TRUE(scheduled.wait(10000)) << "cycle " << cycle;
        }
        EXPECT_EQ(scheduled.last().at(0).toInt(), 1) << "cycle " << cycle;
        EXPECT_LE(scheduled.last().at(1).toInt(), 10) << "cycle " << cycle;
    }
    EXPECT_EQ(received.count(), 3);
    client.disconnectFromServer();
}

TEST(ClientBackoff, AServerThatDropsBeforeTheResumeCompletesGetsGrowingDelays)
{
    // A server that accepts and welcomes, then crashes while replaying: each connection proved
    // nothing, so the retries spread out (attempts 1, 2, 3, ... with growing ceilings) instead
    // of hammering it every few milliseconds. Counted in attempts, not time.
    ScriptedServer server;
    Client client(backoffOptions(server.url()));
    QSignalSpy scheduled(&client, &Client::reconnectScheduled);
    QSignalSpy received(&client, &Client::messageReceived);
    client.join("lobby");
    client.connectToServer();
    ASSERT_TRUE(received.wait(10000)); // joined: the client has a cursor to resume from

    server.setScript(ScriptedServer::Script::DropDuringResume);
    server.dropAll();
    while (scheduled.count() < 6) {
        ASSERT_TRUE(scheduled.wait(10000));
    }
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(scheduled.at(i).at(0).toInt(), i + 1) << "loss " << i;
    }
    // One connection per attempt, each welcomed and dropped mid-resume.
    EXPECT_GE(server.connections(), 6);
    client.disconnectFromServer();
}

TEST(ClientBackoff, AServerThatCrashesBeforeWelcomeGetsGrowingDelays)
{
    ScriptedServer server;
    Client client(backoffOptions(server.url()));
    QSignalSpy scheduled(&client, &Client::reconnectScheduled);
    QSignalSpy received(&client, &Client::messageReceived);
    client.join("lobby");
    client.connectToServer();
    ASSERT_TRUE(received.wait(10000));

    server.setScript(ScriptedServer::Script::DropBeforeWelcome);
    server.dropAll();
    while (scheduled.count() < 6) {
        ASSERT_TRUE(scheduled.wait(10000));
    }
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(scheduled.at(i).at(0).toInt(), i + 1) << "loss " << i;
    }
    client.disconnectFromServer();
}

TEST(Client, ACallerChosenClientIdIsKeptAndChecked)
{
    Client client(ClientOptions::forServer(unusedPort(), "alice"));
    client.join("lobby");
    QSignalSpy failed(&client, &Client::messageFailed);
    EXPECT_EQ(client.send("lobby", "first", "run7:1"), QStringLiteral("run7:1"));
    EXPECT_EQ(client.messageState("run7:1"), MessageState::Queued);
    // Refused after the call returns, without disturbing the message that holds the id.
    EXPECT_EQ(client.send("lobby", "again", "run7:1"), QStringLiteral("run7:1"));
    EXPECT_EQ(client.send("lobby", "no id", QString()), QString());
    const QString tooLong(65, QLatin1Char('k'));
    EXPECT_EQ(client.send("lobby", "long id", tooLong), tooLong);
    EXPECT_EQ(failed.count(), 0);
    ASSERT_TRUE(QTest::qWaitFor([&] { return failed.count() == 3; }, 5000));
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(errorArg(failed, i, 1).code, ErrorCode::InvalidArgument);
    }
    EXPECT_EQ(failed.at(0).at(0).toString(), QStringLiteral("run7:1"));
    EXPECT_EQ(client.messageState("run7:1"), MessageState::Queued);
    EXPECT_EQ(client.pendingMessageCount(), 1);
    EXPECT_TRUE(client.failedMessages().isEmpty());
}
