#include "models/roomlistmodel.h"

namespace parley::desktop {

namespace {
//! A preview shows one line: newlines become spaces and long texts are cut.
QString previewText(const QString& sender, const QString& body)
{
    constexpr int MaxPreviewChars = 120;
    QString text = body.simplified();
    if (text.size() > MaxPreviewChars) {
        text = text.left(MaxPreviewChars - 1) + QChar(0x2026);
    }
    return QStringLiteral("%1: %2").arg(sender, text);
}
} // namespace

RoomListModel::RoomListModel(QObject* parent)
    : QAbstractListModel(parent)
{
}

int RoomListModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rooms.size());
}

QVariant RoomListModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const Room& r = m_rooms.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return QStringLiteral("#") + r.name;
    case Qt::ToolTipRole:
        return r.preview.isEmpty() ? QStringLiteral("#") + r.name : r.preview;
    case NameRole:
        return r.name;
    case JoinStateRole:
        return int(r.state);
    case UnreadRole:
        return r.unread;
    case PreviewRole:
        return r.preview;
    case LastActivityRole:
        return r.lastActivity;
    default:
        return {};
    }
}

QHash<int, QByteArray> RoomListModel::roleNames() const
{
    auto names = QAbstractListModel::roleNames();
    names.insert({ { NameRole, "name" }, { JoinStateRole, "joinState" }, { UnreadRole, "unread" },
        { PreviewRole, "preview" }, { LastActivityRole, "lastActivity" } });
    return names;
}

int RoomListModel::addRoom(const QString& room)
{
    const int existing = rowOf(room);
    if (existing >= 0) {
        return existing;
    }
    const int row = int(m_rooms.size());
    beginInsertRows(QModelIndex(), row, row);
    Room entry;
    entry.name = room;
    m_rooms.append(std::move(entry));
    endInsertRows();
    return row;
}

bool RoomListModel::removeRoom(const QString& room)
{
    const int row = rowOf(room);
    if (row < 0) {
        return false;
    }
    const int unread = m_rooms.at(row).unread;
    beginRemoveRows(QModelIndex(), row, row);
    m_rooms.removeAt(row);
    endRemoveRows();
    if (unread > 0) {
        Q_EMIT totalUnreadChanged(totalUnread());
    }
    return true;
}

int RoomListModel::rowOf(const QString& room) const
{
    for (int row = 0; row < int(m_rooms.size()); ++row) {
        if (m_rooms.at(row).name == room) {
            return row;
        }
    }
    return -1;
}

QString RoomListModel::roomAt(int row) const
{
    return row >= 0 && row < int(m_rooms.size()) ? m_rooms.at(row).name : QString();
}

QStringList RoomListModel::rooms() const
{
    QStringList names;
    names.reserve(m_rooms.size());
    for (const auto& r : m_rooms) {
        names.append(r.name);
    }
    return names;
}

void RoomListModel::setJoinState(const QString& room, JoinState state)
{
    const int row = rowOf(room);
    if (row < 0 || m_rooms.at(row).state == state) {
        return;
    }
    m_rooms[row].state = state;
    emitRowChanged(row, { JoinStateRole });
}

RoomListModel::JoinState RoomListModel::joinState(const QString& room) const
{
    const int row = rowOf(room);
    return row < 0 ? JoinState::Joining : m_rooms.at(row).state;
}

void RoomListModel::noteMessage(const QString& room, const QString& sender, const QString& body,
    const QDateTime& time, bool unread)
{
    const int row = rowOf(room);
    if (row < 0) {
        return;
    }
    Room& r = m_rooms[row];
    QList<int> roles;
    // History pages arrive out of time order: only a newer message replaces the preview.
    if (!r.lastActivity.isValid() || !time.isValid() || time >= r.lastActivity) {
        r.preview = previewText(sender, body);
        r.lastActivity = time;
        roles << PreviewRole << LastActivityRole << Qt::ToolTipRole;
    }
    if (unread) {
        ++r.unread;
        roles << UnreadRole;
    }
    if (!roles.isEmpty()) {
        emitRowChanged(row, roles);
    }
    if (unread) {
        Q_EMIT totalUnreadChanged(totalUnread());
    }
}

void RoomListModel::clearUnread(const QString& room)
{
    const int row = rowOf(room);
    if (row < 0 || m_rooms.at(row).unread == 0) {
        return;
    }
    m_rooms[row].unread = 0;
    emitRowChanged(row, { UnreadRole });
    Q_EMIT totalUnreadChanged(totalUnread());
}

int RoomListModel::unreadCount(const QString& room) const
{
    const int row = rowOf(room);
    return row < 0 ? 0 : m_rooms.at(row).unread;
}

int RoomListModel::totalUnread() const
{
    int total = 0;
    for (const auto& r : m_rooms) {
        total += r.unread;
    }
    return total;
}

void RoomListModel::emitRowChanged(int row, const QList<int>& roles)
{
    const QModelIndex idx = index(row);
    Q_EMIT dataChanged(idx, idx, roles);
}

} // namespace parley::desktop
