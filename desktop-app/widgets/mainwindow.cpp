#include "widgets/mainwindow.h"

#include "controllers/chatcontroller.h"
#include "controllers/connectioncontroller.h"
#include "models/memberlistmodel.h"
#include "models/messagemodel.h"
#include "models/roomlistmodel.h"
#include "widgets/appicon.h"
#include "widgets/connectionstatuswidget.h"
#include "widgets/memberdelegate.h"
#include "widgets/messagecomposer.h"
#include "widgets/messageview.h"
#include "widgets/roomlistdelegate.h"
#include "widgets/roomswitcherdialog.h"

#include <QApplication>
#include <QDesktopServices>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QShortcut>
#include <QSplitter>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QTimer>
#include <QVBoxLayout>
#include <parley/client.h>

namespace parley::desktop {

namespace {
QString serverLabel(const parley::Client& client)
{
    const auto& endpoints = client.options().endpoints;
    if (endpoints.isEmpty()) {
        return QObject::tr("no server");
    }
    const QUrl& url = endpoints.constFirst();
    return url.port() > 0 ? QStringLiteral("%1:%2").arg(url.host()).arg(url.port()) : url.host();
}

QLabel* sectionLabel(const QString& text, QWidget* parent)
{
    auto* label = new QLabel(text, parent);
    QFont f = label->font();
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() * 0.9);
    label->setFont(f);
    label->setForegroundRole(QPalette::PlaceholderText);
    label->setContentsMargins(8, 8, 8, 2);
    return label;
}
} // namespace

MainWindow::MainWindow(ChatController& chat, ConnectionController& connection, QWidget* parent)
    : QMainWindow(parent)
    , m_chat(chat)
    , m_connection(connection)
{
    setWindowIcon(AppIcon::icon());
    buildUi();
    setupShortcuts();
    setupTray();

    connect(&m_chat, &ChatController::currentRoomChanged, this, &MainWindow::onCurrentRoomChanged);
    connect(&m_chat, &ChatController::notificationRequested, this, &MainWindow::onNotification);
    connect(&m_chat, &ChatController::problemReported, this, &MainWindow::showNotice);
    connect(&m_chat, &ChatController::historyLoadingChanged, this,
        [this](const QString& room, bool loading) {
            if (room == m_chat.currentRoom()) {
                m_roomSubtitle->setText(loading ? tr("Loading older messages…") : QString());
                updateRoomHeader();
            }
        });
    connect(m_chat.roomList(), &RoomListModel::totalUnreadChanged, this, &MainWindow::updateTitle);
    connect(
        m_chat.roomList(), &QAbstractItemModel::dataChanged, this, &MainWindow::updateRoomHeader);

    resize(1040, 700);
    onCurrentRoomChanged(m_chat.currentRoom());
}

MainWindow::~MainWindow() = default;

void MainWindow::buildUi()
{
    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->setChildrenCollapsible(false);

    // Rooms.
    auto* left = new QWidget(splitter);
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(6, 6, 0, 6);
    leftLayout->setSpacing(4);
    m_joinEdit = new QLineEdit(left);
    m_joinEdit->setPlaceholderText(tr("Join or create a room…"));
    m_joinEdit->setClearButtonEnabled(true);
    m_joinEdit->setToolTip(tr("Type a room name and press Enter (Ctrl+K from anywhere)"));
    m_roomView = new QListView(left);
    m_roomView->setModel(m_chat.roomList());
    m_roomView->setItemDelegate(new RoomListDelegate(m_roomView));
    m_roomView->setUniformItemSizes(true);
    m_roomView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_roomView->setContextMenuPolicy(Qt::CustomContextMenu);
    m_roomView->setAccessibleName(tr("Rooms"));
    leftLayout->addWidget(sectionLabel(tr("ROOMS"), left));
    leftLayout->addWidget(m_joinEdit);
    leftLayout->addWidget(m_roomView);

    // Timeline and input.
    auto* center = new QWidget(splitter);
    auto* centerLayout = new QVBoxLayout(center);
    centerLayout->setContentsMargins(0, 0, 0, 6);
    centerLayout->setSpacing(0);
    auto* header = new QWidget(center);
    auto* headerLayout = new QHBoxLayout(header);
    headerLayout->setContentsMargins(14, 8, 14, 8);
    m_roomTitle = new QLabel(header);
    QFont titleFont = m_roomTitle->font();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.25);
    m_roomTitle->setFont(titleFont);
    m_roomSubtitle = new QLabel(header);
    m_roomSubtitle->setForegroundRole(QPalette::PlaceholderText);
    headerLayout->addWidget(m_roomTitle);
    headerLayout->addSpacing(8);
    headerLayout->addWidget(m_roomSubtitle, 1);
    auto* headerLine = new QFrame(center);
    headerLine->setFrameShape(QFrame::HLine);
    headerLine->setFrameShadow(QFrame::Sunken);
    m_messageView = new MessageView(center);
    m_messageView->setAccessibleName(tr("Messages"));
    m_composer = new MessageComposer(center);
    m_composer->setAccessibleName(tr("Message input"));
    auto* composerBox = new QWidget(center);
    auto* composerLayout = new QVBoxLayout(composerBox);
    composerLayout->setContentsMargins(10, 6, 10, 0);
    composerLayout->addWidget(m_composer);
    centerLayout->addWidget(header);
    centerLayout->addWidget(headerLine);
    centerLayout->addWidget(m_messageView, 1);
    centerLayout->addWidget(composerBox);

    // Members.
    auto* right = new QWidget(splitter);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 6, 6, 6);
    rightLayout->setSpacing(4);
    m_membersTitle = sectionLabel(tr("MEMBERS"), right);
    m_memberView = new QListView(right);
    m_memberView->setItemDelegate(new MemberDelegate(m_memberView));
    m_memberView->setSelectionMode(QAbstractItemView::NoSelection);
    m_memberView->setFocusPolicy(Qt::NoFocus);
    m_memberView->setUniformItemSizes(true);
    m_memberView->setAccessibleName(tr("Members"));
    rightLayout->addWidget(m_membersTitle);
    rightLayout->addWidget(m_memberView);

    splitter->addWidget(left);
    splitter->addWidget(center);
    splitter->addWidget(right);
    splitter->setStretchFactor(0, 0);
    splitter->setStretchFactor(1, 1);
    splitter->setStretchFactor(2, 0);
    splitter->setSizes({ 230, 640, 170 });
    setCentralWidget(splitter);

    // Status bar: the connection state is a permanent fixture; notices come and go beside it.
    m_status = new ConnectionStatusWidget(m_connection, serverLabel(m_chat.client()), this);
    m_notice = new QLabel(this);
    m_noticeTimer = new QTimer(this);
    m_noticeTimer->setSingleShot(true);
    m_noticeTimer->setInterval(10000);
    connect(m_noticeTimer, &QTimer::timeout, m_notice, &QLabel::clear);
    statusBar()->addWidget(m_status);
    statusBar()->addWidget(m_notice, 1);
    statusBar()->addPermanentWidget(
        new QLabel(tr("Signed in as %1").arg(m_chat.localUser()), this));

    connect(m_roomView->selectionModel(), &QItemSelectionModel::currentChanged, this,
        [this](const QModelIndex& current) {
            if (current.isValid()) {
                m_chat.setCurrentRoom(current.data(RoomListModel::NameRole).toString());
            }
        });
    connect(m_roomView, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
        const QModelIndex index = m_roomView->indexAt(pos);
        if (!index.isValid()) {
            return;
        }
        const QString room = index.data(RoomListModel::NameRole).toString();
        QMenu menu(this);
        menu.addAction(tr("Leave #%1").arg(room), this, [this, room] { m_chat.closeRoom(room); });
        menu.exec(m_roomView->viewport()->mapToGlobal(pos));
    });
    connect(m_joinEdit, &QLineEdit::returnPressed, this, [this] {
        QString room = m_joinEdit->text().trimmed();
        if (room.startsWith(QLatin1Char('#'))) {
            room.remove(0, 1);
        }
        if (!room.isEmpty() && m_chat.openRoom(room)) {
            m_joinEdit->clear();
            m_composer->setFocus();
        }
    });
    connect(m_composer, &MessageComposer::submitted, this, [this](const QString& text) {
        if (!m_chat.sendMessage(text).isEmpty()) {
            m_messageView->scrollToNewest();
        }
    });
    connect(m_composer, &MessageComposer::roomSwitchRequested, this, &MainWindow::switchRoom);
    connect(m_messageView, &MessageView::olderMessagesWanted, this,
        [this] { m_chat.loadOlderMessages(m_chat.currentRoom()); });
    connect(m_messageView, &MessageView::retryRequested, this,
        [this](const QString& clientId) { m_chat.retryMessage(m_chat.currentRoom(), clientId); });
    connect(m_messageView, &MessageView::discardRequested, this,
        [this](const QString& clientId) { m_chat.discardMessage(m_chat.currentRoom(), clientId); });
    connect(m_messageView, &MessageView::linkActivated, this,
        [](const QUrl& url) { QDesktopServices::openUrl(url); });
}

void MainWindow::setupShortcuts()
{
    auto* jump = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_K), this);
    connect(jump, &QShortcut::activated, this, &MainWindow::showRoomSwitcher);
    auto* previous = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Up), this);
    connect(previous, &QShortcut::activated, this, [this] { switchRoom(-1); });
    auto* next = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Down), this);
    connect(next, &QShortcut::activated, this, [this] { switchRoom(1); });
}

void MainWindow::setupTray()
{
    if (!QSystemTrayIcon::isSystemTrayAvailable()) {
        return;
    }
    m_tray = new QSystemTrayIcon(AppIcon::icon(), this);
    m_tray->setToolTip(tr("Parley"));
    connect(m_tray, &QSystemTrayIcon::activated, this, [this] {
        showNormal();
        raise();
        activateWindow();
    });
    connect(m_tray, &QSystemTrayIcon::messageClicked, this, [this] {
        if (!m_lastNotifiedRoom.isEmpty()) {
            m_chat.setCurrentRoom(m_lastNotifiedRoom);
        }
        showNormal();
        raise();
        activateWindow();
    });
    m_tray->show();
}

void MainWindow::showRoomSwitcher()
{
    if (m_switcher) {
        m_switcher->raise();
        m_switcher->activateWindow();
        return;
    }
    m_switcher = new RoomSwitcherDialog(m_chat.roomList(), this);
    m_switcher->setAttribute(Qt::WA_DeleteOnClose);
    connect(m_switcher, &RoomSwitcherDialog::roomChosen, this, [this](const QString& room) {
        m_chat.openRoom(room);
        m_composer->setFocus();
    });
    m_switcher->open();
    m_switcher->filterEdit()->setFocus();
}

void MainWindow::switchRoom(int step)
{
    const int count = m_chat.roomList()->rowCount();
    if (count == 0) {
        return;
    }
    const int row = m_chat.roomList()->rowOf(m_chat.currentRoom());
    const int next = ((row < 0 ? 0 : row + step) % count + count) % count;
    m_chat.setCurrentRoom(m_chat.roomList()->roomAt(next));
}

void MainWindow::changeEvent(QEvent* event)
{
    if (event->type() == QEvent::ActivationChange) {
        m_chat.setWindowActive(isActiveWindow());
    }
    QMainWindow::changeEvent(event);
}

void MainWindow::onCurrentRoomChanged(const QString& room)
{
    m_messageView->setModel(m_chat.messages(room));
    m_memberView->setModel(m_chat.members(room));
    const int row = m_chat.roomList()->rowOf(room);
    if (row >= 0) {
        m_roomView->setCurrentIndex(m_chat.roomList()->index(row));
    }
    m_composer->setRoom(room);
    m_roomSubtitle->setText(
        m_chat.isLoadingHistory(room) ? tr("Loading older messages…") : QString());
    if (MemberListModel* members = m_chat.members(room)) {
        // Members lists are per room: follow the shown one.
        connect(members, &QAbstractItemModel::modelReset, this, &MainWindow::updateRoomHeader,
            Qt::UniqueConnection);
        connect(members, &QAbstractItemModel::dataChanged, this, &MainWindow::updateRoomHeader,
            Qt::UniqueConnection);
        connect(members, &QAbstractItemModel::rowsInserted, this, &MainWindow::updateRoomHeader,
            Qt::UniqueConnection);
    }
    updateRoomHeader();
    updateTitle();
    m_composer->setFocus();
}

void MainWindow::updateRoomHeader()
{
    const QString room = m_chat.currentRoom();
    m_roomTitle->setText(room.isEmpty() ? tr("No room") : QStringLiteral("#") + room);
    const MemberListModel* members = m_chat.members(room);
    if (members) {
        m_membersTitle->setText(tr("MEMBERS — %1 ONLINE").arg(members->onlineCount()));
    }
    if (m_chat.isLoadingHistory(room)) {
        return;
    }
    switch (m_chat.roomList()->joinState(room)) {
    case RoomListModel::JoinState::Joining:
        m_roomSubtitle->setText(room.isEmpty() ? QString() : tr("joining…"));
        break;
    case RoomListModel::JoinState::Failed:
        m_roomSubtitle->setText(tr("could not join this room (open it again to retry)"));
        break;
    case RoomListModel::JoinState::Joined:
        if (members) {
            const int online = members->onlineCount();
            m_roomSubtitle->setText(
                online == 1 ? tr("1 member online") : tr("%1 members online").arg(online));
        }
        break;
    }
}

void MainWindow::updateTitle()
{
    const int unread = m_chat.roomList()->totalUnread();
    const QString room = m_chat.currentRoom();
    QString title = room.isEmpty() ? tr("Parley") : tr("#%1 — Parley").arg(room);
    if (unread > 0) {
        title.prepend(QStringLiteral("(%1) ").arg(unread));
    }
    setWindowTitle(title);
}

void MainWindow::onNotification(const QString& room, const QString& sender, const QString& body)
{
    m_lastNotifiedRoom = room;
    QApplication::alert(this);
    if (m_tray && m_tray->supportsMessages()) {
        m_tray->showMessage(
            tr("%1 in #%2").arg(sender, room), body.left(200), QSystemTrayIcon::Information, 5000);
    }
}

void MainWindow::showNotice(const QString& text)
{
    m_notice->setText(text);
    m_noticeTimer->start();
}

} // namespace parley::desktop
