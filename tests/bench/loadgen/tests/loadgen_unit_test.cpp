// The load generator's pure parts, table-driven: if these are wrong, every benchmark figure and
// every correctness verdict of the smoke run is wrong.
#include "framescanner.h"
#include "latencyhistogram.h"
#include "options.h"
#include "seqcheck.h"
#include "sha1.h"
#include "wsframe.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

using namespace parley::bench;

TEST(Sha1, MatchesKnownVectors)
{
    const auto abc = sha1("abc");
    EXPECT_EQ(base64Encode(abc.data(), abc.size()), "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
    const auto empty = sha1("");
    EXPECT_EQ(base64Encode(empty.data(), empty.size()), "2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
    // 56 bytes: the padding spills into a second block.
    const auto twoBlocks = sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
    EXPECT_EQ(base64Encode(twoBlocks.data(), twoBlocks.size()), "hJg+RBw70m66rkqh+VEp5eVGcPE=");
}

TEST(Sha1, ComputesTheRfc6455AcceptExample)
{
    EXPECT_EQ(webSocketAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsFrame, ClientFramesAreMaskedAndCarryTheLength)
{
    for (const std::size_t size : { 0u, 5u, 125u, 126u, 65535u, 65536u, 70000u }) {
        const std::string payload(size, 'a');
        std::string out;
        appendClientFrame(out, WsOpcode::Text, payload, 0x01020304u);
        const auto* p = reinterpret_cast<const unsigned char*>(out.data());
        EXPECT_EQ(p[0], 0x81);
        EXPECT_TRUE(p[1] & 0x80) << "client frames must be masked";
        const std::size_t header = size < 126 ? 2 : size <= 65535 ? 4 : 10;
        ASSERT_EQ(out.size(), header + 4 + size) << size;
        const unsigned char* key = p + header;
        for (std::size_t i = 0; i < size; ++i) {
            ASSERT_EQ(p[header + 4 + i] ^ key[i & 3], 'a');
        }
    }
}

std::string serverFrame(unsigned char first, std::string_view payload)
{
    std::string f;
    f.push_back(static_cast<char>(first));
    if (payload.size() < 126) {
        f.push_back(static_cast<char>(payload.size()));
    } else if (payload.size() <= 65535) {
        f.push_back(126);
        f.push_back(static_cast<char>(payload.size() >> 8));
        f.push_back(static_cast<char>(payload.size() & 0xFF));
    } else {
        f.push_back(127);
        for (int i = 7; i >= 0; --i) {
            f.push_back(static_cast<char>((static_cast<std::uint64_t>(payload.size()) >> (8 * i)) & 0xFF));
        }
    }
    f.append(payload);
    return f;
}

TEST(WsFrame, ParsesServerFramesOfEveryLengthForm)
{
    for (const std::size_t size : { 0u, 1u, 125u, 126u, 300u, 65535u, 65536u, 100000u }) {
        const std::string payload(size, 'z');
        const std::string frame = serverFrame(0x81, payload);
        WsServerFrame parsed;
        std::size_t consumed = 0;
        ASSERT_EQ(parseServerFrame(frame, parsed, consumed), WsParseStatus::Complete) << size;
        EXPECT_EQ(consumed, frame.size());
        EXPECT_EQ(parsed.payload, payload);
        EXPECT_TRUE(parsed.fin);
        EXPECT_EQ(parsed.opcode, WsOpcode::Text);
        // Every strict prefix is incomplete, never an error.
        for (const std::size_t cut : { std::size_t(0), std::size_t(1), frame.size() / 2, frame.size() - 1 }) {
            if (cut < frame.size()) {
                EXPECT_EQ(parseServerFrame(std::string_view(frame).substr(0, cut), parsed, consumed),
                    WsParseStatus::NeedMore) << size << " cut " << cut;
            }
        }
    }
}

TEST(WsFrame, RejectsWhatAServerMustNotSend)
{
    struct Case {
        const char* why;
        std::string bytes;
    };
    const Case cases[] = {
        { "masked", std::string("\x81\x81\x00\x00\x00\x00x", 7) },
        { "reserved bit", serverFrame(0xC1, "x") },
        { "unknown opcode", serverFrame(0x83, "x") },
        { "fragmented ping", serverFrame(0x09, "x") },
        { "long ping", serverFrame(0x89, std::string(126, 'p')) },
    };
    for (const auto& c : cases) {
        WsServerFrame parsed;
        std::size_t consumed = 0;
        EXPECT_EQ(parseServerFrame(c.bytes, parsed, consumed), WsParseStatus::Error) << c.why;
    }
    WsServerFrame parsed;
    std::size_t consumed = 0;
    EXPECT_EQ(parseServerFrame(serverFrame(0x81, std::string(2000, 'x')), parsed, consumed, 1000),
        WsParseStatus::Error);
}

TEST(FrameScanner, ReadsTheFieldsOfServerFrames)
{
    FrameScanner scanner;
    ScannedFrame f;
    ASSERT_TRUE(scanner.scan(R"({"type":"message","room":"r1","epoch":"e","seq":42,)"
                             R"("msg_id":"m","sender":"u\u00e9\ud83d\ude00","client_id":"c7",)"
                             R"("body":"a \"q\" \\ \n b","ts":1700000000000,"extra":{"x":[1,2.5e3,null,true]}})",
        f)) << scanner.error();
    EXPECT_EQ(f.str(ScannedFrame::Type), "message");
    EXPECT_EQ(f.str(ScannedFrame::Room), "r1");
    EXPECT_TRUE(f.hasSeq);
    EXPECT_EQ(f.seq, 42u);
    EXPECT_EQ(f.str(ScannedFrame::Sender), "u\xC3\xA9\xF0\x9F\x98\x80");
    EXPECT_EQ(f.str(ScannedFrame::ClientId), "c7");
    EXPECT_EQ(f.str(ScannedFrame::Body), "a \"q\" \\ \n b");

    ASSERT_TRUE(scanner.scan(R"( {"type":"joined","id":"j","room":"r","epoch":"e1","last_seq":0,"members":["a","b"]} )", f));
    EXPECT_TRUE(f.hasLastSeq);
    EXPECT_EQ(f.lastSeq, 0u);
    EXPECT_FALSE(f.hasSeq);

    ASSERT_TRUE(scanner.scan(R"({"type":"welcome","heartbeat_ms":15000,"limits":{"max_rooms":100}})", f));
    EXPECT_EQ(f.heartbeatMs, 15000u);

    ASSERT_TRUE(scanner.scan(R"({"type":"ack","client_id":"c1","seq":3,"duplicate":true})", f));
    EXPECT_TRUE(f.duplicate);
    ASSERT_TRUE(scanner.scan(R"({"type":"error","code":"not_joined","message":"no","retryable":false})", f));
    EXPECT_EQ(f.str(ScannedFrame::Code), "not_joined");
}

TEST(FrameScanner, RejectsWhatIsNotOneJsonObjectWithAType)
{
    const char* bad[] = {
        "",
        "[]",
        "\"type\"",
        "{",
        R"({"type":"message")",
        R"({"type":"message",})",
        R"({"type":"message"} x)",
        R"({"type":"message","seq":-1})",
        R"({"type":"message","seq":1.5})",
        R"({"type":"message","seq":01})",
        R"({"type":"a\x"})",
        "{\"type\":\"a\x01\"}",
        R"({"type":"\ud800"})",
        R"({"type":"message","x":[1,]})",
        R"({"type":"message","x":tru})",
        R"({"seq":1})",
        R"({type:"message"})",
    };
    FrameScanner scanner;
    ScannedFrame f;
    for (const char* text : bad) {
        EXPECT_FALSE(scanner.scan(text, f)) << text;
    }
    std::string deep = R"({"type":"x","v":)" + std::string(100, '[') + std::string(100, ']') + "}";
    EXPECT_FALSE(scanner.scan(deep, f)) << "unbounded nesting must be refused";
}

TEST(LatencyHistogram, PercentilesAreWithinOnePercent)
{
    LatencyHistogram h;
    for (std::int64_t us = 1; us <= 10000; ++us) {
        h.record(us * 1000);
    }
    EXPECT_EQ(h.count(), 10000u);
    EXPECT_EQ(h.max(), 10'000'000);
    EXPECT_EQ(h.min(), 1000);
    for (const double p : { 50.0, 90.0, 99.0, 99.9 }) {
        const double expected = p / 100.0 * 10'000'000;
        EXPECT_NEAR(static_cast<double>(h.valueAtPercentile(p)), expected, expected * 0.01) << p;
        EXPECT_GE(static_cast<double>(h.valueAtPercentile(p)), expected) << "reports the bucket's top";
    }
    EXPECT_EQ(h.valueAtPercentile(100), 10'000'000);
    EXPECT_NEAR(h.mean(), 5'000'500, 1);
}

TEST(LatencyHistogram, MergesAndRoundTripsThroughJson)
{
    LatencyHistogram a;
    LatencyHistogram b;
    for (int i = 0; i < 100; ++i) {
        a.record(100);
        b.record(1'000'000 + i);
    }
    b.record(-5); // a clock step backwards counts as 0, never crashes
    b.record(std::int64_t(1) << 50); // beyond the range: the last bucket, max stays exact
    LatencyHistogram merged = LatencyHistogram::fromJson(a.toJson());
    merged.merge(LatencyHistogram::fromJson(b.toJson()));
    EXPECT_EQ(merged.count(), 202u);
    EXPECT_EQ(merged.min(), 0);
    EXPECT_EQ(merged.max(), std::int64_t(1) << 50);
    EXPECT_EQ(merged.valueAtPercentile(25), 100);
    EXPECT_NEAR(static_cast<double>(merged.valueAtPercentile(75)), 1'000'050, 10'000);
}

TEST(SeqCheck, InOrderDeliveriesAreComplete)
{
    SeqCheck s;
    s.start(10);
    for (std::uint64_t q = 11; q <= 20; ++q) {
        EXPECT_TRUE(s.onMessage(q));
    }
    EXPECT_EQ(s.missing(20), 0u);
    EXPECT_TRUE(s.reached(20));
    EXPECT_EQ(s.missing(22), 2u) << "a tail never delivered is missing";
    EXPECT_EQ(s.duplicatesOrReordered(), 0u);
}

TEST(SeqCheck, DuplicatesAndReorderingAreCounted)
{
    SeqCheck s;
    s.start(0);
    EXPECT_TRUE(s.onMessage(1));
    EXPECT_TRUE(s.onMessage(2));
    EXPECT_FALSE(s.onMessage(2));
    EXPECT_TRUE(s.onMessage(4));
    EXPECT_FALSE(s.onMessage(3));
    EXPECT_EQ(s.duplicatesOrReordered(), 2u);
    EXPECT_EQ(s.missing(4), 1u) << "3 arrived late, after 4: it still counts as a hole";
}

TEST(SeqCheck, OwnAcksFillHolesWhateverTheOrder)
{
    // A server that does not echo the sender's own message: 2 and 5 are ours.
    SeqCheck s;
    s.start(0);
    s.onOwnAck(2); // ack first
    EXPECT_TRUE(s.onMessage(1));
    EXPECT_TRUE(s.onMessage(3));
    EXPECT_TRUE(s.onMessage(4));
    EXPECT_TRUE(s.onMessage(6)); // skips 5: acked only afterwards
    EXPECT_FALSE(s.reached(6));
    s.onOwnAck(5);
    EXPECT_TRUE(s.reached(6));
    EXPECT_EQ(s.missing(6), 0u);
    s.onOwnAck(7); // our last message, never echoed
    EXPECT_EQ(s.missing(7), 0u);
    EXPECT_EQ(s.missing(8), 1u);
}

TEST(SeqCheck, EchoedOwnMessagesAreNotDuplicates)
{
    SeqCheck s;
    s.start(5);
    EXPECT_TRUE(s.onMessage(6)); // our message echoed before its ack
    s.onOwnAck(6);
    s.onOwnAck(7); // ack before the echo
    EXPECT_TRUE(s.onMessage(7));
    EXPECT_EQ(s.duplicatesOrReordered(), 0u);
    EXPECT_EQ(s.missing(7), 0u);
}

TEST(Options, CrossNodeChatSendsFromTheFirstMemberOnTheMainServerOnly)
{
    std::vector<std::string> args { "parley-loadgen", "--url", "ws://127.0.0.1:1000/v1/ws",
        "--receiver-url", "ws://127.0.0.1:2000/v1/ws", "--receiver-url",
        "ws://127.0.0.1:3000/v1/ws", "--connections", "9", "--rooms", "3", "--rate", "30",
        "--duration", "1" };
    std::vector<char*> argv;
    for (std::string& a : args) {
        argv.push_back(a.data());
    }
    const auto o = parley::bench::parseOptions(int(argv.size()), argv.data());
    ASSERT_TRUE(o);
    ASSERT_TRUE(o->crossNode());
    EXPECT_EQ(o->senderCount(), 3);
    for (int room = 0; room < 3; ++room) {
        const int first = o->firstOfRoom(room);
        EXPECT_EQ(first, room * 3);
        EXPECT_TRUE(o->isSender(first));
        EXPECT_EQ(o->portOf(first), 1000);
        EXPECT_FALSE(o->isSender(first + 1));
        EXPECT_EQ(o->portOf(first + 1), 2000);
        EXPECT_EQ(o->portOf(first + 2), 3000);
    }
}
