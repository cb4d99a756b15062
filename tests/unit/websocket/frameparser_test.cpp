#include "websocket/frameparser.h"
#include "websocket/framewriter.h"

#include <gtest/gtest.h>
#include <string>

using namespace parley::server;
using namespace parley::server::websocket;

namespace {

constexpr quint32 kKey = 0x37fa213d;

QByteArray masked(Opcode opcode, QByteArrayView payload, bool fin = true)
{
    return encodeMaskedFrame(opcode, payload, kKey, fin);
}

// A frame header written by hand: for inputs the writer cannot produce.
QByteArray raw(std::initializer_list<int> bytes)
{
    QByteArray out;
    for (int b : bytes) {
        out.append(char(b));
    }
    return out;
}

QByteArray closePayload(quint16 code, QByteArrayView reason = {})
{
    QByteArray p;
    p.append(char(code >> 8));
    p.append(char(code & 0xFF));
    p.append(reason);
    return p;
}

struct Expect {
    Opcode opcode;
    QByteArray payload;
    quint16 closeCode = 0;
};

struct Case {
    const char* name;
    QByteArray input;
    std::vector<Expect> messages;
    std::optional<CloseCode> error;
};

std::vector<Case> cases()
{
    const QByteArray big(70000, 'x');
    const QByteArray sixtyFour(64 * 1024, 'y');
    return {
        { "text", masked(Opcode::Text, "hello"), { { Opcode::Text, "hello" } }, {} },
        { "empty text", masked(Opcode::Text, ""), { { Opcode::Text, "" } }, {} },
        { "binary", masked(Opcode::Binary, QByteArray("\x00\xff", 2)),
            { { Opcode::Binary, QByteArray("\x00\xff", 2) } }, {} },
        { "16-bit length", masked(Opcode::Text, QByteArray(300, 'a')),
            { { Opcode::Text, QByteArray(300, 'a') } }, {} },
        { "exactly the limit", masked(Opcode::Text, sixtyFour), { { Opcode::Text, sixtyFour } },
            {} },
        { "two frames in one read", masked(Opcode::Text, "a") + masked(Opcode::Text, "b"),
            { { Opcode::Text, "a" }, { Opcode::Text, "b" } }, {} },
        { "fragmented",
            masked(Opcode::Text, "he", false) + masked(Opcode::Continuation, "l", false)
                + masked(Opcode::Continuation, "lo"),
            { { Opcode::Text, "hello" } }, {} },
        { "ping between fragments",
            masked(Opcode::Text, "a", false) + masked(Opcode::Ping, "p")
                + masked(Opcode::Continuation, "b"),
            { { Opcode::Ping, "p" }, { Opcode::Text, "ab" } }, {} },
        { "utf-8 split across fragments",
            masked(Opcode::Text, "\xc3", false) + masked(Opcode::Continuation, "\xa9"),
            { { Opcode::Text, "\xc3\xa9" } }, {} },
        { "ping", masked(Opcode::Ping, "abc"), { { Opcode::Ping, "abc" } }, {} },
        { "pong", masked(Opcode::Pong, ""), { { Opcode::Pong, "" } }, {} },
        { "ping of 125 bytes", masked(Opcode::Ping, QByteArray(125, 'p')),
            { { Opcode::Ping, QByteArray(125, 'p') } }, {} },
        { "close with code and reason", masked(Opcode::Close, closePayload(1000, "bye")),
            { { Opcode::Close, "bye", 1000 } }, {} },
        { "close without code", masked(Opcode::Close, ""), { { Opcode::Close, "", 1005 } }, {} },
        { "close with a private code", masked(Opcode::Close, closePayload(4003)),
            { { Opcode::Close, "", 4003 } }, {} },
        { "nothing after close", masked(Opcode::Close, closePayload(1000)) + QByteArray("junk"),
            { { Opcode::Close, "", 1000 } }, {} },

        { "unmasked client frame", encodeFrame(Opcode::Text, "hi"), {}, CloseCode::ProtocolError },
        { "reserved bit", raw({ 0xC1, 0x80, 0, 0, 0, 0 }), {}, CloseCode::ProtocolError },
        { "unknown opcode 3", raw({ 0x83, 0x80, 0, 0, 0, 0 }), {}, CloseCode::ProtocolError },
        { "unknown opcode 0xB", raw({ 0x8B, 0x80, 0, 0, 0, 0 }), {}, CloseCode::ProtocolError },
        { "fragmented ping", masked(Opcode::Ping, "p", false), {}, CloseCode::ProtocolError },
        { "ping of 126 bytes", masked(Opcode::Ping, QByteArray(126, 'p')), {},
            CloseCode::ProtocolError },
        { "continuation first", masked(Opcode::Continuation, "x"), {}, CloseCode::ProtocolError },
        { "text inside a fragmented message",
            masked(Opcode::Text, "a", false) + masked(Opcode::Text, "b"), {},
            CloseCode::ProtocolError },
        { "64-bit length with top bit", raw({ 0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0 }), {},
            CloseCode::ProtocolError },
        { "over the limit in one frame", masked(Opcode::Text, big), {}, CloseCode::MessageTooBig },
        { "over the limit from the header alone", raw({ 0x81, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0 }), {},
            CloseCode::MessageTooBig },
        { "over the limit across fragments",
            masked(Opcode::Text, sixtyFour, false) + masked(Opcode::Continuation, "z"), {},
            CloseCode::MessageTooBig },
        { "invalid utf-8", masked(Opcode::Text, "\xc3\x28"), {}, CloseCode::InvalidPayload },
        { "overlong utf-8", masked(Opcode::Text, "\xc0\xaf"), {}, CloseCode::InvalidPayload },
        { "utf-16 surrogate", masked(Opcode::Text, "\xed\xa0\x80"), {}, CloseCode::InvalidPayload },
        { "truncated utf-8", masked(Opcode::Text, "ab\xe2\x82"), {}, CloseCode::InvalidPayload },
        { "binary is not checked", masked(Opcode::Binary, "\xc3\x28"),
            { { Opcode::Binary, "\xc3\x28" } }, {} },
        { "messages before an error are kept", masked(Opcode::Text, "ok") + raw({ 0xC1, 0x80 }),
            { { Opcode::Text, "ok" } }, CloseCode::ProtocolError },
        { "close with 1-byte payload", masked(Opcode::Close, "x"), {}, CloseCode::ProtocolError },
        { "close with reserved code 1005", masked(Opcode::Close, closePayload(1005)), {},
            CloseCode::ProtocolError },
        { "close with code 999", masked(Opcode::Close, closePayload(999)), {},
            CloseCode::ProtocolError },
        { "close with code 5000", masked(Opcode::Close, closePayload(5000)), {},
            CloseCode::ProtocolError },
        { "close reason not utf-8", masked(Opcode::Close, closePayload(1000, "\xff")), {},
            CloseCode::InvalidPayload },
    };
}

void check(const Case& c, const std::vector<Message>& got, std::optional<ProtocolError> error)
{
    ASSERT_EQ(got.size(), c.messages.size()) << c.name;
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].opcode, c.messages[i].opcode) << c.name << " #" << i;
        EXPECT_EQ(got[i].payload, c.messages[i].payload) << c.name << " #" << i;
        if (c.messages[i].opcode == Opcode::Close) {
            EXPECT_EQ(got[i].closeCode, c.messages[i].closeCode) << c.name;
        }
    }
    ASSERT_EQ(error.has_value(), c.error.has_value()) << c.name;
    if (error) {
        EXPECT_EQ(error->code, *c.error) << c.name << ": " << error->reason;
    }
}

} // namespace

TEST(FrameParserTest, TableInOneRead)
{
    for (const Case& c : cases()) {
        FrameParser parser;
        FrameParser::Result result = parser.feed(c.input);
        check(c, result.messages, result.error);
        EXPECT_EQ(parser.isFinished(),
            c.error.has_value()
                || (!c.messages.empty() && c.messages.back().opcode == Opcode::Close))
            << c.name;
    }
}

// Every case again, fed one byte at a time: the result must not depend on how reads split.
TEST(FrameParserTest, TableByteByByte)
{
    for (const Case& c : cases()) {
        FrameParser parser;
        std::vector<Message> messages;
        std::optional<ProtocolError> error;
        for (qsizetype i = 0; i < c.input.size() && !parser.isFinished(); ++i) {
            FrameParser::Result r = parser.feed(QByteArrayView(c.input).sliced(i, 1));
            for (Message& m : r.messages) {
                messages.push_back(std::move(m));
            }
            if (r.error) {
                error = r.error;
            }
        }
        check(c, messages, error);
    }
}

TEST(FrameParserTest, IdleParserHoldsNoBuffer)
{
    FrameParser parser;
    const QByteArray frame = masked(Opcode::Text, "hello");
    parser.feed(QByteArrayView(frame).first(3));
    EXPECT_EQ(parser.bufferedBytes(), 3);
    parser.feed(QByteArrayView(frame).sliced(3));
    EXPECT_EQ(parser.bufferedBytes(), 0);
}

TEST(FrameParserTest, TooBigIsRefusedBeforeThePayloadArrives)
{
    FrameParser parser(FrameParser::Limits { 1000, true });
    const QByteArray frame = masked(Opcode::Text, QByteArray(1001, 'x'));
    const FrameParser::Result r = parser.feed(QByteArrayView(frame).first(8));
    ASSERT_TRUE(r.error.has_value());
    EXPECT_EQ(r.error->code, CloseCode::MessageTooBig);
}

TEST(FrameParserTest, ClientModeRejectsMaskedServerFrames)
{
    FrameParser client(FrameParser::Limits { 1024, false });
    const FrameParser::Result ok = client.feed(encodeFrame(Opcode::Text, "hi"));
    ASSERT_EQ(ok.messages.size(), 1u);
    EXPECT_EQ(ok.messages[0].payload, "hi");
    const FrameParser::Result bad = client.feed(masked(Opcode::Text, "hi"));
    ASSERT_TRUE(bad.error.has_value());
    EXPECT_EQ(bad.error->code, CloseCode::ProtocolError);
}

TEST(FrameParserTest, MaskAtAnyOffsetMatchesBytewiseXor)
{
    QByteArray data(37, '\0');
    for (int i = 0; i < data.size(); ++i) {
        data[i] = char(i * 7);
    }
    for (int offset = 0; offset < 4; ++offset) {
        QByteArray fast = data;
        applyMask(fast.data(), fast.size(), kKey, offset);
        const uchar key[4] = { 0x37, 0xfa, 0x21, 0x3d };
        for (int i = 0; i < data.size(); ++i) {
            EXPECT_EQ(uchar(fast[i]), uchar(data[i]) ^ key[(i + offset) % 4]) << i;
        }
    }
}

TEST(Utf8Test, Table)
{
    const std::pair<const char*, bool> table[] = {
        { "", true },
        { "plain ascii, longer than eight bytes", true },
        { "caf\xc3\xa9", true },
        { "\xe2\x82\xac", true },
        { "\xf0\x9f\x98\x80", true },
        { "\xf4\x8f\xbf\xbf", true }, // U+10FFFF
        { "\xf4\x90\x80\x80", false }, // > U+10FFFF
        { "\xe0\x80\xaf", false }, // overlong
        { "\xed\xbf\xbf", false }, // surrogate
        { "\x80", false },
        { "\xfe", false },
        { "abcdefgh\xc3", false },
    };
    for (const auto& [text, valid] : table) {
        EXPECT_EQ(isValidUtf8(QByteArrayView(text)), valid) << text;
    }
}
