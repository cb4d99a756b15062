// Resume after a reconnect: missed messages in order, then `recovered`, then live — no gap and no
// duplicate at the seam, even while others keep sending.
#include "rawclient.h"
#include "serverprocess.h"

#include <gtest/gtest.h>

namespace parley::test {
namespace {

class ResumeTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(m_server.start()) << m_server.output().toStdString(); }

    std::unique_ptr<RawClient> connect(
        const std::string& user, std::vector<protocol::ResumeCursor> resume = {})
    {
        auto client = std::make_unique<RawClient>(m_server.webSocketUrl());
        EXPECT_TRUE(client->open());
        EXPECT_TRUE(client->hello(user, std::move(resume)));
        return client;
    }

    // The frames of `room` after the welcome, in order, as a compact trace: "m5" for message
    // seq 5, "R" for recovered, "J" for joined.
    static std::vector<std::string> trace(const RawClient& client, const std::string& room)
    {
        std::vector<std::string> out;
        for (const auto& frame : client.frames()) {
            if (const auto* m = std::get_if<protocol::Message>(&frame); m && m->room == room) {
                out.push_back("m" + std::to_string(m->seq));
            } else if (const auto* r = std::get_if<protocol::Recovered>(&frame);
                       r && r->room == room) {
                out.push_back("R");
            } else if (const auto* j = std::get_if<protocol::Joined>(&frame);
                       j && j->room == room) {
                out.push_back("J");
            }
        }
        return out;
    }

    ServerProcess m_server { { "--io-threads", "2" } };
};

TEST_F(ResumeTest, ReplaysMissedMessagesThenRecovered)
{
    auto bob = connect("bob");
    ASSERT_TRUE(bob->join("lobby"));
    std::string epoch;
    {
        auto alice = connect("alice");
        const auto joined = alice->join("lobby");
        ASSERT_TRUE(joined);
        epoch = joined->cursor.epoch;
        for (int i = 1; i <= 3; ++i) {
            ASSERT_TRUE(bob->sendMessage("lobby", "b" + std::to_string(i), "before"));
        }
        ASSERT_TRUE(alice->take<protocol::Message>([](const auto& m) { return m.seq == 3; }));
    } // alice drops at seq 3
    for (int i = 4; i <= 8; ++i) {
        ASSERT_TRUE(
            bob->sendMessage("lobby", "b" + std::to_string(i), "missed " + std::to_string(i)));
    }
    auto alice = connect("alice", { { "lobby", { epoch, 3 } } });
    const auto recovered = alice->take<protocol::Recovered>();
    ASSERT_TRUE(recovered);
    EXPECT_TRUE(recovered->recovered);
    EXPECT_FALSE(recovered->epochChanged);
    EXPECT_EQ(recovered->cursor.epoch, epoch);
    EXPECT_EQ(recovered->cursor.seq, 8u);
    EXPECT_EQ(trace(*alice, "lobby"),
        (std::vector<std::string> { "J", "m4", "m5", "m6", "m7", "m8", "R" }));
    // And she is live in the room again, without a join of her own.
    ASSERT_TRUE(bob->sendMessage("lobby", "b9", "live"));
    const auto live = alice->take<protocol::Message>([](const auto& m) { return m.seq == 9; });
    ASSERT_TRUE(live);
    EXPECT_EQ(live->body, "live");
    ASSERT_TRUE(alice->sendMessage("lobby", "a1", "i am back"));
}

TEST_F(ResumeTest, NothingMissedStillSaysRecovered)
{
    auto alice = connect("alice");
    const auto joined = alice->join("lobby");
    ASSERT_TRUE(joined);
    ASSERT_TRUE(alice->sendMessage("lobby", "a1", "one"));
    alice = connect("alice", { { "lobby", { joined->cursor.epoch, 1 } } });
    const auto recovered = alice->take<protocol::Recovered>();
    ASSERT_TRUE(recovered);
    EXPECT_TRUE(recovered->recovered);
    EXPECT_EQ(recovered->cursor.seq, 1u);
    EXPECT_EQ(trace(*alice, "lobby"), (std::vector<std::string> { "J", "R" }));
}

TEST_F(ResumeTest, ForeignEpochIsReportedAsChanged)
{
    auto bob = connect("bob");
    ASSERT_TRUE(bob->join("lobby"));
    ASSERT_TRUE(bob->sendMessage("lobby", "b1", "x"));
    auto alice = connect("alice", { { "lobby", { "0000000000000000", 1 } } });
    const auto recovered = alice->take<protocol::Recovered>();
    ASSERT_TRUE(recovered);
    EXPECT_FALSE(recovered->recovered);
    EXPECT_TRUE(recovered->epochChanged);
    EXPECT_NE(recovered->cursor.epoch, "0000000000000000");
    EXPECT_EQ(recovered->cursor.seq, 1u);
    // No replay from a foreign stream.
    EXPECT_EQ(trace(*alice, "lobby"), (std::vector<std::string> { "J", "R" }));
}

TEST_F(ResumeTest, CursorAheadOfTheRoomIsReportedAsSuch)
{
    // A cursor of this very stream, but past its end: the server does not have what the client
    // says it delivered (e.g. it was restored from an older copy of its data). Nothing is
    // replayed, and the answer says so in a way the client can act on: same epoch, the room's
    // real position, cursor_ahead (not epoch_changed, which would name the same epoch).
    auto bob = connect("bob");
    const auto joined = bob->join("lobby");
    ASSERT_TRUE(joined);
    ASSERT_TRUE(bob->sendMessage("lobby", "b1", "x"));
    auto alice = connect("alice", { { "lobby", { joined->cursor.epoch, 5 } } });
    const auto recovered = alice->take<protocol::Recovered>();
    ASSERT_TRUE(recovered);
    EXPECT_FALSE(recovered->recovered);
    EXPECT_FALSE(recovered->epochChanged);
    EXPECT_TRUE(recovered->cursorAhead);
    EXPECT_EQ(recovered->cursor.epoch, joined->cursor.epoch);
    EXPECT_EQ(recovered->cursor.seq, 1u);
    EXPECT_EQ(trace(*alice, "lobby"), (std::vector<std::string> { "J", "R" }));
    // The stream goes on from the room's position: seq 2 is new to her.
    ASSERT_TRUE(bob->sendMessage("lobby", "b2", "after"));
    const auto live = alice->take<protocol::Message>([](const auto& m) { return m.seq == 2; });
    ASSERT_TRUE(live);
    EXPECT_EQ(live->body, "after");
}

TEST_F(ResumeTest, SeamHasNoGapOrDuplicateWhileOthersKeepSending)
{
    auto bob = connect("bob");
    const auto joined = bob->join("lobby");
    ASSERT_TRUE(joined);
    const std::string epoch = joined->cursor.epoch;
    constexpr int kBefore = 1200; // more than one replay chunk (500)
    constexpr int kDuring = 300;
    for (int i = 1; i <= kBefore; ++i) {
        bob->send(protocol::Send { {}, "lobby", "b" + std::to_string(i), "m" });
    }
    ASSERT_TRUE(bob->take<protocol::Message>(
        [](const auto& m) { return m.seq == std::uint64_t(kBefore); }, 60000));
    // Alice resumes from seq 10 while bob keeps sending (pipelined, not waiting).
    auto alice = std::make_unique<RawClient>(m_server.webSocketUrl());
    ASSERT_TRUE(alice->open());
    alice->send(protocol::Hello { "h", "alice", "", { { "lobby", { epoch, 10 } } } });
    for (int i = kBefore + 1; i <= kBefore + kDuring; ++i) {
        bob->send(protocol::Send { {}, "lobby", "b" + std::to_string(i), "m" });
    }
    ASSERT_TRUE(alice->take<protocol::Message>(
        [](const auto& m) { return m.seq == std::uint64_t(kBefore + kDuring); }, 60000));
    const std::vector<std::string> seen = trace(*alice, "lobby");
    std::vector<std::uint64_t> seqs;
    int recoveredAt = -1;
    for (const std::string& item : seen) {
        if (item == "R") {
            recoveredAt = int(seqs.size());
        } else if (item[0] == 'm') {
            seqs.push_back(std::stoull(item.substr(1)));
        }
    }
    ASSERT_EQ(seen.front(), "J");
    ASSERT_GE(recoveredAt, 0) << "no recovered frame";
    ASSERT_EQ(seqs.size(), std::size_t(kBefore + kDuring - 10));
    for (std::size_t i = 0; i < seqs.size(); ++i) {
        ASSERT_EQ(seqs[i], 11 + i) << "gap or duplicate at position " << i;
    }
    const auto recovered = alice->take<protocol::Recovered>();
    ASSERT_TRUE(recovered);
    EXPECT_TRUE(recovered->recovered);
    // Everything before `recovered` is the replay, up to the position it names.
    EXPECT_EQ(recovered->cursor.seq, seqs[std::size_t(recoveredAt) - 1]);
}

TEST_F(ResumeTest, ResumeAcrossAServerRestart)
{
    auto alice = connect("alice");
    const auto joined = alice->join("lobby");
    ASSERT_TRUE(joined);
    ASSERT_TRUE(alice->sendMessage("lobby", "a1", "one"));
    ASSERT_TRUE(alice->sendMessage("lobby", "a2", "two"));
    alice.reset();
    m_server.kill();
    ASSERT_TRUE(m_server.restart());
    auto bob = connect("bob");
    ASSERT_TRUE(bob->join("lobby"));
    ASSERT_TRUE(bob->sendMessage("lobby", "b1", "three"));
    alice = connect("alice", { { "lobby", { joined->cursor.epoch, 1 } } });
    ASSERT_TRUE(alice->take<protocol::Recovered>());
    EXPECT_EQ(trace(*alice, "lobby"), (std::vector<std::string> { "J", "m2", "m3", "R" }));
}

} // namespace
} // namespace parley::test
