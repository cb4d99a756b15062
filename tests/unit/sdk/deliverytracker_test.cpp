// DeliveryTracker: each (room, seq) delivered once, in order, with holes held, fetched or
// reported.
#include "replay/deliverytracker.h"

#include <gtest/gtest.h>

using parley::DeliveryTracker;
using parley::Message;
using Range = DeliveryTracker::Range;

namespace {

Message msg(const QString& room, quint64 seq, const QString& epoch = "e1")
{
    Message m;
    m.room = room;
    m.seq = seq;
    m.epoch = epoch;
    m.body = QStringLiteral("m%1").arg(seq);
    return m;
}

QList<quint64> seqs(const DeliveryTracker::Outcome& outcome)
{
    QList<quint64> result;
    for (const auto& m : outcome.deliver) {
        result.append(m.seq);
    }
    return result;
}

} // namespace

TEST(DeliveryTracker, DeliversInOrderAfterTheAnchor)
{
    DeliveryTracker tracker;
    EXPECT_TRUE(seqs(tracker.anchor("r", "e1", 10)).isEmpty());
    EXPECT_EQ(seqs(tracker.accept(msg("r", 11))), (QList<quint64> { 11 }));
    EXPECT_EQ(seqs(tracker.accept(msg("r", 12))), (QList<quint64> { 12 }));
    EXPECT_EQ(tracker.cursor("r"), (DeliveryTracker::Cursor { "e1", 12 }));
}

TEST(DeliveryTracker, DropsDuplicates)
{
    DeliveryTracker tracker;
    tracker.anchor("r", "e1", 0);
    tracker.accept(msg("r", 1));
    tracker.accept(msg("r", 2));
    const auto again = tracker.accept(msg("r", 2));
    EXPECT_TRUE(again.deliver.isEmpty());
    EXPECT_EQ(again.duplicates, 1);
    EXPECT_EQ(tracker.accept(msg("r", 1)).duplicates, 1);
    // At or below the anchor: history the application never asked to see live.
    DeliveryTracker other;
    other.anchor("r", "e1", 5);
    EXPECT_EQ(other.accept(msg("r", 5)).duplicates, 1);
}

TEST(DeliveryTracker, HoldsOutOfOrderMessagesUntilTheHoleFills)
{
    DeliveryTracker tracker;
    tracker.anchor("r", "e1", 0);
    const auto early = tracker.accept(msg("r", 3));
    EXPECT_TRUE(early.deliver.isEmpty());
    ASSERT_TRUE(early.missing.has_value());
    EXPECT_EQ(*early.missing, (Range { 1, 2 }));
    // A held duplicate is still a duplicate.
    EXPECT_EQ(tracker.accept(msg("r", 3)).duplicates, 1);
    EXPECT_EQ(seqs(tracker.accept(msg("r", 1))), (QList<quint64> { 1 }));
    const auto filled = tracker.accept(msg("r", 2));
    EXPECT_EQ(seqs(filled), (QList<quint64> { 2, 3 }));
    EXPECT_FALSE(filled.missing.has_value());
    EXPECT_EQ(tracker.heldCount("r"), 0);
}

TEST(DeliveryTracker, GivesUpWaitingWhenTheHoldIsFull)
{
    DeliveryTracker tracker(3);
    tracker.anchor("r", "e1", 0);
    tracker.accept(msg("r", 5));
    tracker.accept(msg("r", 6));
    tracker.accept(msg("r", 7));
    const auto overflow = tracker.accept(msg("r", 8));
    ASSERT_EQ(overflow.gaps.size(), 1);
    EXPECT_EQ(overflow.gaps[0], (Range { 1, 4 }));
    EXPECT_EQ(seqs(overflow), (QList<quint64> { 5, 6, 7, 8 }));
    EXPECT_EQ(tracker.cursor("r")->seq, 8u);
}

TEST(DeliveryTracker, MessagesBeforeTheJoinAreSortedOutByTheAnchor)
{
    DeliveryTracker tracker;
    EXPECT_TRUE(tracker.accept(msg("r", 4)).deliver.isEmpty());
    EXPECT_TRUE(tracker.accept(msg("r", 6)).deliver.isEmpty());
    EXPECT_TRUE(tracker.accept(msg("r", 5)).deliver.isEmpty());
    EXPECT_FALSE(tracker.isAnchored("r"));
    // The join says the room stood at 4 when we joined: 4 is history, 5 and 6 are live.
    EXPECT_EQ(seqs(tracker.anchor("r", "e1", 4)), (QList<quint64> { 5, 6 }));
}

TEST(DeliveryTracker, RejoinKeepsTheCursorAndNamesWhatWasMissed)
{
    DeliveryTracker tracker;
    tracker.anchor("r", "e1", 0);
    tracker.accept(msg("r", 1));
    tracker.accept(msg("r", 2));
    const auto rejoin = tracker.anchor("r", "e1", 9);
    EXPECT_FALSE(rejoin.streamReset);
    ASSERT_TRUE(rejoin.missing.has_value());
    EXPECT_EQ(*rejoin.missing, (Range { 3, 9 }));
    EXPECT_EQ(tracker.cursor("r")->seq, 2u);
    // The fetched messages then arrive like any other, with overlap dropped.
    tracker.accept(msg("r", 2));
    EXPECT_EQ(seqs(tracker.accept(msg("r", 3))), (QList<quint64> { 3 }));
}

TEST(DeliveryTracker, ANewEpochResetsTheStream)
{
    DeliveryTracker tracker;
    tracker.anchor("r", "e1", 0);
    tracker.accept(msg("r", 1));
    tracker.accept(msg("r", 2));
    const auto reset = tracker.anchor("r", "e2", 0);
    EXPECT_TRUE(reset.streamReset);
    EXPECT_EQ(seqs(tracker.accept(msg("r", 1, "e2"))), (QList<quint64> { 1 }));
    EXPECT_EQ(tracker.cursor("r"), (DeliveryTracker::Cursor { "e2", 1 }));

    // A live message of another epoch resets too.
    const auto live = tracker.accept(msg("r", 7, "e3"));
    EXPECT_TRUE(live.streamReset);
    EXPECT_EQ(seqs(live), (QList<quint64> { 7 }));
}

TEST(DeliveryTracker, ARestartInTheSameEpochTakesReusedSeqsAsNew)
{
    // The server lost 2 and 3 (restored from an older copy): the same epoch goes on from 1.
    DeliveryTracker tracker;
    tracker.anchor("r", "e1", 0);
    tracker.accept(msg("r", 1));
    tracker.accept(msg("r", 2));
    tracker.accept(msg("r", 3));
    // A plain anchor of the same epoch keeps the cursor: the new 2 would be dropped.
    EXPECT_TRUE(tracker.anchor("r", "e1", 1).deliver.isEmpty());
    EXPECT_EQ(tracker.cursor("r")->seq, 3u);
    const auto restart = tracker.restart("r", "e1", 1);
    EXPECT_TRUE(restart.streamReset);
    EXPECT_EQ(tracker.cursor("r"), (DeliveryTracker::Cursor { "e1", 1 }));
    EXPECT_EQ(seqs(tracker.accept(msg("r", 2))), (QList<quint64> { 2 }));
}

TEST(DeliveryTracker, SkipDeliversHeldMessagesAndReportsEachHole)
{
    DeliveryTracker tracker;
    tracker.anchor("r", "e1", 0);
    tracker.accept(msg("r", 3));
    tracker.accept(msg("r", 6));
    tracker.accept(msg("r", 10));
    const auto skipped = tracker.skipTo("r", 8);
    EXPECT_EQ(seqs(skipped), (QList<quint64> { 3, 6 }));
    EXPECT_EQ(skipped.gaps, (QList<Range> { { 1, 2 }, { 4, 5 }, { 7, 8 } }));
    ASSERT_TRUE(skipped.missing.has_value());
    EXPECT_EQ(*skipped.missing, (Range { 9, 9 }));
    EXPECT_EQ(seqs(tracker.accept(msg("r", 9))), (QList<quint64> { 9, 10 }));
}

TEST(DeliveryTracker, RoomsAreIndependentAndForgettable)
{
    DeliveryTracker tracker;
    tracker.anchor("a", "e1", 0);
    tracker.anchor("b", "e9", 100);
    EXPECT_EQ(seqs(tracker.accept(msg("a", 1))), (QList<quint64> { 1 }));
    EXPECT_EQ(seqs(tracker.accept(msg("b", 101, "e9"))), (QList<quint64> { 101 }));
    EXPECT_EQ(tracker.cursors().size(), 2);
    tracker.forget("a");
    EXPECT_FALSE(tracker.cursor("a").has_value());
    EXPECT_EQ(tracker.cursors().size(), 1);
}
