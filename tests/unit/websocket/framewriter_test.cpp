#include "websocket/framewriter.h"
#include "websocket/textframe.h"

#include <gtest/gtest.h>

using namespace parley::server;
using namespace parley::server::websocket;

TEST(FrameWriterTest, HeaderLengthForms)
{
    const struct {
        quint64 length;
        QByteArray header;
    } table[] = {
        { 0, QByteArray("\x81\x00", 2) },
        { 125, QByteArray("\x81\x7d", 2) },
        { 126, QByteArray("\x81\x7e\x00\x7e", 4) },
        { 65535, QByteArray("\x81\x7e\xff\xff", 4) },
        { 65536, QByteArray("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10) },
    };
    for (const auto& row : table) {
        char out[kMaxHeaderSize];
        const int size = writeFrameHeader(out, Opcode::Text, row.length);
        EXPECT_EQ(QByteArray(out, size), row.header) << row.length;
    }
}

TEST(FrameWriterTest, CloseFrameCarriesCodeAndCutsTheReason)
{
    const QByteArray frame = encodeCloseFrame(CloseCode::SlowConsumer, "slow consumer");
    EXPECT_EQ(frame, QByteArray("\x88\x0f\x0f\xa3slow consumer", 17));
    const QByteArray longReason(300, 'r');
    const QByteArray cut = encodeCloseFrame(CloseCode::Normal, longReason);
    EXPECT_EQ(cut.size(), 2 + 125);
}

TEST(FrameWriterTest, WrittenFramesParseBack)
{
    for (const qsizetype size : { 0, 1, 125, 126, 1000, 65535, 65536 }) {
        const QByteArray payload(size, 'q');
        FrameParser server;
        const FrameParser::Result r = server.feed(encodeMaskedFrame(Opcode::Text, payload, 42));
        ASSERT_EQ(r.messages.size(), 1u) << size;
        EXPECT_EQ(r.messages[0].payload, payload);
        FrameParser client(FrameParser::Limits { 1 << 20, false });
        const FrameParser::Result c = client.feed(encodeFrame(Opcode::Binary, payload));
        ASSERT_EQ(c.messages.size(), 1u) << size;
        EXPECT_EQ(c.messages[0].payload, payload);
    }
}

TEST(TextFrameTest, SerialisedOnceAndShared)
{
    const TextFrame frame = TextFrame::fromUtf8(std::string_view(R"({"type":"message"})"));
    EXPECT_EQ(frame.payload(), QByteArrayView(R"({"type":"message"})"));
    EXPECT_EQ(frame.wire(), encodeFrame(Opcode::Text, R"({"type":"message"})"));
    const TextFrame copy = frame; // what each recipient holds
    EXPECT_EQ(copy.wire().constData(), frame.wire().constData());
    EXPECT_TRUE(TextFrame().isNull());
}
