// MainWindow keyboard behaviour and the composer, with the real widgets and controllers on a
// Client that is not connected (joins and sends wait in the SDK until it is; nothing here needs a
// server).
#include "controllers/chatcontroller.h"
#include "controllers/connectioncontroller.h"
#include "models/messagemodel.h"
#include "models/roomlistmodel.h"
#include "paintedtext.h"
#include "waituntil.h"
#include "widgets/mainwindow.h"
#include "widgets/messagecomposer.h"
#include "widgets/messageview.h"
#include "widgets/roomswitcherdialog.h"

#include <QApplication>
#include <QLineEdit>
#include <QListView>
#include <QPaintEvent>
#include <QSignalSpy>
#include <QTest>
#include <gtest/gtest.h>
#include <parley/client.h>
#include <parley/clientoptions.h>

using namespace parley::desktop;
using parley::desktop::test::paintedTextIn;
using parley::desktop::test::paintedTexts;
using parley::test::waitUntil;

namespace {

//! `count` messages of `room` with seqs 1..count, as the server numbers every room: the same
//! senders and times in every room, only the bodies differ ("<room> says <seq>").
QList<parley::Message> roomMessages(const QString& room, int count)
{
    const QDateTime base = QDateTime::currentDateTimeUtc().addSecs(-3600);
    const QStringList senders { QStringLiteral("alice"), QStringLiteral("bob"),
        QStringLiteral("bob"), QStringLiteral("carol"), QStringLiteral("alice"),
        QStringLiteral("alice") };
    QList<parley::Message> list;
    for (int seq = 1; seq <= count; ++seq) {
        parley::Message m;
        m.room = room;
        m.epoch = QStringLiteral("e1");
        m.seq = quint64(seq);
        m.id = QStringLiteral("%1-%2").arg(room).arg(seq);
        m.sender = senders.at((seq - 1) % senders.size());
        m.body = QStringLiteral("%1 says %2").arg(room).arg(seq);
        m.timestamp = base.addSecs(seq * 30);
        list.append(m);
    }
    return list;
}

struct WindowFixture {
    WindowFixture()
        : client(parley::ClientOptions::forServer(
            QUrl(QStringLiteral("ws://127.0.0.1:9/v1/ws")), QStringLiteral("alice")))
        , chat(client)
        , connection(client)
        , window(chat, connection)
    {
        chat.openRoom(QStringLiteral("lobby"));
        chat.openRoom(QStringLiteral("dev"));
        chat.openRoom(QStringLiteral("ops"));
        chat.setCurrentRoom(QStringLiteral("lobby"));
        window.show();
    }

    //! Activates the window (as a window manager would) and waits until it is active for widgets
    //! and for the platform: QShortcut needs both.
    bool active()
    {
        QApplication::setActiveWindow(&window);
        window.activateWindow();
        return waitUntil([this] {
            return QApplication::activeWindow() == &window
                && QGuiApplication::focusWindow() == window.windowHandle();
        });
    }

    parley::Client client;
    ChatController chat;
    ConnectionController connection;
    MainWindow window;
};

//! Watches the paint events of a widget: what the composer's placeholder said at the last paint
//! that redrew all of it.
class FullPaintWatcher : public QObject {
public:
    explicit FullPaintWatcher(MessageComposer& composer)
        : m_composer(composer)
    {
        composer.viewport()->installEventFilter(this);
    }

    QString placeholderAtLastFullPaint;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override
    {
        if (event->type() == QEvent::Paint) {
            const auto* paint = static_cast<QPaintEvent*>(event);
            const auto* viewport = static_cast<QWidget*>(watched);
            // (QRegion::contains(QRect) only tells an overlap.)
            if ((QRegion(viewport->rect()) - paint->region()).isEmpty()) {
                placeholderAtLastFullPaint = m_composer.placeholderText();
            }
        }
        return false;
    }

private:
    MessageComposer& m_composer;
};

} // namespace

TEST(MessageComposerTest, EnterSendsShiftEnterBreaksEscapeClears)
{
    MessageComposer composer;
    composer.show();
    QSignalSpy submitted(&composer, &MessageComposer::submitted);

    QTest::keyClick(&composer, Qt::Key_Return);
    EXPECT_EQ(submitted.count(), 0) << "nothing to send";

    QTest::keyClicks(&composer, QStringLiteral("line one"));
    QTest::keyClick(&composer, Qt::Key_Return, Qt::ShiftModifier);
    QTest::keyClicks(&composer, QStringLiteral("line two"));
    EXPECT_EQ(submitted.count(), 0);
    QTest::keyClick(&composer, Qt::Key_Return);
    ASSERT_EQ(submitted.count(), 1);
    EXPECT_EQ(submitted.at(0).at(0).toString(), QStringLiteral("line one\nline two"));
    EXPECT_TRUE(composer.toPlainText().isEmpty());

    QTest::keyClicks(&composer, QStringLiteral("draft"));
    QTest::keyClick(&composer, Qt::Key_Escape);
    EXPECT_TRUE(composer.toPlainText().isEmpty());
    EXPECT_EQ(submitted.count(), 1);
}

TEST(MainWindowTest, EnterShowsTheMessageAsPendingAtOnce)
{
    WindowFixture f;
    QTest::keyClicks(f.window.composer(), QStringLiteral("hello"));
    QTest::keyClick(f.window.composer(), Qt::Key_Return);
    MessageModel* lobby = f.chat.messages(QStringLiteral("lobby"));
    ASSERT_EQ(lobby->rowCount(), 1);
    EXPECT_EQ(lobby->index(0).data(MessageModel::BodyRole).toString(), QStringLiteral("hello"));
    EXPECT_EQ(lobby->index(0).data(MessageModel::DeliveryRole).toInt(),
        int(TimelineEntry::Delivery::Pending));
    EXPECT_EQ(f.window.messageView()->model(), lobby);
}

TEST(MainWindowTest, CtrlUpAndDownSwitchRoomsAndWrapAround)
{
    WindowFixture f;
    ASSERT_TRUE(f.active());
    f.window.composer()->setFocus();
    QTest::keyClick(f.window.composer(), Qt::Key_Down, Qt::ControlModifier);
    EXPECT_EQ(f.chat.currentRoom(), QStringLiteral("dev"));
    EXPECT_EQ(f.window.messageView()->model(), f.chat.messages(QStringLiteral("dev")));
    QTest::keyClick(f.window.composer(), Qt::Key_Down, Qt::ControlModifier);
    EXPECT_EQ(f.chat.currentRoom(), QStringLiteral("ops"));
    QTest::keyClick(f.window.composer(), Qt::Key_Down, Qt::ControlModifier);
    EXPECT_EQ(f.chat.currentRoom(), QStringLiteral("lobby"));
    QTest::keyClick(f.window.composer(), Qt::Key_Up, Qt::ControlModifier);
    EXPECT_EQ(f.chat.currentRoom(), QStringLiteral("ops"));
    EXPECT_EQ(f.window.roomView()->currentIndex().row(), 2);
}

TEST(MainWindowTest, ComposerNamesTheNewRoomAsSoonAsCtrlUpOrDownSwitches)
{
    WindowFixture f;
    ASSERT_TRUE(f.active());
    MessageComposer* composer = f.window.composer();
    composer->setFocus();
    FullPaintWatcher watcher(*composer);
    composer->viewport()->update();
    ASSERT_TRUE(waitUntil([&] { return !watcher.placeholderAtLastFullPaint.isEmpty(); }));
    ASSERT_EQ(watcher.placeholderAtLastFullPaint, QStringLiteral("Message #lobby"));

    // After each switch the placeholder names the new room, and the repaint that shows it is
    // already posted: one pass over the pending events (no timer, nothing else has to happen
    // first, such as a blink of the cursor or a key typed) puts it on screen.
    const struct {
        Qt::Key key;
        const char* placeholder;
    } steps[] = {
        { Qt::Key_Down, "Message #dev" },
        { Qt::Key_Down, "Message #ops" },
        { Qt::Key_Up, "Message #dev" },
        { Qt::Key_Up, "Message #lobby" },
        { Qt::Key_Up, "Message #ops" },
    };
    for (const auto& step : steps) {
        QTest::keyClick(composer, step.key, Qt::ControlModifier);
        EXPECT_EQ(composer->placeholderText().toStdString(), step.placeholder);
        QCoreApplication::processEvents();
        EXPECT_EQ(watcher.placeholderAtLastFullPaint.toStdString(), step.placeholder)
            << "the composer on screen still names the previous room";
    }
}

TEST(MainWindowTest, EachRoomsTimelinePaintsItsOwnTextsAcrossRoomSwitches)
{
    // Every room numbers its messages from 1: rows of two rooms with equal seqs, senders and
    // times must still each paint their own text, however often the user switches.
    WindowFixture f;
    const QStringList rooms { QStringLiteral("lobby"), QStringLiteral("dev"),
        QStringLiteral("ops") };
    constexpr int Count = 6;
    for (const auto& room : rooms) {
        f.chat.messages(room)->addMessages(roomMessages(room, Count));
    }
    ASSERT_TRUE(f.active());
    f.window.composer()->setFocus();

    auto checkPaintedRoom = [&](const QString& room) {
        SCOPED_TRACE(room.toStdString());
        MessageView* view = f.window.messageView();
        ASSERT_EQ(view->model(), f.chat.messages(room));
        MessageModel* model = f.chat.messages(room);
        ASSERT_TRUE(waitUntil([&] {
            const QRect last = view->visualRect(model->index(model->rowCount() - 1));
            return last.height() > 0 && view->viewport()->rect().contains(last);
        })) << "the whole timeline fits in the window";
        const auto texts = paintedTexts(*view->viewport());
        for (int row = 0; row < model->rowCount(); ++row) {
            const QString painted = paintedTextIn(texts, view->visualRect(model->index(row)));
            const QString body = model->index(row).data(MessageModel::BodyRole).toString();
            EXPECT_TRUE(painted.contains(body))
                << "row " << row << " paints \"" << painted.toStdString() << "\" instead of \""
                << body.toStdString() << "\"";
            for (const auto& other : rooms) {
                if (other != room) {
                    EXPECT_FALSE(painted.contains(other + QStringLiteral(" says ")))
                        << "row " << row << " paints a message of #" << other.toStdString()
                        << ": \"" << painted.toStdString() << "\"";
                }
            }
        }
    };

    checkPaintedRoom(QStringLiteral("lobby"));
    QTest::keyClick(f.window.composer(), Qt::Key_Down, Qt::ControlModifier);
    checkPaintedRoom(QStringLiteral("dev"));
    QTest::keyClick(f.window.composer(), Qt::Key_Down, Qt::ControlModifier);
    checkPaintedRoom(QStringLiteral("ops"));
    QTest::keyClick(f.window.composer(), Qt::Key_Up, Qt::ControlModifier);
    checkPaintedRoom(QStringLiteral("dev"));
    QTest::keyClick(f.window.composer(), Qt::Key_Up, Qt::ControlModifier);
    checkPaintedRoom(QStringLiteral("lobby"));
}

TEST(MainWindowTest, CtrlKJumpsToARoomOrOpensANewOne)
{
    WindowFixture f;
    ASSERT_TRUE(f.active());
    QTest::keyClick(f.window.composer(), Qt::Key_K, Qt::ControlModifier);
    ASSERT_TRUE(waitUntil([&] { return f.window.roomSwitcher() != nullptr; }));
    QTest::keyClicks(f.window.roomSwitcher()->filterEdit(), QStringLiteral("de"));
    EXPECT_EQ(f.window.roomSwitcher()->chosenRoom(), QStringLiteral("dev"));
    QTest::keyClick(f.window.roomSwitcher()->filterEdit(), Qt::Key_Return);
    EXPECT_EQ(f.chat.currentRoom(), QStringLiteral("dev"));
    ASSERT_TRUE(waitUntil([&] { return f.window.roomSwitcher() == nullptr; }));

    // A name that matches nothing opens (joins or creates) that room. (The offscreen platform has
    // no window manager to hand activation back once the dialog is gone: do it as one would.)
    ASSERT_TRUE(f.active());
    QTest::keyClick(f.window.composer(), Qt::Key_K, Qt::ControlModifier);
    ASSERT_TRUE(waitUntil([&] { return f.window.roomSwitcher() != nullptr; }));
    QTest::keyClicks(f.window.roomSwitcher()->filterEdit(), QStringLiteral("random"));
    QTest::keyClick(f.window.roomSwitcher()->filterEdit(), Qt::Key_Return);
    EXPECT_EQ(f.chat.currentRoom(), QStringLiteral("random"));
    EXPECT_EQ(f.chat.roomList()->rowOf(QStringLiteral("random")), 3);
    EXPECT_EQ(
        f.chat.roomList()->joinState(QStringLiteral("random")), RoomListModel::JoinState::Joining);
}

TEST(MainWindowTest, JoinFieldOpensRoomsAndRejectsBadNames)
{
    WindowFixture f;
    QTest::keyClicks(f.window.joinEdit(), QStringLiteral("#support"));
    QTest::keyClick(f.window.joinEdit(), Qt::Key_Return);
    EXPECT_EQ(f.chat.currentRoom(), QStringLiteral("support"));
    EXPECT_TRUE(f.window.joinEdit()->text().isEmpty());

    QTest::keyClicks(f.window.joinEdit(), QStringLiteral("no spaces please"));
    QTest::keyClick(f.window.joinEdit(), Qt::Key_Return);
    EXPECT_EQ(f.chat.currentRoom(), QStringLiteral("support"));
    EXPECT_EQ(f.window.joinEdit()->text(), QStringLiteral("no spaces please"));
}
