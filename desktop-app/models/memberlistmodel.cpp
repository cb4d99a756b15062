#include "models/memberlistmodel.h"

#include <algorithm>

namespace parley::desktop {

MemberListModel::MemberListModel(QObject* parent)
    : QAbstractListModel(parent)
{
}

int MemberListModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_members.size());
}

QVariant MemberListModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const Member& m = m_members.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case UserRole:
        return m.user;
    case Qt::ToolTipRole:
        return m.online ? tr("%1 is online").arg(m.user) : tr("%1 is offline").arg(m.user);
    case OnlineRole:
        return m.online;
    default:
        return {};
    }
}

QHash<int, QByteArray> MemberListModel::roleNames() const
{
    auto names = QAbstractListModel::roleNames();
    names.insert({ { UserRole, "user" }, { OnlineRole, "online" } });
    return names;
}

void MemberListModel::resetMembers(const QStringList& onlineMembers)
{
    QStringList users = onlineMembers;
    users.sort(Qt::CaseInsensitive);
    users.removeDuplicates();
    beginResetModel();
    m_members.clear();
    for (const auto& user : users) {
        m_members.append(Member { user, true });
    }
    endResetModel();
}

void MemberListModel::setOnline(const QString& user, bool online)
{
    const int row = rowOf(user);
    if (row >= 0) {
        if (m_members.at(row).online != online) {
            m_members[row].online = online;
            const QModelIndex idx = index(row);
            Q_EMIT dataChanged(idx, idx, { OnlineRole, Qt::ToolTipRole });
        }
        return;
    }
    const auto it = std::lower_bound(
        m_members.cbegin(), m_members.cend(), user, [](const Member& m, const QString& u) {
            return m.user.compare(u, Qt::CaseInsensitive) < 0;
        });
    const int at = int(it - m_members.cbegin());
    beginInsertRows(QModelIndex(), at, at);
    m_members.insert(at, Member { user, online });
    endInsertRows();
}

int MemberListModel::rowOf(const QString& user) const
{
    for (int row = 0; row < int(m_members.size()); ++row) {
        if (m_members.at(row).user == user) {
            return row;
        }
    }
    return -1;
}

bool MemberListModel::isOnline(const QString& user) const
{
    const int row = rowOf(user);
    return row >= 0 && m_members.at(row).online;
}

int MemberListModel::onlineCount() const
{
    return int(std::count_if(
        m_members.cbegin(), m_members.cend(), [](const Member& m) { return m.online; }));
}

} // namespace parley::desktop
