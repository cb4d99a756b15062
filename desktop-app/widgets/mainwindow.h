// MainWindow: rooms on the left, the timeline and the input in the middle, members on the right.
#pragma once

#include "widgets/roomswitcherdialog.h"

#include <QMainWindow>
#include <QPointer>

class QLabel;
class QLineEdit;
class QListView;
class QSystemTrayIcon;
class QTimer;

namespace parley::desktop {

class ChatController;
class ConnectionController;
class ConnectionStatusWidget;
class MessageComposer;
class MessageView;

//! The chat window. Everything it shows comes from ChatController's models and
//! ConnectionController's status; every user action is a controller call.
//!
//! Keyboard: Enter sends, Shift+Enter breaks the line, Escape clears the input, Ctrl+K jumps to
//! a room (or opens a new one), Ctrl+Up/Ctrl+Down go to the previous/next room.
class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    MainWindow(ChatController& chat, ConnectionController& connection, QWidget* parent = nullptr);
    ~MainWindow() override;

    MessageView* messageView() const { return m_messageView; }
    MessageComposer* composer() const { return m_composer; }
    QListView* roomView() const { return m_roomView; }
    QListView* memberView() const { return m_memberView; }
    QLineEdit* joinEdit() const { return m_joinEdit; }
    ConnectionStatusWidget* connectionStatus() const { return m_status; }
    //! The switcher while it is open (Ctrl+K), else nullptr.
    RoomSwitcherDialog* roomSwitcher() const { return m_switcher; }

    //! Opens the Ctrl+K switcher.
    void showRoomSwitcher();
    //! Goes `step` rooms down (positive) or up (negative) the list, wrapping around.
    void switchRoom(int step);

protected:
    void changeEvent(QEvent* event) override;

private:
    void buildUi();
    void setupShortcuts();
    void setupTray();
    void onCurrentRoomChanged(const QString& room);
    void onNotification(const QString& room, const QString& sender, const QString& body);
    void showNotice(const QString& text);
    void updateTitle();
    void updateRoomHeader();

    ChatController& m_chat;
    ConnectionController& m_connection;
    QListView* m_roomView = nullptr;
    QLineEdit* m_joinEdit = nullptr;
    QLabel* m_roomTitle = nullptr;
    QLabel* m_roomSubtitle = nullptr;
    MessageView* m_messageView = nullptr;
    MessageComposer* m_composer = nullptr;
    QListView* m_memberView = nullptr;
    QLabel* m_membersTitle = nullptr;
    ConnectionStatusWidget* m_status = nullptr;
    QLabel* m_notice = nullptr;
    QTimer* m_noticeTimer = nullptr;
    QSystemTrayIcon* m_tray = nullptr;
    QPointer<RoomSwitcherDialog> m_switcher;
    QString m_lastNotifiedRoom;
};

} // namespace parley::desktop
