// Real parleyd, raw WebSocket clients: presence frames, and the room-size limit above which they
// stop (a presence broadcast per join would make filling a big room O(N^2)).
#include "rawclient.h"
#include "serverprocess.h"

#include <gtest/gtest.h>

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

} // namespace
} // namespace parley::test
