// Real parleyd, raw WebSocket clients: presence frames, and the room-size limit above which they
// stop (a presence broadcast per join would make filling a big room O(N^2)). Costs are counted in
// frames, never timed.
#include "rawclient.h"
#include "serverprocess.h"

#include <gtest/gtest.h>
#include <string>

namespace parley::test {
namespace {

class PresenceTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(m_server.start()) << m_server.output().toStdString(); }

    std::unique_ptr<RawClient> connect(const std::string& user)
    {
        auto client = std::make_unique<RawClient>(m_server.webSocketUrl());
        EXPECT_TRUE(client->open()) << m_server.output().toStdString();
        EXPECT_TRUE(client->hello(user));
        return client;
    }

    static bool sawPresence(const RawClient& client, const std::string& user, bool online)
    {
        for (const auto& frame : client.frames()) {
            if (const auto* p = std::get_if<protocol::Presence>(&frame)) {
                if (p->user == user && p->online == online) {
                    return true;
                }
            }
        }
        return false;
    }

    // Rooms of more than 2 users get no presence frames.
    ServerProcess m_server { { "--io-threads", "2", "--presence-max-members", "2" } };
};

TEST_F(PresenceTest, AnnouncedUpToTheLimitAndNotAboveIt)
{
    auto alice = connect("alice");
    auto bob = connect("bob");
    auto carol = connect("carol");
    ASSERT_TRUE(alice->join("big"));
    ASSERT_TRUE(bob->join("big"));
    // Two users: within the limit, alice hears bob.
    EXPECT_TRUE(alice->take<protocol::Presence>(
        [](const protocol::Presence& p) { return p.user == "bob" && p.online; }));

    // A third user: above the limit, nobody is told. The hub sends presence before any later
    // message of the room, on the same ordered path, so once carol's message has arrived a
    // presence frame for her would have arrived too.
    ASSERT_TRUE(carol->join("big"));
    ASSERT_TRUE(carol->sendMessage("big", "c-1", "hi all"));
    for (RawClient* member : { alice.get(), bob.get() }) {
        ASSERT_TRUE(member->take<protocol::Message>(
            [](const protocol::Message& m) { return m.clientId == "c-1"; }));
        EXPECT_FALSE(sawPresence(*member, "carol", true));
    }

    // Carol leaves a room of 3 (above the limit): no offline frame either. `left` is sent after
    // the hub has been told, so bob's disconnect below reaches the hub after carol's leave.
    const std::string id = carol->nextId();
    carol->send(protocol::Leave { id, "big" });
    ASSERT_TRUE(carol->take<protocol::Left>([&](const protocol::Left& l) { return l.id == id; }));
    // Bob leaves the room of 2 that is left: within the limit again, alice hears it.
    bob.reset();
    EXPECT_TRUE(alice->take<protocol::Presence>(
        [](const protocol::Presence& p) { return p.user == "bob" && !p.online; }));
    ASSERT_TRUE(alice->sendMessage("big", "a-1", "anyone?"));
    ASSERT_TRUE(alice->take<protocol::Message>(
        [](const protocol::Message& m) { return m.clientId == "a-1"; }));
    EXPECT_FALSE(sawPresence(*alice, "carol", false));
    EXPECT_FALSE(sawPresence(*alice, "carol", true));
}

// A room far above --presence-max-members: neither `presence` nor `user_presence` may announce
// every join to every member (filling a room of N would cost N^2/2 frames: 112 million for
// 15,000). Counted at the members, in frames.
class BigRoomPresenceTest : public ::testing::Test {
protected:
    static constexpr std::size_t kLimit = 5;
    static constexpr std::size_t kMembers = 60; // well past the limit
    static constexpr std::size_t kFillBound = kLimit * (kLimit + 1) / 2;

    void SetUp() override { ASSERT_TRUE(m_server.start()) << m_server.output().toStdString(); }

    std::unique_ptr<RawClient> member(const std::string& user)
    {
        auto client = std::make_unique<RawClient>(m_server.webSocketUrl());
        EXPECT_TRUE(client->open()) << m_server.output().toStdString();
        EXPECT_TRUE(client->hello(user));
        EXPECT_TRUE(client->join("big"));
        return client;
    }

    //! Every presence frame the server produced so far for `members` has reached them: a message
    //! through the room follows the hub's `presence` frames on the same ordered path, and the
    //! answer to a presence_query follows the `user_presence` frames the presence thread posted
    //! before it (the query is sent after everything the test waited for).
    void settle(const std::vector<std::unique_ptr<RawClient>>& members)
    {
        const std::string clientId = "settle-" + std::to_string(++m_settles);
        ASSERT_TRUE(members.front()->sendMessage("big", clientId, "sync"));
        for (const auto& m : members) {
            ASSERT_TRUE(m->take<protocol::Message>(
                [&](const protocol::Message& message) { return message.clientId == clientId; }));
            ASSERT_TRUE(m->queryOnline("nobody").has_value());
        }
    }

    struct Counts {
        std::size_t presence = 0;
        std::size_t userPresence = 0;
    };
    //! Presence frames received by `members`, all of them since they connected.
    static Counts count(const std::vector<std::unique_ptr<RawClient>>& members)
    {
        Counts counts;
        for (const auto& m : members) {
            for (const auto& frame : m->frames()) {
                counts.presence += std::holds_alternative<protocol::Presence>(frame) ? 1 : 0;
                counts.userPresence
                    += std::holds_alternative<protocol::UserPresence>(frame) ? 1 : 0;
            }
        }
        return counts;
    }

    ServerProcess m_server { { "--io-threads", "2", "--presence-max-members",
        QString::number(kLimit) } };
    int m_settles = 0;
};

TEST_F(BigRoomPresenceTest, JoiningARoomFarAboveTheLimitCostsTheMembersNoFrames)
{
    std::vector<std::unique_ptr<RawClient>> members;
    for (std::size_t i = 0; i < kMembers; ++i) {
        members.push_back(member("user" + std::to_string(i)));
    }
    settle(members);
    // Only the first kLimit joins are announced, the k-th to the k members then in the room:
    // 15 frames of each kind, not the N(N+1)/2 = 1,830 of announcing every join.
    const Counts filled = count(members);
    EXPECT_LE(filled.presence, kFillBound);
    EXPECT_LE(filled.userPresence, kFillBound);
    EXPECT_GT(filled.userPresence, 0u) << "the first joins, within the limit, are announced";

    // One more member: nothing reaches the others, however many they are.
    auto newcomer = member("newcomer");
    settle(members);
    const Counts joined = count(members);
    EXPECT_EQ(joined.presence, filled.presence);
    EXPECT_EQ(joined.userPresence, filled.userPresence);

    // Nor when it goes offline: once the server answers that it is offline, its transition
    // frames (if any) were posted before that answer, and its leave reached the hub before
    // the settle message.
    newcomer->close();
    std::optional<bool> online = true;
    for (int i = 0; i < 1000 && online != std::optional<bool>(false); ++i) {
        online = members.front()->queryOnline("newcomer");
    }
    ASSERT_EQ(online, std::optional<bool>(false));
    settle(members);
    const Counts left = count(members);
    EXPECT_EQ(left.presence, filled.presence);
    EXPECT_EQ(left.userPresence, filled.userPresence);
}

} // namespace
} // namespace parley::test
