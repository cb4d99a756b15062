// RoomListModel and MemberListModel: rows, unread counts, previews, presence — under
// QAbstractItemModelTester.
#include "models/memberlistmodel.h"
#include "models/roomlistmodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <gtest/gtest.h>

using parley::desktop::MemberListModel;
using parley::desktop::RoomListModel;

namespace {
const QDateTime T0 = QDateTime(QDate(2026, 3, 14), QTime(12, 0), Qt::UTC);
}

TEST(RoomListModelTest, RoomsKeepTheirOrderAndAreListedOnce)
{
    RoomListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    EXPECT_EQ(model.addRoom(QStringLiteral("lobby")), 0);
    EXPECT_EQ(model.addRoom(QStringLiteral("dev")), 1);
    EXPECT_EQ(model.addRoom(QStringLiteral("lobby")), 0);
    EXPECT_EQ(model.rooms(), (QStringList { QStringLiteral("lobby"), QStringLiteral("dev") }));
    EXPECT_EQ(model.index(1).data(Qt::DisplayRole).toString(), QStringLiteral("#dev"));
    EXPECT_EQ(model.joinState(QStringLiteral("dev")), RoomListModel::JoinState::Joining);
    model.setJoinState(QStringLiteral("dev"), RoomListModel::JoinState::Joined);
    EXPECT_EQ(model.index(1).data(RoomListModel::JoinStateRole).toInt(),
        int(RoomListModel::JoinState::Joined));
    EXPECT_TRUE(model.removeRoom(QStringLiteral("lobby")));
    EXPECT_FALSE(model.removeRoom(QStringLiteral("lobby")));
    EXPECT_EQ(model.rowOf(QStringLiteral("dev")), 0);
}

TEST(RoomListModelTest, UnreadCountsAddUpAndClear)
{
    RoomListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.addRoom(QStringLiteral("lobby"));
    model.addRoom(QStringLiteral("dev"));
    QSignalSpy total(&model, &RoomListModel::totalUnreadChanged);
    model.noteMessage(
        QStringLiteral("dev"), QStringLiteral("bob"), QStringLiteral("one"), T0, true);
    model.noteMessage(
        QStringLiteral("dev"), QStringLiteral("bob"), QStringLiteral("two"), T0.addSecs(1), true);
    model.noteMessage(
        QStringLiteral("lobby"), QStringLiteral("bob"), QStringLiteral("seen"), T0, false);
    EXPECT_EQ(model.unreadCount(QStringLiteral("dev")), 2);
    EXPECT_EQ(model.unreadCount(QStringLiteral("lobby")), 0);
    EXPECT_EQ(model.totalUnread(), 2);
    ASSERT_EQ(total.count(), 2);
    EXPECT_EQ(total.last().at(0).toInt(), 2);
    model.clearUnread(QStringLiteral("dev"));
    EXPECT_EQ(model.totalUnread(), 0);
    EXPECT_EQ(total.last().at(0).toInt(), 0);
}

TEST(RoomListModelTest, PreviewShowsTheNewestMessageOnOneLine)
{
    RoomListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.addRoom(QStringLiteral("lobby"));
    model.noteMessage(QStringLiteral("lobby"), QStringLiteral("bob"),
        QStringLiteral("line 1\nline 2"), T0.addSecs(10), false);
    EXPECT_EQ(model.index(0).data(RoomListModel::PreviewRole).toString(),
        QStringLiteral("bob: line 1 line 2"));
    // An older message (from a history page) does not replace it.
    model.noteMessage(
        QStringLiteral("lobby"), QStringLiteral("carol"), QStringLiteral("old"), T0, false);
    EXPECT_EQ(model.index(0).data(RoomListModel::PreviewRole).toString(),
        QStringLiteral("bob: line 1 line 2"));
    EXPECT_EQ(model.index(0).data(RoomListModel::LastActivityRole).toDateTime(), T0.addSecs(10));
}

TEST(MemberListModelTest, MembersAreSortedAndFollowPresence)
{
    MemberListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.resetMembers(
        { QStringLiteral("carol"), QStringLiteral("alice"), QStringLiteral("alice") });
    ASSERT_EQ(model.rowCount(), 2);
    EXPECT_EQ(model.index(0).data().toString(), QStringLiteral("alice"));
    EXPECT_EQ(model.onlineCount(), 2);

    model.setOnline(QStringLiteral("bob"), true);
    EXPECT_EQ(model.rowOf(QStringLiteral("bob")), 1);
    model.setOnline(QStringLiteral("carol"), false);
    EXPECT_FALSE(model.isOnline(QStringLiteral("carol")));
    EXPECT_EQ(model.rowCount(), 3) << "members who leave stay listed, offline";
    EXPECT_EQ(model.onlineCount(), 2);
    EXPECT_FALSE(model.index(2).data(MemberListModel::OnlineRole).toBool());
}
