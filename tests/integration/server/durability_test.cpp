// What was acked survives: SIGKILL after the acks, restart on the same data dir, nothing lost,
// seq continues, epoch unchanged.
#include "rawclient.h"
#include "serverprocess.h"

#include <gtest/gtest.h>

namespace parley::test {
namespace {

TEST(DurabilityTest, AckedMessagesSurviveSigkillAndSeqContinues)
{
    constexpr int kMessages = 300;
    ServerProcess server;
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    std::string epoch;
    {
        RawClient client(server.webSocketUrl());
        ASSERT_TRUE(client.open());
        ASSERT_TRUE(client.hello("alice"));
        const auto joined = client.join("durable");
        ASSERT_TRUE(joined);
        epoch = joined->cursor.epoch;
        // Pipelined, so commits are grouped; every one must be acked before the kill.
        for (int i = 1; i <= kMessages; ++i) {
            client.send(protocol::Send { "s" + std::to_string(i), "durable",
                "c" + std::to_string(i), "message " + std::to_string(i) });
        }
        for (int i = 1; i <= kMessages; ++i) {
            const std::string id = "s" + std::to_string(i);
            const auto ack
                = client.take<protocol::Ack>([&](const protocol::Ack& a) { return a.id == id; });
            ASSERT_TRUE(ack) << "no ack for " << id;
            ASSERT_EQ(ack->seq, std::uint64_t(i));
        }
    }
    server.kill();
    ASSERT_TRUE(server.restart()) << server.output().toStdString();

    RawClient client(server.webSocketUrl());
    ASSERT_TRUE(client.open());
    ASSERT_TRUE(client.hello("alice"));
    const auto joined = client.join("durable");
    ASSERT_TRUE(joined);
    EXPECT_EQ(joined->cursor.epoch, epoch);
    EXPECT_EQ(joined->cursor.seq, std::uint64_t(kMessages));

    std::vector<protocol::Message> all;
    std::uint64_t after = 0;
    for (int guard = 0; guard < 10; ++guard) {
        const auto page = client.history("durable", std::nullopt, after, 500);
        ASSERT_TRUE(page);
        all.insert(all.end(), page->messages.begin(), page->messages.end());
        if (!page->hasMore) {
            break;
        }
        after = page->messages.back().seq;
    }
    ASSERT_EQ(all.size(), std::size_t(kMessages));
    for (int i = 0; i < kMessages; ++i) {
        EXPECT_EQ(all[i].seq, std::uint64_t(i + 1));
        EXPECT_EQ(all[i].body, "message " + std::to_string(i + 1));
        EXPECT_EQ(all[i].epoch, epoch);
    }

    const auto next = client.sendMessage("durable", "after-restart", "next");
    ASSERT_TRUE(next);
    EXPECT_EQ(next->seq, std::uint64_t(kMessages + 1));
    // A resend of a message acked before the crash is still a duplicate.
    const auto resend = client.sendMessage("durable", "c7", "message 7");
    ASSERT_TRUE(resend);
    EXPECT_TRUE(resend->duplicate);
    EXPECT_EQ(resend->seq, 7u);
}

TEST(DurabilityTest, EmptyRoomKeepsItsEpochAcrossRestart)
{
    ServerProcess server;
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    std::string epoch;
    {
        RawClient client(server.webSocketUrl());
        ASSERT_TRUE(client.open());
        ASSERT_TRUE(client.hello("alice"));
        const auto joined = client.join("quiet");
        ASSERT_TRUE(joined);
        epoch = joined->cursor.epoch;
    }
    server.kill();
    ASSERT_TRUE(server.restart());
    RawClient client(server.webSocketUrl());
    ASSERT_TRUE(client.open());
    ASSERT_TRUE(client.hello("alice"));
    const auto joined = client.join("quiet");
    ASSERT_TRUE(joined);
    EXPECT_EQ(joined->cursor.epoch, epoch);
    EXPECT_EQ(joined->cursor.seq, 0u);
}

} // namespace
} // namespace parley::test
