// RoomListModel: the rooms the user has open, for the side bar.
#pragma once

#include <QAbstractListModel>
#include <QDateTime>
#include <QList>
#include <QString>

namespace parley::desktop {

//! The rooms of the session in the order they were opened, with join state, unread count and a
//! preview of the last message. Fed by ChatController from SDK signals; no I/O.
class RoomListModel : public QAbstractListModel {
    Q_OBJECT

public:
    enum class JoinState {
        Joining, //!< join() sent (or waiting for the connection)
        Joined, //!< the server confirmed the join
        Failed, //!< the server refused the join
    };
    Q_ENUM(JoinState)

    enum Role {
        NameRole = Qt::UserRole + 1, //!< QString, the room name without '#'
        JoinStateRole, //!< JoinState as int
        UnreadRole, //!< int, messages that arrived while the room was not in view
        PreviewRole, //!< QString, "sender: text" of the newest message (one line)
        LastActivityRole, //!< QDateTime of the newest message
    };
    Q_ENUM(Role)

    explicit RoomListModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    //! Appends `room` (state Joining) unless present; returns its row.
    int addRoom(const QString& room);
    //! Removes `room`; false when it is not listed.
    bool removeRoom(const QString& room);
    //! The row of `room`, or -1.
    int rowOf(const QString& room) const;
    //! The room at `row` (empty when out of range).
    QString roomAt(int row) const;
    //! All rooms in display order.
    QStringList rooms() const;

    void setJoinState(const QString& room, JoinState state);
    //! Joining for a room that is not listed.
    JoinState joinState(const QString& room) const;
    //! Records the newest message of `room` for its preview; `unread` also counts it as unread.
    void noteMessage(const QString& room, const QString& sender, const QString& body,
        const QDateTime& time, bool unread);
    //! The user looked at `room`: its unread count goes to 0.
    void clearUnread(const QString& room);
    int unreadCount(const QString& room) const;
    //! Unread messages over all rooms.
    int totalUnread() const;

Q_SIGNALS:
    //! totalUnread() changed to `count`.
    void totalUnreadChanged(int count);

private:
    struct Room {
        QString name;
        JoinState state = JoinState::Joining;
        int unread = 0;
        QString preview;
        QDateTime lastActivity;
    };

    void emitRowChanged(int row, const QList<int>& roles);

    QList<Room> m_rooms;
};

} // namespace parley::desktop
