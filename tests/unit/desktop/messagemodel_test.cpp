// MessageModel: order, merging of live messages and history pages, the pending → confirmed /
// failed life of own messages, grouping and day separators — all under QAbstractItemModelTester.
#include "models/messagemodel.h"

#include <QAbstractItemModelTester>
#include <QSet>
#include <QSignalSpy>
#include <gtest/gtest.h>
#include <memory>

using parley::desktop::MessageModel;
using parley::desktop::TimelineEntry;

namespace {

const QDateTime Noon = QDateTime(QDate(2026, 3, 14), QTime(12, 0), Qt::LocalTime).toUTC();

parley::Message message(quint64 seq, const QString& sender = QStringLiteral("bob"),
    const QDateTime& ts = Noon, const QString& clientId = QString())
{
    parley::Message m;
    m.room = QStringLiteral("lobby");
    m.epoch = QStringLiteral("e1");
    m.seq = seq;
    m.id = QStringLiteral("m%1").arg(seq);
    m.sender = sender;
    m.clientId = clientId;
    m.body = QStringLiteral("message %1").arg(seq);
    m.timestamp = ts.addSecs(qint64(seq));
    return m;
}

QList<parley::Message> range(quint64 from, quint64 to)
{
    QList<parley::Message> list;
    for (quint64 s = from; s <= to; ++s) {
        list.append(message(s));
    }
    return list;
}

class MessageModelTest : public ::testing::Test {
protected:
    MessageModelTest()
        : model(QStringLiteral("lobby"), QStringLiteral("alice"))
        , tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal)
    {
    }

    //! The seq of every row (0 for unsettled ones), in display order.
    QList<quint64> seqs() const
    {
        QList<quint64> out;
        for (int row = 0; row < model.rowCount(); ++row) {
            out.append(model.index(row).data(MessageModel::SeqRole).toULongLong());
        }
        return out;
    }

    MessageModel model;
    QAbstractItemModelTester tester;
};

} // namespace

TEST_F(MessageModelTest, LiveMessagesAreOrderedBySeqWithoutDuplicates)
{
    model.addMessages({ message(1) });
    model.addMessages({ message(3) });
    model.addMessages({ message(2) }); // late arrival goes between
    model.addMessages({ message(2) }); // a duplicate is not a new row
    EXPECT_EQ(seqs(), (QList<quint64> { 1, 2, 3 }));
    EXPECT_EQ(model.index(1).data(MessageModel::BodyRole).toString(), QStringLiteral("message 2"));
    EXPECT_EQ(model.oldestSeq(), 1u);
    EXPECT_EQ(model.newestSeq(), 3u);
}

TEST_F(MessageModelTest, MessagesOfOtherRoomsAreIgnored)
{
    auto m = message(1);
    m.room = QStringLiteral("elsewhere");
    model.addMessages({ m });
    EXPECT_EQ(model.rowCount(), 0);
}

TEST_F(MessageModelTest, OlderHistoryPageIsPrependedAsOneBlock)
{
    model.addMessages(range(51, 60));
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    model.addMessages(range(1, 50));
    ASSERT_EQ(inserted.count(), 1);
    EXPECT_EQ(inserted.at(0).at(1).toInt(), 0);
    EXPECT_EQ(inserted.at(0).at(2).toInt(), 49);
    ASSERT_EQ(model.rowCount(), 60);
    for (int row = 0; row < 60; ++row) {
        EXPECT_EQ(model.index(row).data(MessageModel::SeqRole).toULongLong(), quint64(row + 1));
    }
}

TEST_F(MessageModelTest, OverlappingHistoryPageMergesWithLiveMessages)
{
    // Live messages 48..52 arrived while the first page (41..50) was on its way.
    model.addMessages(range(48, 52));
    model.addMessages(range(41, 50));
    QList<quint64> expected;
    for (quint64 s = 41; s <= 52; ++s) {
        expected.append(s);
    }
    EXPECT_EQ(seqs(), expected);
}

TEST_F(MessageModelTest, PendingMessageSettlesInPlaceOnAckThenEchoCompletesIt)
{
    model.addMessages(range(1, 3));
    model.addPending(
        QStringLiteral("c1"), QStringLiteral("hello"), QDateTime::currentDateTimeUtc());
    ASSERT_EQ(model.rowCount(), 4);
    EXPECT_EQ(model.index(3).data(MessageModel::DeliveryRole).toInt(),
        int(TimelineEntry::Delivery::Pending));
    EXPECT_TRUE(model.index(3).data(MessageModel::IsOwnRole).toBool());
    EXPECT_EQ(model.rowOfClientId(QStringLiteral("c1")), 3);

    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    model.markAcked(QStringLiteral("c1"), 4);
    EXPECT_EQ(inserted.count(), 0);
    EXPECT_EQ(removed.count(), 0);
    EXPECT_EQ(model.index(3).data(MessageModel::DeliveryRole).toInt(),
        int(TimelineEntry::Delivery::Confirmed));
    EXPECT_EQ(model.index(3).data(MessageModel::SeqRole).toULongLong(), 4u);
    EXPECT_EQ(model.settledCount(), 4);

    auto echo = message(4, QStringLiteral("alice"), Noon, QStringLiteral("c1"));
    echo.body = QStringLiteral("hello");
    model.addMessages({ echo });
    EXPECT_EQ(model.rowCount(), 4);
    EXPECT_EQ(model.index(3).data(MessageModel::TimestampRole).toDateTime(), echo.timestamp);
}

TEST_F(MessageModelTest, EchoBeforeAckSettlesThePendingRowAndTheAckChangesNothing)
{
    model.addPending(
        QStringLiteral("c1"), QStringLiteral("hello"), QDateTime::currentDateTimeUtc());
    auto echo = message(1, QStringLiteral("alice"), Noon, QStringLiteral("c1"));
    model.addMessages({ echo });
    ASSERT_EQ(model.rowCount(), 1);
    EXPECT_EQ(model.settledCount(), 1);
    EXPECT_EQ(model.index(0).data(MessageModel::DeliveryRole).toInt(),
        int(TimelineEntry::Delivery::Confirmed));
    model.markAcked(QStringLiteral("c1"), 1);
    EXPECT_EQ(model.rowCount(), 1);
}

TEST_F(MessageModelTest, AckedMessageMovesBeforeNewerMessagesThatArrivedFirst)
{
    model.addMessages(range(1, 2));
    model.addPending(QStringLiteral("c1"), QStringLiteral("mine"), QDateTime::currentDateTimeUtc());
    model.addMessages({ message(4) }); // someone else's, stored after ours
    EXPECT_EQ(seqs(), (QList<quint64> { 1, 2, 4, 0 }));
    model.markAcked(QStringLiteral("c1"), 3);
    EXPECT_EQ(seqs(), (QList<quint64> { 1, 2, 3, 4 }));
    EXPECT_EQ(model.index(2).data(MessageModel::BodyRole).toString(), QStringLiteral("mine"));
}

TEST_F(MessageModelTest, FailedMessageCanBeRetriedOrDiscarded)
{
    model.addPending(
        QStringLiteral("c1"), QStringLiteral("first"), QDateTime::currentDateTimeUtc());
    model.addPending(
        QStringLiteral("c2"), QStringLiteral("second"), QDateTime::currentDateTimeUtc());
    model.markFailed(QStringLiteral("c1"), QStringLiteral("body too large"));
    EXPECT_EQ(model.index(0).data(MessageModel::DeliveryRole).toInt(),
        int(TimelineEntry::Delivery::Failed));
    EXPECT_EQ(model.index(0).data(MessageModel::FailureRole).toString(),
        QStringLiteral("body too large"));

    // Retried: pending again under the new id, after the other unsent message.
    model.markRetried(QStringLiteral("c1"), QStringLiteral("c3"));
    EXPECT_EQ(model.rowOfClientId(QStringLiteral("c1")), -1);
    EXPECT_EQ(model.rowOfClientId(QStringLiteral("c3")), 1);
    EXPECT_EQ(model.index(1).data(MessageModel::DeliveryRole).toInt(),
        int(TimelineEntry::Delivery::Pending));
    EXPECT_EQ(model.index(1).data(MessageModel::BodyRole).toString(), QStringLiteral("first"));

    model.markFailed(QStringLiteral("c2"), QStringLiteral("x"));
    EXPECT_TRUE(model.removeUnsettled(QStringLiteral("c2")));
    EXPECT_FALSE(model.removeUnsettled(QStringLiteral("c2")));
    EXPECT_EQ(model.rowCount(), 1);
}

TEST_F(MessageModelTest, ConsecutiveMessagesOfOneSenderAreGrouped)
{
    auto a1 = message(1, QStringLiteral("bob"), Noon);
    auto a2 = message(2, QStringLiteral("bob"), Noon); // 1 s later
    auto b = message(3, QStringLiteral("carol"), Noon);
    auto a3
        = message(4, QStringLiteral("carol"), Noon.addSecs(MessageModel::GroupingWindowSecs + 60));
    model.addMessages({ a1, a2, b, a3 });
    EXPECT_FALSE(model.index(0).data(MessageModel::GroupedWithPreviousRole).toBool());
    EXPECT_TRUE(model.index(1).data(MessageModel::GroupedWithPreviousRole).toBool());
    EXPECT_FALSE(model.index(2).data(MessageModel::GroupedWithPreviousRole).toBool());
    EXPECT_FALSE(model.index(3).data(MessageModel::GroupedWithPreviousRole).toBool())
        << "a pause longer than the grouping window starts a new group";
}

TEST_F(MessageModelTest, DaySeparatorsFollowLocalDates)
{
    const QDateTime day1 = QDateTime(QDate(2026, 3, 14), QTime(23, 0), Qt::LocalTime).toUTC();
    const QDateTime day2 = QDateTime(QDate(2026, 3, 15), QTime(9, 0), Qt::LocalTime).toUTC();
    model.addMessages(
        { message(10, QStringLiteral("bob"), day1), message(11, QStringLiteral("bob"), day2) });
    EXPECT_TRUE(model.index(0).data(MessageModel::StartsDayRole).toBool());
    EXPECT_TRUE(model.index(1).data(MessageModel::StartsDayRole).toBool());
    EXPECT_FALSE(model.index(1).data(MessageModel::GroupedWithPreviousRole).toBool());

    // An older message of the same day goes above: the separator moves up, and the view is told
    // that the former first row changed.
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.addMessages({ message(9, QStringLiteral("bob"), day1.addSecs(-60)) });
    EXPECT_TRUE(model.index(0).data(MessageModel::StartsDayRole).toBool());
    EXPECT_FALSE(model.index(1).data(MessageModel::StartsDayRole).toBool());
    bool sawRow1 = false;
    for (const auto& args : changed) {
        const auto tl = args.at(0).value<QModelIndex>();
        const auto br = args.at(1).value<QModelIndex>();
        sawRow1 = sawRow1 || (tl.row() <= 1 && br.row() >= 1);
    }
    EXPECT_TRUE(sawRow1);
}

TEST_F(MessageModelTest, GapNoticeSitsWhereTheMissingMessagesWouldBe)
{
    model.addMessages({ message(1), message(2), message(8) });
    model.addGap(3, 7);
    ASSERT_EQ(model.rowCount(), 4);
    EXPECT_EQ(model.index(2).data(MessageModel::KindRole).toInt(), int(TimelineEntry::Kind::Gap));
    EXPECT_EQ(model.index(2).data(MessageModel::GapFromRole).toULongLong(), 3u);
    EXPECT_EQ(model.index(2).data(MessageModel::GapToRole).toULongLong(), 7u);
    EXPECT_FALSE(model.index(3).data(MessageModel::GroupedWithPreviousRole).toBool());
    EXPECT_EQ(model.oldestSeq(), 1u);
}

TEST_F(MessageModelTest, StreamResetKeepsUnsentMessages)
{
    model.addMessages(range(1, 5));
    model.addPending(QStringLiteral("c1"), QStringLiteral("mine"), QDateTime::currentDateTimeUtc());
    model.clearSettled();
    ASSERT_EQ(model.rowCount(), 1);
    EXPECT_EQ(model.rowOfClientId(QStringLiteral("c1")), 0);
    EXPECT_FALSE(model.oldestSeq().has_value());
}

TEST_F(MessageModelTest, CacheKeyChangesWhenTheRowLooksDifferent)
{
    model.addPending(QStringLiteral("c1"), QStringLiteral("hi"), QDateTime::currentDateTimeUtc());
    const QString pending = model.index(0).data(MessageModel::CacheKeyRole).toString();
    model.markFailed(QStringLiteral("c1"), QStringLiteral("nope"));
    const QString failed = model.index(0).data(MessageModel::CacheKeyRole).toString();
    EXPECT_NE(pending, failed);
}

TEST_F(MessageModelTest, CacheKeysNeverRepeatAcrossRoomsOrStreamEpochs)
{
    // Rooms share seqs (each numbers from 1), and a reset stream numbers from 1 again: a layout
    // cache shared by the rooms' models must never take one of these rows for another.
    auto keys = [](const MessageModel& m) {
        QStringList out;
        for (int row = 0; row < m.rowCount(); ++row) {
            out.append(m.index(row).data(MessageModel::CacheKeyRole).toString());
        }
        return out;
    };
    MessageModel dev(QStringLiteral("dev"), QStringLiteral("alice"));
    QAbstractItemModelTester devTester(&dev, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QList<parley::Message> devMessages = range(1, 5);
    for (auto& m : devMessages) {
        m.room = QStringLiteral("dev");
        m.body = QStringLiteral("dev %1").arg(m.seq);
    }
    model.addMessages(range(1, 5));
    model.addPending(QStringLiteral("c1"), QStringLiteral("mine"), Noon.addSecs(10));
    dev.addMessages(devMessages);
    dev.addPending(QStringLiteral("c1"), QStringLiteral("mine too"), Noon.addSecs(10));
    dev.addGap(6, 8);

    QSet<QString> seen;
    for (const auto& key : keys(model) + keys(dev)) {
        EXPECT_FALSE(seen.contains(key)) << key.toStdString();
        seen.insert(key);
    }

    // A new epoch of the lobby: the same seqs, senders and times, other texts.
    model.clearSettled();
    QList<parley::Message> newEpoch = range(1, 5);
    for (auto& m : newEpoch) {
        m.epoch = QStringLiteral("e2");
        m.body = QStringLiteral("after the reset %1").arg(m.seq);
    }
    model.addMessages(newEpoch);
    for (const auto& key : keys(model).mid(0, 5)) {
        EXPECT_FALSE(seen.contains(key)) << key.toStdString();
    }
}

TEST_F(MessageModelTest, CacheKeyOfAnUnchangedTextSurvivesTheEchoAndChangesWithTheText)
{
    model.addMessages(range(1, 2));
    model.addPending(QStringLiteral("c1"), QStringLiteral("hello"), Noon.addSecs(3));
    model.markAcked(QStringLiteral("c1"), 3);
    const QString acked = model.index(2).data(MessageModel::CacheKeyRole).toString();
    auto echo = message(3, QStringLiteral("alice"), Noon, QStringLiteral("c1"));
    echo.body = QStringLiteral("hello");
    model.addMessages({ echo });
    EXPECT_EQ(model.index(2).data(MessageModel::CacheKeyRole).toString(), acked)
        << "the same text needs no new layout";

    auto edited = message(3, QStringLiteral("alice"), Noon, QStringLiteral("c1"));
    edited.body = QStringLiteral("hello, corrected");
    model.addMessages({ edited });
    EXPECT_NE(model.index(2).data(MessageModel::CacheKeyRole).toString(), acked);
}
