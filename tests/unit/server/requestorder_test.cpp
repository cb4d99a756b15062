// RequestOrder: answers leave in ticket order, held ones are released as soon as the earlier
// ones are answered, and the frames waiting per room keep their order and their bound.
#include "session/requestorder.h"

#include <gtest/gtest.h>

namespace parley::server {
namespace {

TextFrame frame(const std::string& json)
{
    return TextFrame::fromUtf8(json);
}

std::string text(const TextFrame& f)
{
    return f.payload().toByteArray().toStdString();
}

RequestOrder::Waiting waiting(RequestOrder::Ticket ticket, std::size_t bytes = 10)
{
    RequestOrder::Waiting w;
    w.ticket = ticket;
    w.frame = protocol::Heartbeat { "h" + std::to_string(ticket) };
    w.bytes = bytes;
    return w;
}

TEST(RequestOrder, AnAnswerAtTheHeadGoesOutAtOnce)
{
    RequestOrder order;
    std::vector<std::string> out;
    auto sink = [&](const TextFrame& f) { out.push_back(text(f)); };
    for (int i = 0; i < 3; ++i) {
        const auto ticket = order.open();
        EXPECT_TRUE(order.isHead(ticket));
        order.answer(ticket, frame(std::to_string(i)), sink);
        EXPECT_EQ(order.heldBytes(), 0u);
    }
    EXPECT_EQ(out, (std::vector<std::string> { "0", "1", "2" }));
    EXPECT_EQ(order.unanswered(), 0u);
}

TEST(RequestOrder, LaterAnswersWaitForEarlierOnesAndLeaveInOrder)
{
    RequestOrder order;
    std::vector<std::string> out;
    auto sink = [&](const TextFrame& f) { out.push_back(text(f)); };
    const auto a = order.open();
    const auto b = order.open();
    const auto c = order.open();
    const auto d = order.open();
    order.answer(c, frame("c"), sink);
    order.answer(b, frame("b"), sink);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(order.heldBytes(), frame("c").wire().size() + frame("b").wire().size());
    order.answer(a, frame("a"), sink);
    EXPECT_EQ(out, (std::vector<std::string> { "a", "b", "c" }));
    EXPECT_EQ(order.heldBytes(), 0u);
    EXPECT_TRUE(order.isHead(d));
    const auto e = order.open();
    order.answer(e, frame("e"), sink);
    order.answer(d, frame("d"), sink);
    EXPECT_EQ(out, (std::vector<std::string> { "a", "b", "c", "d", "e" }));
    EXPECT_EQ(order.unanswered(), 0u);
}

TEST(RequestOrder, AHeadAnsweredAtOnceReleasesWhatWasHeldBehindIt)
{
    RequestOrder order;
    std::vector<std::string> out;
    auto sink = [&](const TextFrame& f) { out.push_back(text(f)); };
    const auto a = order.open();
    const auto b = order.open();
    const auto c = order.open();
    order.answer(c, frame("c"), sink);
    order.answer(a, frame("a"), sink); // out at once; b still missing
    EXPECT_EQ(out, (std::vector<std::string> { "a" }));
    order.answer(b, frame("b"), sink);
    EXPECT_EQ(out, (std::vector<std::string> { "a", "b", "c" }));
}

TEST(RequestOrder, WaitingFramesKeepTheirOrderPerRoom)
{
    RequestOrder order;
    EXPECT_FALSE(order.hasWaiting("r"));
    EXPECT_EQ(order.front("r"), nullptr);
    ASSERT_TRUE(order.wait("r", waiting(1), 1000));
    ASSERT_TRUE(order.wait("s", waiting(2), 1000));
    ASSERT_TRUE(order.wait("r", waiting(3), 1000));
    EXPECT_TRUE(order.hasWaiting("r"));
    ASSERT_NE(order.front("r"), nullptr);
    EXPECT_EQ(order.front("r")->ticket, 1u);
    EXPECT_EQ(order.take("r").ticket, 1u);
    EXPECT_EQ(order.take("r").ticket, 3u);
    EXPECT_FALSE(order.hasWaiting("r"));
    EXPECT_EQ(order.take("s").ticket, 2u);
    EXPECT_FALSE(order.hasWaiting("s"));
}

TEST(RequestOrder, WaitingIsBoundedInFramesAndBytes)
{
    RequestOrder order;
    for (std::size_t i = 0; i < RequestOrder::kMaxWaitingFrames; ++i) {
        ASSERT_TRUE(order.wait("r", waiting(RequestOrder::Ticket(i), 1), 1 << 20)) << i;
    }
    EXPECT_FALSE(order.wait("r", waiting(99999, 1), 1 << 20));
    EXPECT_FALSE(order.wait("other", waiting(99999, 1), 1 << 20));
    RequestOrder bytes;
    ASSERT_TRUE(bytes.wait("r", waiting(0, 600), 1000));
    EXPECT_FALSE(bytes.wait("r", waiting(1, 401), 1000));
    EXPECT_TRUE(bytes.wait("r", waiting(1, 400), 1000));
    // What was refused was not kept.
    EXPECT_EQ(bytes.take("r").ticket, 0u);
    EXPECT_EQ(bytes.take("r").ticket, 1u);
    EXPECT_FALSE(bytes.hasWaiting("r"));
}

TEST(RequestOrder, ARoomWaitingForTheHeadRunsWhenItsTicketIsNext)
{
    RequestOrder order;
    auto sink = [](const TextFrame&) {};
    const auto a = order.open();
    const auto b = order.open();
    const auto join = order.open();
    ASSERT_TRUE(order.wait("r", waiting(join), 1000));
    order.waitForHead("r", join);
    EXPECT_FALSE(order.takeRunnable());
    order.answer(b, frame("b"), sink);
    EXPECT_FALSE(order.takeRunnable()); // b is held behind a
    order.answer(a, frame("a"), sink);
    EXPECT_EQ(order.takeRunnable(), std::optional<std::string>("r"));
    EXPECT_FALSE(order.takeRunnable());
    // Already at the head: runnable at once.
    order.waitForHead("r", join);
    EXPECT_EQ(order.takeRunnable(), std::optional<std::string>("r"));
}

TEST(RequestOrder, WakeMakesOnlyARoomWithWaitingFramesRunnable)
{
    RequestOrder order;
    order.wake("nothing-waits");
    EXPECT_FALSE(order.takeRunnable());
    ASSERT_TRUE(order.wait("r", waiting(0), 1000));
    order.wake("r");
    EXPECT_EQ(order.takeRunnable(), std::optional<std::string>("r"));
}

} // namespace
} // namespace parley::server
