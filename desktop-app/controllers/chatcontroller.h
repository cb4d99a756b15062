// ChatController: the rooms of a session, fed by one parley::Client.
#pragma once

#include <QHash>
#include <QObject>
#include <QString>
#include <map>
#include <memory>
#include <parley/error.h>
#include <parley/message.h>

namespace parley {
class Client;
}

namespace parley::desktop {

class MemberListModel;
class MessageModel;
class RoomListModel;

//! Owns the app's models and keeps them in step with a parley::Client: routes messages, acks,
//! failures, history pages, presence and gaps to the model of their room, tracks unread counts,
//! pages history on request, and decides what deserves a notification.
//!
//! It holds no protocol or network code; every action is a Client call. The Client outlives
//! the controller.
class ChatController : public QObject {
    Q_OBJECT

public:
    //! Messages fetched per history page.
    static constexpr int HistoryPageSize = 50;

    explicit ChatController(parley::Client& client, QObject* parent = nullptr);
    ~ChatController() override;

    parley::Client& client() const { return m_client; }
    //! The local user, as given in the client's options.
    QString localUser() const;

    RoomListModel* roomList() const { return m_roomList.get(); }
    //! The timeline of `room`, or nullptr when the room was never opened.
    MessageModel* messages(const QString& room) const;
    //! The members of `room`, or nullptr when the room was never opened.
    MemberListModel* members(const QString& room) const;

    //! Joins `room` (if it is new) and makes it the current room. False when the name cannot be a
    //! room name.
    bool openRoom(const QString& room);
    //! Leaves `room` and forgets its timeline.
    void closeRoom(const QString& room);
    QString currentRoom() const { return m_currentRoom; }
    //! Shows `room` (already opened): its unread count goes to 0.
    void setCurrentRoom(const QString& room);
    //! Whether the user can see the window; messages in the current room count as unread and
    //! are notified while it is not.
    void setWindowActive(bool active);

    //! Sends `text` (trimmed of surrounding blank lines) to the current room; returns the client
    //! id, or an empty string when there is nothing to send or no room.
    QString sendMessage(const QString& text);
    //! Sends a failed message of `room` again.
    void retryMessage(const QString& room, const QString& clientId);
    //! Drops a failed message of `room` from the timeline.
    void discardMessage(const QString& room, const QString& clientId);

    //! Asks for the page of `room`'s history before the oldest message shown. Does nothing while
    //! a page is on its way or when the start of the room is reached.
    void loadOlderMessages(const QString& room);
    bool isLoadingHistory(const QString& room) const;
    //! False once the first message of `room` is shown.
    bool hasOlderMessages(const QString& room) const;

    //! Whether `name` is acceptable as a room name (what the server accepts: 1..64 of
    //! [A-Za-z0-9._-]).
    static bool isValidRoomName(const QString& name);

Q_SIGNALS:
    //! The current room changed (it may be empty when the last room was closed).
    void currentRoomChanged(const QString& room);
    //! A message arrived that the user has not seen: in another room, or while the window is
    //! not active.
    void notificationRequested(const QString& room, const QString& sender, const QString& body);
    //! A history page request for `room` started or ended.
    void historyLoadingChanged(const QString& room, bool loading);
    //! Something the user should read, e.g. a room that could not be joined.
    void problemReported(const QString& text);

private:
    struct RoomState;

    RoomState* state(const QString& room) const;
    void onJoined(const QString& room, quint64 lastSeq, const QStringList& members);
    void onJoinFailed(const QString& room, const parley::Error& error);
    void onMessageReceived(const parley::Message& message);
    void onMessageAcked(const QString& clientId, const QString& room, quint64 seq);
    void onMessageFailed(const QString& clientId, const parley::Error& error);
    void onHistoryReceived(const QString& requestId, const QString& room,
        const QList<parley::Message>& messages, bool hasMore);
    void onHistoryFailed(const QString& requestId, const QString& room, const parley::Error& error);
    void onPresenceChanged(const QString& room, const QString& user, bool online);
    void onHistoryGap(const QString& room, quint64 fromSeq, quint64 toSeq);
    void onStreamReset(const QString& room, const QString& epoch);
    void requestHistory(const QString& room, RoomState& rs, bool older);
    void setHistoryRequest(const QString& room, RoomState& rs, const QString& requestId);

    parley::Client& m_client;
    std::unique_ptr<RoomListModel> m_roomList;
    std::map<QString, std::unique_ptr<RoomState>> m_rooms;
    //! Own messages in flight: client id → room (messageFailed() names no room).
    QHash<QString, QString> m_inFlight;
    QString m_currentRoom;
    bool m_windowActive = true;
};

} // namespace parley::desktop
