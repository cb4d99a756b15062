// Outbox bookkeeping: bounds, order, one exit per client id, resend after a drop, retries and
// expiry on a caller-supplied clock.
#include "outbox/outbox.h"

#include <gtest/gtest.h>

using parley::Outbox;
using parley::OutboxEntry;

namespace {

const auto anyRoom = [](const QString&) { return true; };

QStringList ids(const QList<OutboxEntry>& entries)
{
    QStringList result;
    for (const auto& e : entries) {
        result.append(e.clientId);
    }
    return result;
}

} // namespace

TEST(Outbox, HandsOutQueuedMessagesOnceInEnqueueOrder)
{
    Outbox outbox(10, 1000);
    ASSERT_EQ(outbox.enqueue("a", "r1", "one", 0), Outbox::Admission::Accepted);
    ASSERT_EQ(outbox.enqueue("b", "r2", "two", 0), Outbox::Admission::Accepted);
    ASSERT_EQ(outbox.enqueue("c", "r1", "three", 0), Outbox::Admission::Accepted);

    const auto first = outbox.takeReady(0, anyRoom);
    EXPECT_EQ(ids(first), (QStringList { "a", "b", "c" }));
    EXPECT_EQ(first[0].attempts, 1);
    EXPECT_EQ(first[0].state, OutboxEntry::State::Sent);
    // Sent entries are not handed out again until the connection drops.
    EXPECT_TRUE(outbox.takeReady(0, anyRoom).isEmpty());
    EXPECT_EQ(outbox.size(), 3);
}

TEST(Outbox, HoldsMessagesForRoomsNotReady)
{
    Outbox outbox(10, 1000);
    outbox.enqueue("a", "joined", "x", 0);
    outbox.enqueue("b", "joining", "y", 0);
    const auto onlyJoined = [](const QString& room) { return room == "joined"; };
    EXPECT_EQ(ids(outbox.takeReady(0, onlyJoined)), QStringList { "a" });
    EXPECT_EQ(ids(outbox.takeReady(0, anyRoom)), QStringList { "b" });
}

TEST(Outbox, RefusesPastTheCountBound)
{
    Outbox outbox(2, 1000);
    EXPECT_EQ(outbox.enqueue("a", "r", "x", 0), Outbox::Admission::Accepted);
    EXPECT_EQ(outbox.enqueue("b", "r", "x", 0), Outbox::Admission::Accepted);
    EXPECT_EQ(outbox.enqueue("c", "r", "x", 0), Outbox::Admission::Full);
    EXPECT_EQ(outbox.size(), 2);
    // An ack frees a slot.
    ASSERT_TRUE(outbox.remove("a"));
    EXPECT_EQ(outbox.enqueue("c", "r", "x", 0), Outbox::Admission::Accepted);
}

TEST(Outbox, RefusesPastTheByteBoundCountingUtf8)
{
    Outbox outbox(100, 10);
    EXPECT_EQ(outbox.enqueue("a", "r", QString::fromUtf8("ééé"), 0), Outbox::Admission::Accepted); // 6 bytes
    EXPECT_EQ(outbox.bytes(), 6);
    EXPECT_EQ(outbox.enqueue("b", "r", "12345", 0), Outbox::Admission::Full); // 11 > 10
    EXPECT_EQ(outbox.enqueue("b", "r", "1234", 0), Outbox::Admission::Accepted); // exactly 10
    outbox.remove("a");
    EXPECT_EQ(outbox.bytes(), 4);
}

TEST(Outbox, RejectsADuplicateClientId)
{
    Outbox outbox(10, 1000);
    outbox.enqueue("a", "r", "x", 0);
    EXPECT_EQ(outbox.enqueue("a", "r", "y", 0), Outbox::Admission::DuplicateId);
    EXPECT_EQ(outbox.size(), 1);
}

TEST(Outbox, EachClientIdLeavesExactlyOnce)
{
    Outbox outbox(10, 1000);
    outbox.enqueue("a", "r", "x", 0);
    outbox.takeReady(0, anyRoom);
    const auto acked = outbox.remove("a");
    ASSERT_TRUE(acked.has_value());
    EXPECT_EQ(acked->body, "x");
    // A second ack for the same id (a resend answered twice) finds nothing.
    EXPECT_FALSE(outbox.remove("a").has_value());
    EXPECT_TRUE(outbox.isEmpty());
    EXPECT_EQ(outbox.bytes(), 0);
}

TEST(Outbox, ADropRequeuesSentMessagesInOrderWithTheirIds)
{
    Outbox outbox(10, 1000);
    outbox.enqueue("a", "r", "1", 0);
    outbox.enqueue("b", "r", "2", 0);
    outbox.takeReady(0, anyRoom);
    outbox.enqueue("c", "r", "3", 0);
    outbox.remove("a"); // acked before the drop

    outbox.requeueSent();
    const auto resent = outbox.takeReady(0, anyRoom);
    EXPECT_EQ(ids(resent), (QStringList { "b", "c" }));
    EXPECT_EQ(resent[0].attempts, 2);
    EXPECT_EQ(resent[1].attempts, 1);
}

TEST(Outbox, RetryLaterWaitsUntilItsTime)
{
    Outbox outbox(10, 1000);
    outbox.enqueue("a", "r", "x", 0);
    outbox.takeReady(0, anyRoom);
    ASSERT_TRUE(outbox.retryLater("a", 500));
    EXPECT_FALSE(outbox.retryLater("nope", 500));
    EXPECT_EQ(outbox.nextWakeMs(100, 0), 500);
    EXPECT_TRUE(outbox.takeReady(499, anyRoom).isEmpty());
    EXPECT_EQ(ids(outbox.takeReady(500, anyRoom)), QStringList { "a" });
    // Nothing is due any more: no wake-up (a timer would spin otherwise).
    EXPECT_FALSE(outbox.nextWakeMs(600, 0).has_value());
}

TEST(Outbox, ARetryThatCameDueWithoutATakeStillWakesTheCaller)
{
    // The caller re-arms its timer from nextWakeMs() on any event (an ack, say). A retry that
    // came due after the last takeReady() must still be reported, or the timer is armed past it
    // and the message sits in Queued until something else happens.
    Outbox outbox(10, 1000);
    outbox.enqueue("a", "r", "x", 0);
    outbox.enqueue("b", "r", "y", 0);
    outbox.takeReady(0, anyRoom);
    ASSERT_TRUE(outbox.retryLater("a", 500));
    ASSERT_TRUE(outbox.retryLater("b", 500));
    EXPECT_TRUE(outbox.takeReady(400, anyRoom).isEmpty()); // held: not due yet
    EXPECT_EQ(outbox.nextWakeMs(600, 0), 500); // due since 500, not taken since 400: wake now
    // Once a take saw them due (the room was not ready), they wait for outside input.
    EXPECT_TRUE(outbox.takeReady(600, [](const QString&) { return false; }).isEmpty());
    EXPECT_FALSE(outbox.nextWakeMs(700, 0).has_value());
    EXPECT_EQ(ids(outbox.takeReady(700, anyRoom)), (QStringList { "a", "b" }));
}

TEST(Outbox, ExpiresMessagesPastTheirDeadline)
{
    Outbox outbox(10, 1000);
    outbox.enqueue("old", "r", "x", 0);
    outbox.enqueue("new", "r", "y", 400);
    EXPECT_EQ(outbox.nextWakeMs(0, 1000), 1000);
    EXPECT_TRUE(outbox.takeExpired(999, 1000).isEmpty());
    EXPECT_EQ(ids(outbox.takeExpired(1000, 1000)), QStringList { "old" });
    EXPECT_EQ(outbox.nextWakeMs(1000, 1000), 1400);
    // Timeout 0 means never.
    EXPECT_TRUE(outbox.takeExpired(1000000, 0).isEmpty());
    EXPECT_EQ(outbox.size(), 1);
}

TEST(Outbox, AnExpiredMessageKeepsTheServersLastRefusal)
{
    Outbox outbox(10, 1000);
    outbox.enqueue("a", "r", "x", 0);
    outbox.enqueue("b", "r", "y", 0);
    outbox.takeReady(0, anyRoom);
    const parley::Error storage { parley::ErrorCode::Unavailable,
        "send: storage failed: commit: database or disk is full", true, {} };
    ASSERT_TRUE(outbox.retryLater("a", 100, storage));
    outbox.takeReady(100, anyRoom);
    // A requeue without an answer (the connection dropped) keeps what the server said last.
    outbox.requeueSent();
    ASSERT_TRUE(outbox.retryLater("a", 200));
    const QList<OutboxEntry> expired = outbox.takeExpired(1000, 1000);
    ASSERT_EQ(ids(expired), (QStringList { "a", "b" }));
    ASSERT_TRUE(expired.at(0).lastRefusal.has_value());
    EXPECT_EQ(expired.at(0).lastRefusal->code, parley::ErrorCode::Unavailable);
    EXPECT_EQ(expired.at(0).lastRefusal->message, storage.message);
    EXPECT_FALSE(expired.at(1).lastRefusal.has_value()); // never refused: a plain timeout
}

TEST(Outbox, TheNextExpiryIgnoresRetries)
{
    // Offline, the client wakes only for deadlines: a retry that is due waits for the
    // connection, so it must not make the next wake-up "now" over and over.
    Outbox outbox(10, 1000);
    EXPECT_FALSE(outbox.nextExpiryMs(1000).has_value());
    outbox.enqueue("a", "r", "x", 100);
    outbox.enqueue("b", "r", "y", 300);
    outbox.takeReady(300, anyRoom);
    ASSERT_TRUE(outbox.retryLater("a", 400));
    EXPECT_EQ(outbox.nextWakeMs(500, 1000), 400); // the due retry
    EXPECT_EQ(outbox.nextExpiryMs(1000), 1100); // only the oldest deadline
    EXPECT_FALSE(outbox.nextExpiryMs(0).has_value()); // no deadlines at all
    outbox.remove("a");
    EXPECT_EQ(outbox.nextExpiryMs(1000), 1300);
}

TEST(Outbox, LeavingARoomTakesOnlyItsUnsentMessages)
{
    Outbox outbox(10, 1000);
    outbox.enqueue("sent", "r", "x", 0);
    outbox.takeReady(0, anyRoom);
    outbox.enqueue("queued", "r", "y", 0);
    outbox.enqueue("other", "s", "z", 0);
    EXPECT_EQ(ids(outbox.takeQueuedForRoom("r")), QStringList { "queued" });
    EXPECT_NE(outbox.find("sent"), nullptr); // its ack is still to come
    EXPECT_NE(outbox.find("other"), nullptr);
    EXPECT_EQ(outbox.size(), 2);
}
