// The HTTP transports' envelopes: what the server encodes the SDK decodes, unchanged, and every
// malformed envelope is a typed error (never an exception, never a half-filled value).
#include <protocol/envelopes.h>

#include <gtest/gtest.h>

using namespace parley::protocol;
using namespace parley::protocol::http;

namespace {

constexpr const char* kWelcome
    = R"({"type":"welcome","id":"h","session":"ab","node":"n1","user":"alice",)"
      R"("heartbeat_ms":15000,"protocol":1})";

TEST(Envelopes, SessionReplyRoundTrips)
{
    const SessionReply reply { "42", "1.42.secret.n1", 1, kWelcome };
    const std::string wire = encodeSessionReply(reply);
    const auto decoded = decodeSessionReply(wire);
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(decoded.value(), reply);
}

TEST(Envelopes, SessionReplyKeepsTheWelcomeFrameDecodable)
{
    const auto decoded = decodeSessionReply(encodeSessionReply({ "1", "t", 1, kWelcome }));
    ASSERT_TRUE(decoded);
    const auto frame = decodeServerFrame(decoded.value().welcome);
    ASSERT_TRUE(frame) << frame.error().message;
    EXPECT_TRUE(std::holds_alternative<Welcome>(frame.value()));
}

TEST(Envelopes, MalformedSessionRepliesAreTypedErrors)
{
    struct Case {
        const char* wire;
        ErrorCode code;
    };
    const Case cases[] = {
        { "", ErrorCode::BadJson },
        { "not json", ErrorCode::BadJson },
        { "[]", ErrorCode::BadJson },
        { R"({"token":"t","cursor":1,"welcome":{}})", ErrorCode::BadFrame },
        { R"({"session":"1","cursor":1,"welcome":{}})", ErrorCode::BadFrame },
        { R"({"session":"1","token":"","cursor":1,"welcome":{}})", ErrorCode::BadFrame },
        { R"({"session":"1","token":"t","welcome":{}})", ErrorCode::BadFrame },
        { R"({"session":"1","token":"t","cursor":-1,"welcome":{}})", ErrorCode::BadFrame },
        { R"({"session":"1","token":"t","cursor":"1","welcome":{}})", ErrorCode::BadFrame },
        { R"({"session":"1","token":"t","cursor":1})", ErrorCode::BadFrame },
        { R"({"session":"1","token":"t","cursor":1,"welcome":"x"})", ErrorCode::BadFrame },
    };
    for (const Case& c : cases) {
        const auto decoded = decodeSessionReply(c.wire);
        ASSERT_FALSE(decoded) << c.wire;
        EXPECT_EQ(decoded.error().code, c.code) << c.wire;
    }
}

TEST(Envelopes, PollBatchRoundTripsAndNumbersItsEvents)
{
    PollBatch batch;
    batch.events = { R"({"type":"heartbeat_ack","id":"1"})",
        R"({"type":"message","room":"r","seq":18446744073709551615,"from":"a","body":"x"})" };
    batch.cursor = 7;
    const auto decoded = decodePollBatch(encodePollBatch(batch));
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(decoded.value(), batch); // 64-bit integers survive the batch unchanged
    EXPECT_EQ(decoded.value().firstCursor(), 6u);
    EXPECT_FALSE(decoded.value().closed);
}

TEST(Envelopes, PollBatchCarriesTheClose)
{
    PollBatch batch;
    batch.cursor = 3;
    batch.closed = CloseEvent { 4003, "slow consumer" };
    const auto decoded = decodePollBatch(encodePollBatch(batch));
    ASSERT_TRUE(decoded);
    ASSERT_TRUE(decoded.value().closed);
    EXPECT_EQ(*decoded.value().closed, (CloseEvent { 4003, "slow consumer" }));
    EXPECT_TRUE(decoded.value().events.empty());
}

TEST(Envelopes, MalformedPollBatchesAreTypedErrors)
{
    const char* cases[] = {
        R"({"events":[]})", // no cursor
        R"({"events":{},"cursor":1})",
        R"({"events":[1],"cursor":1})",
        R"({"events":[{},{}],"cursor":1})", // more events than cursors before it
        R"({"events":[],"cursor":1,"closed":{"reason":"x"}})",
        R"({"events":[],"cursor":1,"closed":{"code":99999}})",
        R"({"events":[],"cursor":1,"closed":{"code":4000,"reason":7}})",
    };
    for (const char* wire : cases) {
        const auto decoded = decodePollBatch(wire);
        ASSERT_FALSE(decoded) << wire;
        EXPECT_EQ(decoded.error().code, ErrorCode::BadFrame) << wire;
    }
    EXPECT_EQ(decodePollBatch("{").error().code, ErrorCode::BadJson);
}

TEST(Envelopes, OversizeEnvelopesAreRefusedBeforeParsing)
{
    EnvelopeLimits limits;
    limits.maxBytes = 16;
    EXPECT_EQ(decodePollBatch(R"({"events":[],"cursor":1234567})", limits).error().code,
        ErrorCode::FrameTooLarge);
    limits = {};
    limits.maxFrames = 1;
    EXPECT_EQ(decodeCommands(R"([{"type":"a"},{"type":"b"}])", limits).error().code,
        ErrorCode::FrameTooLarge);
}

TEST(Envelopes, CommandsAreOneFrameOrABatch)
{
    const std::vector<std::string> frames { R"({"type":"heartbeat","id":"1"})",
        R"({"type":"send","id":"2","room":"r","body":"x"})" };
    const auto batch = decodeCommands(encodeCommands(frames));
    ASSERT_TRUE(batch);
    EXPECT_EQ(batch.value(), frames);

    const auto one = decodeCommands("  {\"type\":\"heartbeat\",\"id\":\"1\"}\n");
    ASSERT_TRUE(one);
    EXPECT_EQ(one.value(), std::vector<std::string> { R"({"type":"heartbeat","id":"1"})" });
}

TEST(Envelopes, MalformedCommandsAreTypedErrors)
{
    EXPECT_EQ(decodeCommands("").error().code, ErrorCode::BadJson);
    EXPECT_EQ(decodeCommands("hello").error().code, ErrorCode::BadJson);
    EXPECT_EQ(decodeCommands("[{},").error().code, ErrorCode::BadJson);
    EXPECT_EQ(decodeCommands("[{},2]").error().code, ErrorCode::BadFrame);
}

TEST(Envelopes, CloseEventRoundTrips)
{
    const CloseEvent close { 4001, "unauthorized" };
    const auto decoded = decodeCloseEvent(encodeCloseEvent(close));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded.value(), close);
    EXPECT_FALSE(decodeCloseEvent(R"({"code":"4001"})"));
    EXPECT_FALSE(decodeCloseEvent("[]"));
}

TEST(Envelopes, HttpErrorsDecodeInBothShapes)
{
    const HttpError json { "too_many_connections", "too many connections from this address" };
    const auto decoded = decodeHttpError(encodeHttpError(json));
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(decoded.value(), json);

    const auto frame = decodeHttpError(
        R"({"type":"error","id":"h","code":"overloaded","message":"too many sessions; retry after 5 s"})");
    ASSERT_TRUE(frame) << frame.error().message;
    EXPECT_EQ(frame.value(), (HttpError { "overloaded", "too many sessions; retry after 5 s" }));
}

TEST(Envelopes, AnswersThatAreNoErrorAreTypedErrors)
{
    EXPECT_EQ(decodeHttpError("<html>502 Bad Gateway</html>").error().code, ErrorCode::BadJson);
    EXPECT_EQ(decodeHttpError("[]").error().code, ErrorCode::BadJson);
    EXPECT_EQ(decodeHttpError(R"({"message":"x"})").error().code, ErrorCode::BadFrame);
    EXPECT_EQ(decodeHttpError(R"({"error":"x","message":7})").error().code, ErrorCode::BadFrame);
}

TEST(Envelopes, DeepNestingIsRefusedBeforeParsing)
{
    // 100,000 levels inside one command of a batch: refused from a scan, not by recursing.
    const std::string deep = "[{\"type\":\"send\",\"x\":" + std::string(100000, '[')
        + std::string(100000, ']') + "}]";
    const auto decoded = decodeCommands(deep);
    ASSERT_FALSE(decoded);
    EXPECT_EQ(decoded.error().code, ErrorCode::BadJson);
    EXPECT_FALSE(decodePollBatch("{\"events\":[" + std::string(50, '[') + "]}"));
}

} // namespace
