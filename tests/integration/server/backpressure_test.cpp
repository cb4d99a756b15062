// Bounded queues, deliberately handled: a client that stops reading is closed as a slow consumer
// (4003) without hurting the others; a full storage queue answers `overloaded` (retryable).
#include "rawclient.h"
#include "serverprocess.h"

#include <QCryptographicHash>
#include <QTcpSocket>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

namespace parley::test {
namespace {

// One masked client text frame (RFC 6455 5.2), written by hand so the test controls reading.
QByteArray clientTextFrame(const QByteArray& payload)
{
    QByteArray frame;
    frame.append(char(0x81));
    if (payload.size() < 126) {
        frame.append(char(0x80 | payload.size()));
    } else {
        frame.append(char(0x80 | 126));
        frame.append(char((payload.size() >> 8) & 0xff));
        frame.append(char(payload.size() & 0xff));
    }
    const char mask[4] = { 0x12, 0x34, 0x56, 0x78 };
    frame.append(mask, 4);
    for (qsizetype i = 0; i < payload.size(); ++i) {
        frame.append(char(payload[i] ^ mask[i % 4]));
    }
    return frame;
}

TEST(BackpressureTest, ClientThatStopsReadingIsClosedAsSlowConsumer)
{
    // The default outbound bound (1 MiB): the fast client, which waits for each ack, never lags
    // by more than a message or two (50 KB each), so only the one that stopped reading crosses it.
    ServerProcess server({ "--max-body-bytes", "60000" });
    ASSERT_TRUE(server.start()) << server.output().toStdString();

    // The slow client: a raw socket that upgrades, says hello, joins, then never reads again
    // (a 1-byte read buffer keeps Qt from draining the kernel buffer for it).
    QTcpSocket slow;
    slow.connectToHost(QHostAddress::LocalHost, server.port());
    ASSERT_TRUE(slow.waitForConnected(5000));
    slow.write("GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n");
    // RFC 6455 4.1: a client sends nothing more until it has the 101.
    ASSERT_TRUE(RawClient::waitUntil([&] { return slow.peek(4096).contains("\r\n\r\n"); }));
    ASSERT_TRUE(slow.peek(4096).startsWith("HTTP/1.1 101"));
    slow.write(clientTextFrame(R"({"type":"hello","user":"slow"})"));
    slow.write(clientTextFrame(R"({"type":"join","room":"firehose"})"));
    ASSERT_TRUE(RawClient::waitUntil([&] {
        return slow.peek(4096).contains("\"type\":\"joined\"");
    })) << slow.peek(4096).toStdString()
        << server.output().toStdString();
    slow.setReadBufferSize(1);

    RawClient fast(server.webSocketUrl());
    ASSERT_TRUE(fast.open());
    ASSERT_TRUE(fast.hello("fast"));
    ASSERT_TRUE(fast.join("firehose"));

    // Push far more than the kernel buffers hold (tens of MB) until the server gives up on
    // the slow client; the fast one keeps receiving throughout.
    const std::string body(50000, 'x');
    int sent = 0;
    const bool cut = RawClient::waitUntil(
        [&] {
            if (server.output().contains("code=4003")) {
                return true;
            }
            if (sent < 2000) {
                const auto ack = fast.sendMessage("firehose", "f" + std::to_string(++sent), body);
                EXPECT_TRUE(ack);
            }
            return false;
        },
        120000);
    ASSERT_TRUE(cut) << "sent " << sent << "\n" << server.output().toStdString();
    EXPECT_TRUE(server.output().contains("reason=\"slow consumer\""));
    // The fast client got every message, in order.
    ASSERT_TRUE(fast.take<protocol::Message>(
        [&](const auto& m) { return m.seq == std::uint64_t(sent); }, 60000))
        << "sent " << sent << ", fast client open: " << fast.isOpen();
    EXPECT_TRUE(fast.sync());
}

TEST(BackpressureTest, FullStorageQueueAnswersOverloaded)
{
    ServerProcess server({ "--storage-queue", "1", "--rate-limit", "100000" });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    RawClient client(server.webSocketUrl());
    ASSERT_TRUE(client.open());
    ASSERT_TRUE(client.hello("alice"));
    ASSERT_TRUE(client.join("lobby"));

    // Bursts of pipelined sends: with one slot, some of each burst find the queue full.
    std::optional<protocol::Error> overloaded;
    int total = 0;
    for (int burst = 0; burst < 20 && !overloaded; ++burst) {
        for (int i = 0; i < 200; ++i) {
            client.send(protocol::Send { {}, "lobby", "c" + std::to_string(++total), "x" });
        }
        ASSERT_TRUE(client.sync());
        overloaded = client.take<protocol::Error>(
            [](const protocol::Error& e) { return e.code == protocol::ErrorCode::Overloaded; }, 0);
    }
    ASSERT_TRUE(overloaded);
    EXPECT_TRUE(protocol::isRetryable(overloaded->code));
    EXPECT_FALSE(overloaded->clientId.empty());
    // Every send is answered exactly once: an ack or an error naming its client id.
    EXPECT_TRUE(RawClient::waitUntil([&] {
        int answered = 0;
        for (const auto& frame : client.frames()) {
            answered += std::holds_alternative<protocol::Ack>(frame) ? 1 : 0;
            if (const auto* e = std::get_if<protocol::Error>(&frame)) {
                answered += e->code == protocol::ErrorCode::Overloaded ? 1 : 0;
            }
        }
        return answered == total;
    }));
    // The stored ones form a gapless stream, and a resend of a refused one succeeds.
    const auto retry = client.sendMessage("lobby", overloaded->clientId, "x");
    ASSERT_TRUE(retry);
    EXPECT_FALSE(retry->duplicate);
    const auto page = client.history("lobby", std::nullopt, 0, 500);
    ASSERT_TRUE(page);
    for (std::size_t i = 0; i < page->messages.size(); ++i) {
        EXPECT_EQ(page->messages[i].seq, i + 1);
    }
}

TEST(BackpressureTest, ARefusedSendHoldsBackTheLaterOnesUntilItIsResent)
{
    // 50 frames/s, bursts of 100: of 300 sends pipelined at once, the first ~100 pass and then
    // one is refused (`rate_limited`). The sends behind it were already on the wire; the server
    // must not store any of them before the refused one comes back.
    ServerProcess server({ "--rate-limit", "50" });
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    RawClient client(server.webSocketUrl());
    ASSERT_TRUE(client.open());
    ASSERT_TRUE(client.hello("alice"));
    ASSERT_TRUE(client.join("lobby"));

    constexpr int kCount = 300;
    const auto clientId = [](int i) { return "c" + std::to_string(i); };
    std::map<std::string, int> order;
    for (int i = 0; i < kCount; ++i) {
        order[clientId(i)] = i;
        client.send(protocol::Send { {}, "lobby", clientId(i), "m" + std::to_string(i) });
    }
    // Every send is answered once; what was acked is a prefix of what was written.
    std::set<std::string> acked;
    std::vector<std::string> refused; // every refusal, in arrival order
    std::size_t seen = 0;
    const auto collect = [&] {
        const auto& frames = client.frames();
        for (; seen < frames.size(); ++seen) {
            if (const auto* ack = std::get_if<protocol::Ack>(&frames[seen])) {
                EXPECT_TRUE(acked.insert(ack->clientId).second) << "acked twice: " << ack->clientId;
            } else if (const auto* e = std::get_if<protocol::Error>(&frames[seen])) {
                EXPECT_TRUE(protocol::isRetryable(e->code)) << e->message;
                EXPECT_EQ(e->code, protocol::ErrorCode::RateLimited);
                refused.push_back(e->clientId);
            }
        }
        return acked.size() + refused.size();
    };
    ASSERT_TRUE(RawClient::waitUntil([&] { return collect() >= std::size_t(kCount); }));
    ASSERT_FALSE(refused.empty()) << "the rate limit was never hit";
    for (int i = 0; i < int(acked.size()); ++i) {
        EXPECT_TRUE(acked.contains(clientId(i))) << "c" << i << " overtaken by a later send";
    }

    // Resend like the SDK: the oldest unacked first, in order, a few at a time, until all are in.
    while (acked.size() < std::size_t(kCount)) {
        std::vector<std::string> batch;
        for (int i = 0; i < kCount && batch.size() < 10; ++i) {
            if (!acked.contains(clientId(i))) {
                batch.push_back(clientId(i));
            }
        }
        const std::size_t answered = acked.size() + refused.size();
        for (const std::string& id : batch) {
            client.send(protocol::Send { {}, "lobby", id, "m" + std::to_string(order[id]) });
        }
        ASSERT_TRUE(RawClient::waitUntil([&] { return collect() >= answered + batch.size(); }));
    }
    // The bucket may be empty now: a refused history request is simply asked again.
    std::optional<protocol::HistoryPage> page;
    for (int attempt = 0; attempt < 1000 && !page; ++attempt) {
        const std::string id = client.nextId();
        client.send(protocol::HistoryRequest { id, "lobby", std::nullopt, 0, 500 });
        ASSERT_TRUE(RawClient::waitUntil([&] {
            page = client.take<protocol::HistoryPage>(
                [&](const protocol::HistoryPage& p) { return p.id == id; }, 0);
            return page || client.takeError(id, 0);
        }));
    }
    ASSERT_TRUE(page);
    ASSERT_EQ(page->messages.size(), std::size_t(kCount));
    for (int i = 0; i < kCount; ++i) {
        EXPECT_EQ(page->messages[std::size_t(i)].seq, std::uint64_t(i + 1));
        EXPECT_EQ(page->messages[std::size_t(i)].clientId, clientId(i));
    }
}

} // namespace
} // namespace parley::test
