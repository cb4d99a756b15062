// parley-desktop against a real parleyd, with the `parley` CLI as the other user:
// - a message sent with the CLI appears in the view;
// - a message typed into the input and sent with Enter reaches a CLI `tail`;
// - killing and restarting the server shows "reconnecting", then "connected", and the message
//   typed meanwhile is delivered exactly once;
// - older history loads as the user scrolls up;
// - rooms whose messages share seqs each paint their own texts, across Ctrl+Up/Ctrl+Down;
// - a screenshot of the window with a conversation is saved to the build directory.
#include "app/chatsession.h"
#include "controllers/chatcontroller.h"
#include "controllers/connectioncontroller.h"
#include "models/messagemodel.h"
#include "models/roomlistmodel.h"
#include "paintedtext.h"
#include "serverprocess.h"
#include "waituntil.h"
#include "widgets/connectionstatuswidget.h"
#include "widgets/mainwindow.h"
#include "widgets/messagecomposer.h"
#include "widgets/messageview.h"

#include <QApplication>
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QPushButton>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>
#include <gtest/gtest.h>
#include <memory>
#include <parley/client.h>

using namespace parley::desktop;
using namespace std::chrono_literals;
using parley::desktop::test::paintedTextIn;
using parley::desktop::test::paintedTexts;
using parley::test::waitUntil;
using parley::test::ServerProcess;

namespace {

QString cliPath()
{
    return QStringLiteral(PARLEY_BINARY_DIR "/cli/parley");
}

struct CliResult {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

//! Runs the CLI to completion without blocking the app's event loop.
CliResult runCli(const QStringList& args, const QByteArray& input = QByteArray())
{
    QProcess process;
    QSignalSpy finished(&process, &QProcess::finished);
    process.start(cliPath(), args);
    if (!input.isNull()) {
        process.write(input);
        process.closeWriteChannel();
    }
    CliResult result;
    if (!finished.wait(30000)) {
        process.kill();
        process.waitForFinished(5000);
        result.err = "[timed out] " + process.readAllStandardError();
        return result;
    }
    result.exitCode = process.exitCode();
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    return result;
}

//! The row of `model` showing `body`, or -1.
int rowWithBody(const MessageModel* model, const QString& body)
{
    for (int row = 0; row < model->rowCount(); ++row) {
        if (model->index(row).data(MessageModel::BodyRole).toString() == body) {
            return row;
        }
    }
    return -1;
}

bool isConfirmed(const MessageModel* model, int row)
{
    return row >= 0
        && model->index(row).data(MessageModel::DeliveryRole).toInt()
        == int(TimelineEntry::Delivery::Confirmed)
        && model->index(row).data(MessageModel::SeqRole).toULongLong() > 0;
}

class DesktopAppTest : public ::testing::Test {
protected:
    explicit DesktopAppTest(QStringList serverArgs = {})
        : server(std::move(serverArgs))
    {
    }

    void SetUp() override
    {
        ASSERT_TRUE(QFile::exists(ServerProcess::executable())) << "build parleyd first";
        ASSERT_TRUE(QFile::exists(cliPath())) << "build the parley CLI first";
        ASSERT_TRUE(server.start()) << server.output().toStdString();
        url = server.webSocketUrl().toString();
    }

    void TearDown() override { session.reset(); }

    //! Starts the app's session as `user` with `rooms` open, and waits until it is in them.
    void startApp(const QStringList& rooms, const QString& user = QStringLiteral("alice"))
    {
        LaunchOptions options;
        options.server = server.webSocketUrl();
        options.user = user;
        options.rooms = rooms;
        session = std::make_unique<ChatSession>(options, nullptr);
        setReconnectDelay(400ms);
        session->window().resize(1100, 680);
        session->window().show();
        QApplication::setActiveWindow(&session->window());
        session->start();
        ASSERT_TRUE(waitUntil([&] {
            for (const auto& room : rooms) {
                if (chat().roomList()->joinState(room) != RoomListModel::JoinState::Joined
                    || chat().isLoadingHistory(room)) {
                    return false;
                }
            }
            return connection().status() == ConnectionController::Status::Connected;
        })) << "the app did not connect and join";
    }

    //! The bound of the SDK's reconnect backoff (takes effect at the next connect).
    void setReconnectDelay(std::chrono::milliseconds bound)
    {
        auto options = session->client().options();
        options.reconnect.initialDelay = bound;
        options.reconnect.maxDelay = bound;
        session->client().setOptions(options);
    }

    CliResult send(const QString& room, const QString& user, const QString& text)
    {
        return runCli({ QStringLiteral("send"), room, text, QStringLiteral("--server"), url,
            QStringLiteral("--user"), user });
    }

    ChatController& chat() const { return session->chat(); }
    ConnectionController& connection() const { return session->connection(); }
    MainWindow& window() const { return session->window(); }

    ServerProcess server;
    QString url;
    std::unique_ptr<ChatSession> session;
};

//! A server that accepts message bodies of at most 64 bytes.
class DesktopAppSmallBodyTest : public DesktopAppTest {
protected:
    DesktopAppSmallBodyTest()
        : DesktopAppTest({ QStringLiteral("--max-body-bytes"), QStringLiteral("64") })
    {
    }
};

} // namespace

TEST_F(DesktopAppTest, MessageSentWithTheCliAppearsInTheView)
{
    startApp({ QStringLiteral("lobby") });
    const CliResult sent = send(
        QStringLiteral("lobby"), QStringLiteral("bob"), QStringLiteral("hello from the cli"));
    ASSERT_EQ(sent.exitCode, 0) << sent.err.toStdString();

    MessageModel* lobby = chat().messages(QStringLiteral("lobby"));
    int row = -1;
    ASSERT_TRUE(waitUntil([&] {
        row = rowWithBody(lobby, QStringLiteral("hello from the cli"));
        return row >= 0;
    }));
    EXPECT_EQ(lobby->index(row).data(MessageModel::SenderRole).toString(), QStringLiteral("bob"));
    EXPECT_TRUE(isConfirmed(lobby, row));

    // Shown: the view displays this room and the row is inside the visible area.
    MessageView* view = window().messageView();
    ASSERT_EQ(view->model(), lobby);
    ASSERT_TRUE(waitUntil([&] {
        const QRect rect = view->visualRect(lobby->index(row));
        return rect.isValid() && view->viewport()->rect().intersects(rect);
    }));
    EXPECT_EQ(chat().roomList()->index(0).data(RoomListModel::PreviewRole).toString(),
        QStringLiteral("bob: hello from the cli"));
}

TEST_F(DesktopAppTest, MessageTypedAndSentWithEnterReachesAnotherClient)
{
    startApp({ QStringLiteral("lobby") });

    QProcess tail;
    tail.start(cliPath(),
        { QStringLiteral("tail"), QStringLiteral("lobby"), QStringLiteral("--json"),
            QStringLiteral("--server"), url, QStringLiteral("--user"), QStringLiteral("carol") });
    QByteArray tailErr;
    ASSERT_TRUE(waitUntil([&] {
        tailErr += tail.readAllStandardError();
        return tailErr.contains("parley: following lobby");
    })) << tailErr.toStdString();

    MessageComposer* composer = window().composer();
    QTest::keyClicks(composer, QStringLiteral("hi from the desktop"));
    QTest::keyClick(composer, Qt::Key_Return, Qt::ShiftModifier);
    QTest::keyClicks(composer, QStringLiteral("second line"));
    QTest::keyClick(composer, Qt::Key_Return);
    const QString body = QStringLiteral("hi from the desktop\nsecond line");

    // Shown at once, as pending.
    MessageModel* lobby = chat().messages(QStringLiteral("lobby"));
    const int pendingRow = rowWithBody(lobby, body);
    ASSERT_GE(pendingRow, 0);
    EXPECT_TRUE(composer->toPlainText().isEmpty());

    QJsonObject received;
    QByteArray buffer;
    ASSERT_TRUE(waitUntil([&] {
        buffer += tail.readAllStandardOutput();
        while (buffer.contains('\n')) {
            const int nl = buffer.indexOf('\n');
            const QJsonObject line = QJsonDocument::fromJson(buffer.left(nl)).object();
            buffer.remove(0, nl + 1);
            if (line.value(QStringLiteral("body")).toString() == body) {
                received = line;
                return true;
            }
        }
        return false;
    })) << "the CLI tail never printed the message";
    EXPECT_EQ(received.value(QStringLiteral("sender")).toString(), QStringLiteral("alice"));

    // And the sender's own row turns confirmed with the same position in the room.
    int row = -1;
    ASSERT_TRUE(waitUntil([&] {
        row = rowWithBody(lobby, body);
        return isConfirmed(lobby, row);
    }));
    EXPECT_EQ(lobby->index(row).data(MessageModel::SeqRole).toLongLong(),
        received.value(QStringLiteral("seq")).toInteger());

    tail.terminate();
    QSignalSpy finished(&tail, &QProcess::finished);
    if (tail.state() != QProcess::NotRunning && !finished.wait(10000)) {
        tail.kill();
    }
}

TEST_F(DesktopAppTest, ServerRestartShowsReconnectingAndDeliversThePendingMessageOnce)
{
    startApp({ QStringLiteral("lobby") });
    // A long backoff: the countdown is visible, and "Reconnect now" is what brings the app back.
    setReconnectDelay(60s);
    session->client().disconnectFromServer();
    connection().start();
    ASSERT_TRUE(
        waitUntil([&] { return connection().status() == ConnectionController::Status::Connected; }));
    ConnectionStatusWidget* status = window().connectionStatus();
    EXPECT_TRUE(status->text().startsWith(QStringLiteral("Connected")))
        << status->text().toStdString();
    EXPECT_TRUE(status->text().endsWith(QStringLiteral("over WebSocket")))
        << status->text().toStdString();
    EXPECT_FALSE(status->reconnectButton()->isVisibleTo(status));

    server.kill();
    ASSERT_TRUE(waitUntil([&] {
        return connection().status() == ConnectionController::Status::Reconnecting
            && connection().secondsUntilRetry() >= 0;
    }));
    EXPECT_TRUE(status->text().startsWith(QStringLiteral("Connection lost. Reconnecting in")))
        << status->text().toStdString();
    EXPECT_TRUE(status->reconnectButton()->isVisibleTo(status));

    // Typed while offline: shown as pending, kept by the SDK's outbox.
    const QString body = QStringLiteral("sent while the server was down");
    QTest::keyClicks(window().composer(), body);
    QTest::keyClick(window().composer(), Qt::Key_Return);
    MessageModel* lobby = chat().messages(QStringLiteral("lobby"));
    const int row = rowWithBody(lobby, body);
    ASSERT_GE(row, 0);
    EXPECT_EQ(lobby->index(row).data(MessageModel::DeliveryRole).toInt(),
        int(TimelineEntry::Delivery::Pending));

    ASSERT_TRUE(server.restart()) << server.output().toStdString();
    // "Reconnect now" skips whatever is left of the backoff.
    ASSERT_TRUE(waitUntil([&] { return status->reconnectButton()->isVisibleTo(status); }));
    QTest::mouseClick(status->reconnectButton(), Qt::LeftButton);
    EXPECT_NE(connection().status(), ConnectionController::Status::Reconnecting);
    ASSERT_TRUE(waitUntil([&] {
        return connection().status() == ConnectionController::Status::Connected;
    })) << status->text().toStdString();
    EXPECT_TRUE(status->text().startsWith(QStringLiteral("Connected")));
    ASSERT_TRUE(waitUntil([&] { return isConfirmed(lobby, rowWithBody(lobby, body)); }));

    // Exactly once on the server, and once in the view.
    const CliResult history
        = runCli({ QStringLiteral("history"), QStringLiteral("lobby"), QStringLiteral("--json"),
            QStringLiteral("--server"), url, QStringLiteral("--user"), QStringLiteral("dave") });
    ASSERT_EQ(history.exitCode, 0) << history.err.toStdString();
    int copies = 0;
    for (const QByteArray& line : history.out.split('\n')) {
        if (QJsonDocument::fromJson(line).object().value(QStringLiteral("body")).toString()
            == body) {
            ++copies;
        }
    }
    EXPECT_EQ(copies, 1);
    int rows = 0;
    for (int r = 0; r < lobby->rowCount(); ++r) {
        rows += lobby->index(r).data(MessageModel::BodyRole).toString() == body ? 1 : 0;
    }
    EXPECT_EQ(rows, 1);
}

TEST_F(DesktopAppTest, OlderHistoryLoadsWhenScrollingUp)
{
    QByteArray lines;
    for (int i = 1; i <= 120; ++i) {
        lines += QStringLiteral("archived message %1\n").arg(i).toUtf8();
    }
    const CliResult sent
        = runCli({ QStringLiteral("send"), QStringLiteral("archive"), QStringLiteral("--server"),
                     url, QStringLiteral("--user"), QStringLiteral("bob") },
            lines);
    ASSERT_EQ(sent.exitCode, 0) << sent.err.toStdString();

    startApp({ QStringLiteral("archive") });
    MessageModel* archive = chat().messages(QStringLiteral("archive"));
    EXPECT_GE(archive->rowCount(), ChatController::HistoryPageSize);
    EXPECT_LT(archive->rowCount(), 120) << "only the newest page is loaded at first";
    EXPECT_EQ(archive->newestSeq(), 120u);

    QScrollBar* bar = window().messageView()->verticalScrollBar();
    ASSERT_TRUE(waitUntil([&] {
        // The user keeps scrolling to the top; each time older messages are inserted above.
        bar->setValue(bar->minimum());
        return archive->rowCount() == 120 && !chat().hasOlderMessages(QStringLiteral("archive"));
    })) << archive->rowCount();
    for (int row = 0; row < 120; ++row) {
        ASSERT_EQ(archive->index(row).data(MessageModel::SeqRole).toULongLong(), quint64(row + 1));
    }
    EXPECT_EQ(archive->index(0).data(MessageModel::BodyRole).toString(),
        QStringLiteral("archived message 1"));
}

TEST_F(DesktopAppTest, RoomsWithTheSameSeqsEachPaintTheirOwnTexts)
{
    // The first message of every room is seq 1 on the server: #dev's, sent with the CLI, and the
    // one alice types in #lobby.
    ASSERT_EQ(
        send(QStringLiteral("dev"), QStringLiteral("bob"), QStringLiteral("first message in #dev"))
            .exitCode,
        0);
    startApp({ QStringLiteral("dev"), QStringLiteral("lobby") });
    ASSERT_TRUE(waitUntil([&] {
        return QApplication::activeWindow() == &window()
            && QGuiApplication::focusWindow() == window().windowHandle();
    })) << "Ctrl+Up/Down are window shortcuts: the window must be active";
    MessageView* view = window().messageView();
    MessageModel* dev = chat().messages(QStringLiteral("dev"));
    MessageModel* lobby = chat().messages(QStringLiteral("lobby"));

    // What the timeline paints for each row of `model`, once it shows all of them.
    auto paintedRows = [&](MessageModel* model) {
        QStringList rows;
        if (!waitUntil([&] {
                const QRect last = view->visualRect(model->index(model->rowCount() - 1));
                return view->model() == model && last.height() > 0
                    && view->viewport()->rect().contains(last);
            })) {
            return rows;
        }
        const auto texts = paintedTexts(*view->viewport());
        for (int row = 0; row < model->rowCount(); ++row) {
            rows.append(paintedTextIn(texts, view->visualRect(model->index(row))));
        }
        return rows;
    };

    ASSERT_EQ(dev->rowCount(), 1);
    QStringList painted = paintedRows(dev);
    ASSERT_EQ(painted.size(), 1);
    EXPECT_TRUE(painted.at(0).contains(QStringLiteral("first message in #dev")))
        << painted.at(0).toStdString();

    QTest::keyClick(window().composer(), Qt::Key_Down, Qt::ControlModifier);
    ASSERT_EQ(chat().currentRoom(), QStringLiteral("lobby"));
    QTest::keyClicks(window().composer(), QStringLiteral("hello from alice"));
    QTest::keyClick(window().composer(), Qt::Key_Return);
    ASSERT_TRUE(waitUntil([&] { return isConfirmed(lobby, 0); }));
    ASSERT_EQ(lobby->index(0).data(MessageModel::SeqRole).toULongLong(), 1u);
    ASSERT_EQ(dev->index(0).data(MessageModel::SeqRole).toULongLong(), 1u);
    painted = paintedRows(lobby);
    ASSERT_EQ(painted.size(), 1);
    EXPECT_TRUE(painted.at(0).contains(QStringLiteral("hello from alice")))
        << painted.at(0).toStdString();
    EXPECT_FALSE(painted.at(0).contains(QStringLiteral("#dev"))) << painted.at(0).toStdString();

    QTest::keyClick(window().composer(), Qt::Key_Up, Qt::ControlModifier);
    painted = paintedRows(dev);
    ASSERT_EQ(painted.size(), 1);
    EXPECT_TRUE(painted.at(0).contains(QStringLiteral("first message in #dev")))
        << painted.at(0).toStdString();
    QTest::keyClick(window().composer(), Qt::Key_Down, Qt::ControlModifier);
    painted = paintedRows(lobby);
    ASSERT_EQ(painted.size(), 1);
    EXPECT_TRUE(painted.at(0).contains(QStringLiteral("hello from alice")))
        << painted.at(0).toStdString();
}

TEST_F(DesktopAppTest, ScreenshotOfAConversation)
{
    // A little conversation, with replies from the desktop user in between.
    ASSERT_EQ(send(QStringLiteral("lobby"), QStringLiteral("bob"),
                  QStringLiteral("Morning all! The release notes draft is up: "
                                 "https://parley.example/notes/0.1"))
                  .exitCode,
        0);
    ASSERT_EQ(send(QStringLiteral("lobby"), QStringLiteral("bob"),
                  QStringLiteral("Could someone check the reconnect section?"))
                  .exitCode,
        0);
    startApp({ QStringLiteral("lobby"), QStringLiteral("dev"), QStringLiteral("random") });
    chat().setCurrentRoom(QStringLiteral("lobby"));
    chat().setWindowActive(true);
    QSignalSpy notified(&chat(), &ChatController::notificationRequested);

    QProcess carolTail;
    carolTail.start(cliPath(),
        { QStringLiteral("tail"), QStringLiteral("lobby"), QStringLiteral("--server"), url,
            QStringLiteral("--user"), QStringLiteral("carol") });
    QByteArray err;
    ASSERT_TRUE(waitUntil([&] {
        err += carolTail.readAllStandardError();
        return err.contains("parley: following");
    }));

    MessageComposer* composer = window().composer();
    QTest::keyClicks(composer, QStringLiteral("On it. Two things so far:"));
    QTest::keyClick(composer, Qt::Key_Return, Qt::ShiftModifier);
    QTest::keyClicks(composer, QStringLiteral("1. the backoff numbers are out of date"));
    QTest::keyClick(composer, Qt::Key_Return, Qt::ShiftModifier);
    QTest::keyClicks(composer, QStringLiteral("2. it should say that pending messages are kept"));
    QTest::keyClick(composer, Qt::Key_Return);
    MessageModel* lobby = chat().messages(QStringLiteral("lobby"));
    // Each reply is stored before the next message, so the order is the one written here.
    ASSERT_TRUE(waitUntil([&] { return lobby->rowCount() == 3 && isConfirmed(lobby, 2); }));
    ASSERT_EQ(send(QStringLiteral("lobby"), QStringLiteral("carol"),
                  QStringLiteral("I can take the second one. Messages sent while offline wait in "
                                 "the outbox and go out once, with the same id, after the "
                                 "reconnect, so nobody sees a duplicate."))
                  .exitCode,
        0);
    ASSERT_TRUE(waitUntil([&] { return lobby->rowCount() == 4; }));
    QTest::keyClicks(composer, QStringLiteral("Perfect, thanks!"));
    QTest::keyClick(composer, Qt::Key_Return);
    ASSERT_EQ(
        send(QStringLiteral("dev"), QStringLiteral("bob"), QStringLiteral("CI is green again"))
            .exitCode,
        0);
    ASSERT_EQ(send(QStringLiteral("dev"), QStringLiteral("carol"),
                  QStringLiteral("Nice, thanks for fixing it"))
                  .exitCode,
        0);

    ASSERT_TRUE(waitUntil([&] {
        return lobby->rowCount() == 5 && isConfirmed(lobby, 4)
            && chat().roomList()->unreadCount(QStringLiteral("dev")) == 2;
    }));
    // Messages in a room not in view are notified and counted as unread; those in view are not.
    QStringList notifiedRooms;
    for (const auto& args : notified) {
        notifiedRooms.append(args.at(0).toString());
    }
    EXPECT_EQ(notifiedRooms, (QStringList { QStringLiteral("dev"), QStringLiteral("dev") }));
    EXPECT_EQ(chat().roomList()->unreadCount(QStringLiteral("lobby")), 0);
    EXPECT_TRUE(window().windowTitle().startsWith(QStringLiteral("(2) ")))
        << window().windowTitle().toStdString();

    ASSERT_TRUE(waitUntil([&] {
        return window().messageView()->isAtBottom()
            && window().messageView()->visualRect(lobby->index(4)).isValid();
    }));
    window().composer()->setPlainText(QStringLiteral("Shall we ship on Friday?"));

    QApplication::processEvents();
    const QPixmap shot = window().grab();
    ASSERT_FALSE(shot.isNull());
    const QString path = QDir(QStringLiteral(PARLEY_BINARY_DIR))
                             .filePath(QStringLiteral("desktop-screenshot.png"));
    ASSERT_TRUE(shot.save(path)) << path.toStdString();
    std::printf("screenshot: %s\n", qPrintable(path));

    carolTail.terminate();
    QSignalSpy finished(&carolTail, &QProcess::finished);
    if (carolTail.state() != QProcess::NotRunning && !finished.wait(10000)) {
        carolTail.kill();
    }
}

TEST_F(DesktopAppSmallBodyTest, FailedMessageOffersRetryAndDiscard)
{
    startApp({ QStringLiteral("lobby") });
    const QString tooLong = QStringLiteral("this message is longer than the sixty-four bytes the "
                                           "server accepts, so it cannot be stored");
    window().composer()->setPlainText(tooLong);
    QTest::keyClick(window().composer(), Qt::Key_Return);

    MessageModel* lobby = chat().messages(QStringLiteral("lobby"));
    auto failedRow = [&] {
        const int row = rowWithBody(lobby, tooLong);
        return row >= 0
                && lobby->index(row).data(MessageModel::DeliveryRole).toInt()
                    == int(TimelineEntry::Delivery::Failed)
            ? row
            : -1;
    };
    ASSERT_TRUE(waitUntil([&] { return failedRow() >= 0; }));
    EXPECT_FALSE(lobby->index(failedRow()).data(MessageModel::FailureRole).toString().isEmpty());

    // Retry (as clicked under the message): sent again, pending, and here it fails again.
    const QString firstId = lobby->index(failedRow()).data(MessageModel::ClientIdRole).toString();
    Q_EMIT window().messageView()->retryRequested(firstId);
    const int retried = rowWithBody(lobby, tooLong);
    ASSERT_GE(retried, 0);
    EXPECT_NE(lobby->index(retried).data(MessageModel::ClientIdRole).toString(), firstId);
    EXPECT_EQ(lobby->index(retried).data(MessageModel::DeliveryRole).toInt(),
        int(TimelineEntry::Delivery::Pending));
    ASSERT_TRUE(waitUntil([&] { return failedRow() >= 0; }));

    // Discard: gone from the timeline.
    const QString secondId = lobby->index(failedRow()).data(MessageModel::ClientIdRole).toString();
    Q_EMIT window().messageView()->discardRequested(secondId);
    EXPECT_EQ(rowWithBody(lobby, tooLong), -1);

    // The room works on: a short message goes through.
    QTest::keyClicks(window().composer(), QStringLiteral("short one"));
    QTest::keyClick(window().composer(), Qt::Key_Return);
    ASSERT_TRUE(waitUntil(
        [&] { return isConfirmed(lobby, rowWithBody(lobby, QStringLiteral("short one"))); }));
    EXPECT_EQ(lobby->rowCount(), 1);
}
