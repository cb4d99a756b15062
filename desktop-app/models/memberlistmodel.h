// MemberListModel: who is in a room and whether they are online.
#pragma once

#include <QAbstractListModel>
#include <QList>
#include <QString>
#include <QStringList>

namespace parley::desktop {

//! The members of one room, sorted by name, each online or offline. Fed from the SDK's joined()
//! member list and presenceChanged(); members who go offline stay listed (greyed) until the
//! room is joined again.
class MemberListModel : public QAbstractListModel {
    Q_OBJECT

public:
    enum Role {
        UserRole = Qt::UserRole + 1, //!< QString
        OnlineRole, //!< bool
    };
    Q_ENUM(Role)

    explicit MemberListModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    //! The room was (re)joined with these members present: they are online, nobody else is
    //! listed.
    void resetMembers(const QStringList& onlineMembers);
    //! Presence of `user` changed; an unknown user is added.
    void setOnline(const QString& user, bool online);
    //! -1 when `user` is not listed.
    int rowOf(const QString& user) const;
    bool isOnline(const QString& user) const;
    int onlineCount() const;

private:
    struct Member {
        QString user;
        bool online = false;
    };

    QList<Member> m_members;
};

} // namespace parley::desktop
