// The stored/published message of a cluster: what one node writes every node reads back
// unchanged, and malformed bytes (a corrupted key, a foreign writer) are a typed error.
#include <protocol/stored.h>

#include <gtest/gtest.h>

using namespace parley::protocol;

namespace {

Message sample()
{
    Message m;
    m.room = "lobby";
    m.epoch = "9f2c";
    m.seq = 4294967297; // past 32 bits
    m.msgId = "n1-77";
    m.sender = "alice";
    m.clientId = "c-1";
    m.body = "\"quoted\" \\ back</script> \xc3\xbcml\xc3\xa4ut \xf0\x9f\x98\x80";
    m.ts = 1764291234567;
    return m;
}

TEST(StoredMessage, RoundTrips)
{
    const auto decoded = stored::decodeMessage(stored::encodeMessage(sample()));
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(decoded.value(), sample());
}

TEST(StoredMessage, ReadsWhatTheLuaScriptWrites)
{
    // cjson's output for the publish script's table: any key order, '/' escaped, numbers as
    // strings.
    const auto decoded = stored::decodeMessage(
        R"({"t":"1764291234567","b":"a\/b","q":"12","s":"bob","c":"x","r":"r1","i":"n2-1","e":"e"})");
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(decoded.value().body, "a/b");
    EXPECT_EQ(decoded.value().seq, 12u);
    EXPECT_EQ(decoded.value().ts, 1764291234567);
    EXPECT_EQ(decoded.value().room, "r1");
    // Integers are accepted too.
    const auto integers = stored::decodeMessage(R"({"r":"r1","q":3,"t":5})");
    ASSERT_TRUE(integers);
    EXPECT_EQ(integers.value().seq, 3u);
}

TEST(StoredMessage, MalformedBytesAreTypedErrors)
{
    struct Case {
        const char* bytes;
        ErrorCode code;
    };
    const Case cases[] = {
        { "", ErrorCode::BadJson },
        { "not json", ErrorCode::BadJson },
        { "[1]", ErrorCode::BadJson },
        { R"({"r":"r","q":"1","b":{"x":1}})", ErrorCode::BadJson }, // nested: refused unread
        { R"({"q":"1"})", ErrorCode::BadFrame }, // no room
        { R"({"r":"r"})", ErrorCode::BadFrame }, // no seq
        { R"({"r":"r","q":"0"})", ErrorCode::BadFrame },
        { R"({"r":"r","q":"-1"})", ErrorCode::BadFrame },
        { R"({"r":"r","q":"12x"})", ErrorCode::BadFrame },
        { R"({"r":"r","q":"99999999999999999999999"})", ErrorCode::BadFrame }, // past 64 bits
        { R"({"r":"r","q":1.5})", ErrorCode::BadFrame },
        { R"({"r":7,"q":"1"})", ErrorCode::BadFrame },
        { R"({"r":"r","q":"1","t":"soon"})", ErrorCode::BadFrame },
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.bytes);
        const auto decoded = stored::decodeMessage(c.bytes);
        ASSERT_FALSE(decoded);
        EXPECT_EQ(decoded.error().code, c.code);
    }
    EXPECT_EQ(stored::decodeMessage(std::string(100, ' '), 99).error().code,
        ErrorCode::FrameTooLarge);
}

} // namespace
