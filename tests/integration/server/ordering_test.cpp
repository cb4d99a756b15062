// Request order (docs/protocol.md, "Request order"): every request gets exactly one answer carrying
// its id, in the order asked, and a session's frames take effect in the order they were sent,
// even when the client does not wait for an answer before sending the next frame.
#include "rawclient.h"
#include "serverprocess.h"

#include <gtest/gtest.h>

namespace parley::test {
namespace {

//! The request id a server frame answers, or nullopt for frames the server pushes on its own.
std::optional<std::string> answeredId(const protocol::ServerFrame& frame)
{
    return std::visit(
        [](const auto& f) -> std::optional<std::string> {
            using F = std::decay_t<decltype(f)>;
            if constexpr (
                std::is_same_v<F,
                    protocol::
                        Message> || std::is_same_v<F, protocol::Presence> || std::is_same_v<F, protocol::Recovered> || std::is_same_v<F, protocol::UserPresence> || std::is_same_v<F, protocol::DirectMessage>) {
                return std::nullopt;
            } else {
                return f.id;
            }
        },
        frame);
}

//! "type:id" of every answer received so far, in arrival order.
std::vector<std::string> answers(const RawClient& client)
{
    std::vector<std::string> out;
    for (const auto& frame : client.frames()) {
        if (const auto id = answeredId(frame); id && !id->empty()) {
            out.push_back(std::string(protocol::frameType(frame)) + ":" + *id);
        }
    }
    return out;
}

class OrderingTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(m_server.start()) << m_server.output().toStdString(); }

    std::unique_ptr<RawClient> connect(const std::string& user)
    {
        auto client = std::make_unique<RawClient>(m_server.webSocketUrl());
        EXPECT_TRUE(client->open()) << m_server.output().toStdString();
        // The hello's answer is not part of what the tests compare.
        protocol::Hello hello;
        hello.user = user;
        client->send(hello);
        EXPECT_TRUE(client->take<protocol::Welcome>());
        return client;
    }

    // Bursts of a few thousand frames must not meet the rate limit: that is not under test here.
    ServerProcess m_server { { "--io-threads", "2", "--rate-limit", "100000" } };
};

TEST_F(OrderingTest, JoinLeaveBurstGetsEveryAnswerOnceInRequestOrder)
{
    auto alice = connect("alice");
    constexpr int kPairs = 1000;
    std::vector<std::string> expected;
    for (int i = 1; i <= kPairs; ++i) {
        const std::string n = std::to_string(i);
        alice->send(protocol::Join { "j" + n, "burst" });
        alice->send(protocol::Leave { "l" + n, "burst" });
        expected.push_back("joined:j" + n);
        expected.push_back("left:l" + n);
    }
    alice->send(protocol::Heartbeat { "last" });
    expected.push_back("heartbeat_ack:last");
    // The heartbeat is the last request: once it is answered, every answer is in.
    ASSERT_TRUE(alice->take<protocol::HeartbeatAck>(
        [](const protocol::HeartbeatAck& a) { return a.id == "last"; }, 60000));
    EXPECT_EQ(answers(*alice), expected);
}

TEST_F(OrderingTest, SendBehindAJoinInFlightWaitsForItInOneBurst)
{
    auto alice = connect("alice");
    alice->send(protocol::Join { "j1", "fresh" });
    alice->send(protocol::Send { "s1", "fresh", "c1", "first words" });
    alice->send(protocol::HistoryRequest { "h1", "fresh", std::nullopt, std::nullopt, 10 });
    alice->send(protocol::Heartbeat { "hb" });
    ASSERT_TRUE(alice->take<protocol::HeartbeatAck>(
        [](const protocol::HeartbeatAck& a) { return a.id == "hb"; }));
    EXPECT_EQ(answers(*alice),
        (std::vector<std::string> {
            "joined:j1", "ack:s1", "history_page:h1", "heartbeat_ack:hb" }));
    // The history asked after the send sees it: frames take effect in the order sent.
    const auto page = alice->take<protocol::HistoryPage>();
    ASSERT_TRUE(page);
    ASSERT_EQ(page->messages.size(), 1u);
    EXPECT_EQ(page->messages[0].clientId, "c1");
    EXPECT_EQ(page->messages[0].body, "first words");
}

TEST_F(OrderingTest, AnswersToOtherRoomsAndHeartbeatsKeepRequestOrder)
{
    auto alice = connect("alice");
    ASSERT_TRUE(alice->join("home"));
    const std::size_t before = answers(*alice).size();
    // Pipelined sends with a heartbeat among them, then a join of another room with frames for
    // both rooms behind it, then a leave: one answer each, in this order.
    std::vector<std::string> expected;
    for (int i = 1; i <= 50; ++i) {
        const std::string n = std::to_string(i);
        alice->send(protocol::Send { "s" + n, "home", "c" + n, "m" + n });
        expected.push_back("ack:s" + n);
        if (i == 25) {
            alice->send(protocol::Heartbeat { "hb1" });
            expected.push_back("heartbeat_ack:hb1");
        }
    }
    alice->send(protocol::Join { "j2", "away" });
    alice->send(protocol::Send { "s51", "home", "c51", "m51" });
    alice->send(protocol::Send { "s52", "away", "c52", "m52" });
    alice->send(protocol::Leave { "l2", "away" });
    alice->send(protocol::Send { "s53", "away", "c53", "m53" });
    alice->send(protocol::Heartbeat { "hb2" });
    expected.insert(expected.end(),
        { "joined:j2", "ack:s51", "ack:s52", "left:l2", "error:s53", "heartbeat_ack:hb2" });
    ASSERT_TRUE(alice->take<protocol::HeartbeatAck>(
        [](const protocol::HeartbeatAck& a) { return a.id == "hb2"; }));
    const std::vector<std::string> got = answers(*alice);
    EXPECT_EQ(std::vector<std::string>(got.begin() + std::ptrdiff_t(before), got.end()), expected);
    // The send after the leave is refused as not joined, naming its message.
    const auto refused = alice->takeError("s53");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->code, protocol::ErrorCode::NotJoined);
    EXPECT_EQ(refused->clientId, "c53");
}

TEST_F(OrderingTest, AFailedJoinFailsTheFramesWaitingForIt)
{
    // --max-rooms is 100 by default: the 101st join fails, and the send queued behind it gets
    // not_joined, after the join's error.
    auto alice = connect("alice");
    for (int i = 0; i < 100; ++i) {
        alice->send(protocol::Join { "j" + std::to_string(i), "room-" + std::to_string(i) });
    }
    alice->send(protocol::Join { "j100", "one-too-many" });
    alice->send(protocol::Send { "s1", "one-too-many", "c1", "lost?" });
    alice->send(protocol::Heartbeat { "hb" });
    ASSERT_TRUE(alice->take<protocol::HeartbeatAck>(
        [](const protocol::HeartbeatAck& a) { return a.id == "hb"; }));
    const std::vector<std::string> got = answers(*alice);
    ASSERT_EQ(got.size(), 103u);
    EXPECT_EQ(got[99], "joined:j99");
    EXPECT_EQ(got[100], "error:j100");
    EXPECT_EQ(got[101], "error:s1");
    EXPECT_EQ(got[102], "heartbeat_ack:hb");
    const auto tooMany = alice->takeError("j100");
    ASSERT_TRUE(tooMany);
    EXPECT_EQ(tooMany->code, protocol::ErrorCode::TooManyRooms);
    const auto notJoined = alice->takeError("s1");
    ASSERT_TRUE(notJoined);
    EXPECT_EQ(notJoined->code, protocol::ErrorCode::NotJoined);
}

} // namespace
} // namespace parley::test
