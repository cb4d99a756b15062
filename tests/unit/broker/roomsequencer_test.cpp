// RoomSequencer: a cluster node's delivery order for one room, as tables of arrivals (live
// channel messages, history reads, position reads) and the seqs handed to the hub.
#include "broker/roomsequencer.h"

#include <gtest/gtest.h>

#include <variant>
#include <vector>

namespace parley::server {
namespace {

using Seqs = std::vector<std::uint64_t>;

protocol::Message message(std::uint64_t seq)
{
    protocol::Message m;
    m.room = "r";
    m.epoch = "e1";
    m.seq = seq;
    m.body = "m" + std::to_string(seq);
    return m;
}

// One arrival at the sequencer.
struct Live { std::uint64_t seq; };
struct Position { std::string epoch; std::uint64_t lastSeq; };
struct History { Seqs seqs; std::uint64_t firstRetained = 1; };
using Event = std::variant<Live, Position, History>;

struct Outcome {
    Seqs delivered; // in the order take() handed them out
    std::optional<std::uint64_t> gapEnd; // after the last event
    std::uint64_t last = 0; // delivered()
};

Outcome run(const std::vector<Event>& events)
{
    RoomSequencer order;
    Outcome out;
    for (const Event& event : events) {
        if (const auto* live = std::get_if<Live>(&event)) {
            order.receive(message(live->seq));
        } else if (const auto* position = std::get_if<Position>(&event)) {
            if (order.positioned()) {
                order.reposition(position->epoch, position->lastSeq);
            } else {
                order.position(position->epoch, position->lastSeq);
            }
        } else {
            const auto& history = std::get<History>(event);
            std::vector<protocol::Message> messages;
            for (const std::uint64_t seq : history.seqs) {
                messages.push_back(message(seq));
            }
            order.fill(messages, history.firstRetained);
        }
        for (const protocol::Message& m : order.take()) {
            out.delivered.push_back(m.seq);
        }
    }
    out.gapEnd = order.gapEnd();
    out.last = order.delivered();
    return out;
}

struct Case {
    const char* name;
    std::vector<Event> events;
    Seqs delivered;
    std::optional<std::uint64_t> gapEnd;
    std::uint64_t last;
};

TEST(RoomSequencerTest, DeliversEachSeqOnceInOrder)
{
    const std::vector<Case> cases = {
        { "in order after the position", { Position { "e1", 3 }, Live { 4 }, Live { 5 } },
            { 4, 5 }, std::nullopt, 5 },
        { "nothing before the position; what it covers is dropped",
            { Live { 3 }, Live { 4 }, Live { 5 }, Position { "e1", 4 } }, { 5 }, std::nullopt, 5 },
        { "out of order is reordered", { Position { "e1", 0 }, Live { 2 }, Live { 3 }, Live { 1 } },
            { 1, 2, 3 }, std::nullopt, 3 },
        { "duplicates are dropped, live and from history",
            { Position { "e1", 0 }, Live { 1 }, Live { 1 }, History { { 1, 2 } }, Live { 2 } },
            { 1, 2 }, std::nullopt, 2 },
        { "a hole waits and names its end",
            { Position { "e1", 10 }, Live { 11 }, Live { 14 }, Live { 15 } }, { 11 }, 13, 11 },
        { "history fills the hole, then the rest flows",
            { Position { "e1", 10 }, Live { 11 }, Live { 14 }, History { { 12, 13 } }, Live { 16 } },
            { 11, 12, 13, 14 }, 15, 14 },
        { "a trimmed hole is skipped",
            { Position { "e1", 10 }, Live { 20 }, History { { 18, 19 }, 18 } }, { 18, 19, 20 },
            std::nullopt, 20 },
        { "a re-subscription's position past delivered is a gap, no delivery yet",
            { Position { "e1", 5 }, Live { 6 }, Position { "e1", 9 } }, { 6 }, std::nullopt, 6 },
        { "a new epoch starts the stream over, dropping what was kept",
            { Position { "e1", 50 }, Live { 53 }, Position { "e2", 2 }, Live { 3 } }, { 3 },
            std::nullopt, 3 },
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const Outcome out = run(c.events);
        EXPECT_EQ(out.delivered, c.delivered);
        EXPECT_EQ(out.gapEnd, c.gapEnd);
        EXPECT_EQ(out.last, c.last);
    }
}

TEST(RoomSequencerTest, RepositionReportsTheGapAndTheEpochChange)
{
    RoomSequencer order;
    order.position("e1", 5);
    EXPECT_EQ(order.reposition("e1", 5), std::nullopt);
    EXPECT_FALSE(order.epochChanged());
    EXPECT_EQ(order.reposition("e1", 8), std::optional<std::uint64_t>(8));
    EXPECT_EQ(order.reposition("e2", 3), std::optional<std::uint64_t>()); // 5 -> min(5, 3) = 3
    EXPECT_TRUE(order.epochChanged());
    EXPECT_EQ(order.epoch(), "e2");
    EXPECT_EQ(order.delivered(), 3u);
}

TEST(RoomSequencerTest, FillReportsWhatWasTrimmed)
{
    RoomSequencer order;
    order.position("e1", 10);
    EXPECT_EQ(order.fill({}, 11), std::nullopt);
    const auto trimmed = order.fill({ message(30) }, 30);
    ASSERT_TRUE(trimmed);
    EXPECT_EQ(*trimmed, (RoomSequencer::Range { 11, 29 }));
    EXPECT_EQ(order.take().size(), 1u);
    EXPECT_EQ(order.delivered(), 30u);
}

TEST(RoomSequencerTest, KeptMessagesAreBoundedByWhatArrived)
{
    // Holds only what it was given: a thousand messages behind one hole are a thousand entries,
    // all delivered once the hole is filled.
    RoomSequencer order;
    order.position("e1", 0);
    for (std::uint64_t seq = 2; seq <= 1001; ++seq) {
        order.receive(message(seq));
    }
    EXPECT_TRUE(order.take().empty());
    EXPECT_EQ(order.pending(), 1000u);
    EXPECT_EQ(order.gapEnd(), std::optional<std::uint64_t>(1));
    order.fill({ message(1) }, 1);
    EXPECT_EQ(order.take().size(), 1001u);
    EXPECT_EQ(order.pending(), 0u);
}

} // namespace
} // namespace parley::server
