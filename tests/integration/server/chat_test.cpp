// Real parleyd, raw WebSocket clients: the chat paths users depend on.
#include "rawclient.h"
#include "serverprocess.h"

#include <gtest/gtest.h>
#include <map>
#include <set>

namespace parley::test {
namespace {

class ChatTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(m_server.start()) << m_server.output().toStdString(); }

    std::unique_ptr<RawClient> connect(const std::string& user)
    {
        auto client = std::make_unique<RawClient>(m_server.webSocketUrl());
        EXPECT_TRUE(client->open()) << m_server.output().toStdString();
        EXPECT_TRUE(client->hello(user));
        return client;
    }

    ServerProcess m_server { { "--io-threads", "2" } };
};

TEST_F(ChatTest, TwoClientsChatThroughARoom)
{
    auto alice = connect("alice");
    auto bob = connect("bob");
    const auto aliceJoined = alice->join("lobby");
    ASSERT_TRUE(aliceJoined);
    EXPECT_EQ(aliceJoined->cursor.seq, 0u);
    EXPECT_EQ(aliceJoined->members, std::vector<std::string> { "alice" });
    const auto bobJoined = bob->join("lobby");
    ASSERT_TRUE(bobJoined);
    EXPECT_EQ(bobJoined->cursor.epoch, aliceJoined->cursor.epoch);
    EXPECT_EQ(std::set<std::string>(bobJoined->members.begin(), bobJoined->members.end()),
        (std::set<std::string> { "alice", "bob" }));
    // Alice hears that bob came online.
    EXPECT_TRUE(alice->take<protocol::Presence>(
        [](const protocol::Presence& p) { return p.user == "bob" && p.online; }));

    const auto ack = alice->sendMessage("lobby", "c-1", "hello bob");
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->seq, 1u);
    EXPECT_EQ(ack->clientId, "c-1");
    EXPECT_EQ(ack->epoch, aliceJoined->cursor.epoch);
    EXPECT_FALSE(ack->duplicate);
    EXPECT_FALSE(ack->msgId.empty());

    const auto received = bob->take<protocol::Message>();
    ASSERT_TRUE(received);
    EXPECT_EQ(received->body, "hello bob");
    EXPECT_EQ(received->sender, "alice");
    EXPECT_EQ(received->seq, 1u);
    EXPECT_EQ(received->msgId, ack->msgId);
    EXPECT_EQ(received->ts, ack->ts);
    // The sender gets its own message too.
    EXPECT_TRUE(alice->take<protocol::Message>());

    ASSERT_TRUE(bob->sendMessage("lobby", "b-1", "hi alice"));
    const auto reply = alice->take<protocol::Message>();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body, "hi alice");
    EXPECT_EQ(reply->seq, 2u);

    // Bob leaves: answered with left, alice sees him go offline, and gets nothing more to him.
    const std::string id = bob->nextId();
    bob->send(protocol::Leave { id, "lobby" });
    EXPECT_TRUE(bob->take<protocol::Left>([&](const protocol::Left& l) { return l.id == id; }));
    EXPECT_TRUE(alice->take<protocol::Presence>(
        [](const protocol::Presence& p) { return p.user == "bob" && !p.online; }));
    ASSERT_TRUE(alice->sendMessage("lobby", "c-2", "still there?"));
    ASSERT_TRUE(bob->sync());
    EXPECT_FALSE(bob->take<protocol::Message>(
        [](const protocol::Message& m) { return m.body == "still there?"; }, 0));
    EXPECT_TRUE(alice->undecodable().empty());
    EXPECT_TRUE(bob->undecodable().empty());
}

TEST_F(ChatTest, ConcurrentSendersSeeTheSameGaplessOrder)
{
    constexpr int kClients = 5;
    constexpr int kEach = 200;
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < kClients; ++i) {
        clients.push_back(connect("user" + std::to_string(i)));
        ASSERT_TRUE(clients.back()->join("busy"));
    }
    // Everyone sends without waiting for acks.
    for (int n = 0; n < kEach; ++n) {
        for (int i = 0; i < kClients; ++i) {
            clients[i]->send(
                protocol::Send { {}, "busy", "u" + std::to_string(i) + "-" + std::to_string(n),
                    "message " + std::to_string(n) });
        }
    }
    auto messageCount = [](const RawClient& c) {
        return std::count_if(c.frames().begin(), c.frames().end(),
            [](const auto& f) { return std::holds_alternative<protocol::Message>(f); });
    };
    for (auto& client : clients) {
        ASSERT_TRUE(
            RawClient::waitUntil([&] { return messageCount(*client) >= kClients * kEach; }, 60000))
            << messageCount(*client);
    }
    std::vector<std::string> reference;
    for (auto& client : clients) {
        std::vector<std::string> order;
        std::uint64_t expected = 1;
        for (const auto& frame : client->frames()) {
            if (const auto* m = std::get_if<protocol::Message>(&frame)) {
                EXPECT_EQ(m->seq, expected) << "gap or duplicate";
                ++expected;
                order.push_back(m->clientId);
            }
        }
        // Per sender, the server kept the sender's own order.
        std::map<std::string, int> lastPerSender;
        for (const std::string& clientId : order) {
            const auto dash = clientId.find('-');
            const std::string sender = clientId.substr(0, dash);
            const int n = std::stoi(clientId.substr(dash + 1));
            EXPECT_EQ(n, lastPerSender.contains(sender) ? lastPerSender[sender] + 1 : 0);
            lastPerSender[sender] = n;
        }
        if (reference.empty()) {
            reference = order;
        } else {
            EXPECT_EQ(order, reference) << "clients disagree on the order";
        }
        const auto acks = std::count_if(client->frames().begin(), client->frames().end(),
            [](const auto& f) { return std::holds_alternative<protocol::Ack>(f); });
        EXPECT_TRUE(RawClient::waitUntil([&] {
            return std::count_if(client->frames().begin(), client->frames().end(),
                       [](const auto& f) { return std::holds_alternative<protocol::Ack>(f); })
                == kEach;
        })) << acks;
    }
    EXPECT_EQ(reference.size(), std::size_t(kClients * kEach));
}

TEST_F(ChatTest, ResendIsAckedAsDuplicateAndNotStoredTwice)
{
    auto alice = connect("alice");
    auto bob = connect("bob");
    ASSERT_TRUE(alice->join("lobby"));
    ASSERT_TRUE(bob->join("lobby"));
    const auto first = alice->sendMessage("lobby", "same-id", "once");
    ASSERT_TRUE(first);
    const auto again = alice->sendMessage("lobby", "same-id", "once");
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->seq, first->seq);
    EXPECT_EQ(again->msgId, first->msgId);
    // Fan-out is per room in seq order: once bob has the next message, a second copy of the
    // first would have arrived before it.
    const auto next = alice->sendMessage("lobby", "other-id", "next");
    ASSERT_TRUE(next);
    EXPECT_EQ(next->seq, first->seq + 1);
    ASSERT_TRUE(bob->take<protocol::Message>([](const auto& m) { return m.body == "next"; }));
    int copies = 0;
    for (const auto& frame : bob->frames()) {
        if (const auto* m = std::get_if<protocol::Message>(&frame)) {
            copies += m->clientId == "same-id" ? 1 : 0;
        }
    }
    EXPECT_EQ(copies, 1);
    // A resend after a reconnect is still a duplicate.
    alice->close();
    auto aliceAgain = connect("alice");
    ASSERT_TRUE(aliceAgain->join("lobby"));
    const auto afterReconnect = aliceAgain->sendMessage("lobby", "same-id", "once");
    ASSERT_TRUE(afterReconnect);
    EXPECT_TRUE(afterReconnect->duplicate);
    EXPECT_EQ(afterReconnect->seq, first->seq);
}

TEST_F(ChatTest, HistoryPagesBothWays)
{
    auto alice = connect("alice");
    ASSERT_TRUE(alice->join("hist"));
    for (int i = 1; i <= 12; ++i) {
        ASSERT_TRUE(alice->sendMessage("hist", "h" + std::to_string(i), "m" + std::to_string(i)));
    }
    const auto latest = alice->history("hist", std::nullopt, std::nullopt, 5);
    ASSERT_TRUE(latest);
    ASSERT_EQ(latest->messages.size(), 5u);
    EXPECT_EQ(latest->messages.front().seq, 8u);
    EXPECT_EQ(latest->messages.back().seq, 12u);
    EXPECT_TRUE(latest->hasMore);
    EXPECT_FALSE(latest->epoch.empty());

    std::vector<std::uint64_t> backwards;
    std::optional<std::uint64_t> before;
    for (int guard = 0; guard < 10; ++guard) {
        const auto page = alice->history("hist", before, std::nullopt, 5);
        ASSERT_TRUE(page);
        for (auto it = page->messages.rbegin(); it != page->messages.rend(); ++it) {
            backwards.push_back(it->seq);
        }
        if (!page->hasMore) {
            break;
        }
        before = page->messages.front().seq;
    }
    EXPECT_EQ(backwards, (std::vector<std::uint64_t> { 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 }));

    const auto forward = alice->history("hist", std::nullopt, 10, 5);
    ASSERT_TRUE(forward);
    ASSERT_EQ(forward->messages.size(), 2u);
    EXPECT_EQ(forward->messages[0].seq, 11u);
    EXPECT_EQ(forward->messages[0].body, "m11");
    EXPECT_FALSE(forward->hasMore);
}

TEST_F(ChatTest, JoinIsIdempotent)
{
    auto alice = connect("alice");
    const auto first = alice->join("lobby");
    ASSERT_TRUE(first);
    ASSERT_TRUE(alice->sendMessage("lobby", "x", "one"));
    const auto second = alice->join("lobby");
    ASSERT_TRUE(second);
    EXPECT_EQ(second->cursor.epoch, first->cursor.epoch);
    EXPECT_EQ(second->cursor.seq, 1u);
    EXPECT_EQ(second->members, std::vector<std::string> { "alice" });
    // Still exactly one delivery per message.
    ASSERT_TRUE(alice->sendMessage("lobby", "y", "two"));
    ASSERT_TRUE(alice->take<protocol::Message>([](const auto& m) { return m.body == "two"; }));
    ASSERT_TRUE(alice->sync());
    EXPECT_FALSE(alice->take<protocol::Message>([](const auto& m) { return m.body == "two"; }, 0));
}

} // namespace
} // namespace parley::test
