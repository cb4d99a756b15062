// Codec tests, table-driven (no sockets): every frame round-trips, and every malformed input is
// rejected with the right typed error instead of throwing or crashing.
#include <protocol/codec.h>

#include <gtest/gtest.h>

#include <string>

using namespace parley::protocol;

namespace {

Message sampleMessage(std::uint64_t seq)
{
    return Message { "lobby", "e1f2", seq, "m-" + std::to_string(seq), "alice", "c-" + std::to_string(seq),
        "hello \"world\" \xc3\xa9\n", 1700000000000 + std::int64_t(seq) };
}

template <typename Variant, typename Decode>
void expectRoundTrip(const Variant& frame, Decode decode)
{
    const std::string bytes = encode(frame);
    const auto decoded = decode(bytes, DecodeLimits {});
    ASSERT_TRUE(decoded.ok()) << bytes << " -> " << decoded.error().message;
    EXPECT_EQ(decoded.value(), frame) << bytes;
    EXPECT_EQ(frameType(decoded.value()), frameType(frame));
}

} // namespace

TEST(CodecTest, EveryClientFrameRoundTrips)
{
    const ClientFrame frames[] = {
        Hello { "r1", "alice", "secret", { { "lobby", { "e1", 42 } }, { "dev", { "e2", 0 } } } },
        Hello { "", "bob", "", {} },
        Join { "r2", "lobby" },
        Leave { "r3", "lobby" },
        Send { "r4", "lobby", "c-1", "hi there" },
        Send { "", "a.b-c_d", "c-2", std::string(16 * 1024, 'x') },
        Heartbeat { "r5" },
        Heartbeat { "" },
        HistoryRequest { "r6", "lobby", 100, std::nullopt, 20 },
        HistoryRequest { "r7", "lobby", std::nullopt, 5, 500 },
        HistoryRequest { "", "lobby", std::nullopt, std::nullopt, 50 },
        PresenceQuery { "p1", { "alice", "bob" } },
        PresenceQuery { "", { "carol" } },
        Direct { "d1", "bob", "c-9", "psst" },
    };
    for (const auto& frame : frames) {
        expectRoundTrip(frame, decodeClientFrame);
    }
}

TEST(CodecTest, EveryServerFrameRoundTrips)
{
    const ServerFrame frames[] = {
        Welcome { "r1", "s-1", "node-a", "alice", 30000, 1, { 65536, 16384, 100, 500 } },
        Joined { "r2", "lobby", { "e1", 7 }, { "alice", "bob" } },
        Joined { "", "lobby", { "e1", 0 }, {} },
        Left { "r3", "lobby" },
        sampleMessage(1),
        Ack { "r4", "c-1", "lobby", "e1", 8, "m-8", 1700000000000, false },
        Ack { "", "c-1", "lobby", "e1", 8, "m-8", 1700000000000, true },
        Recovered { "lobby", { "e1", 9 }, true, false, 0, 0 },
        Recovered { "lobby", { "e1", 90 }, false, false, 3, 40 },
        Recovered { "lobby", { "e9", 2 }, false, true, 0, 0 },
        Recovered { "lobby", { "e1", 3 }, false, false, 0, 0, true },
        HistoryPage { "r5", "lobby", "e1", { sampleMessage(1), sampleMessage(2) }, true },
        HistoryPage { "", "lobby", "e1", {}, false },
        HeartbeatAck { "r6", 1700000000000 },
        Presence { "lobby", "bob", true },
        Presence { "lobby", "bob", false },
        Error { "r7", ErrorCode::NotJoined, "join the room first", "c-3" },
        Error { "", ErrorCode::Overloaded, "try later", "" },
        UserPresence { "bob", true },
        UserPresence { "bob", false },
        PresenceState { "p1", { { "alice", true }, { "bob", false } } },
        PresenceState { "", {} },
        DirectMessage { "alice", "bob", "c-9", "m-1", "psst", 1700000000000 },
        DirectMessage { "alice", "bob", "", "m-2", "no client id", 5 },
        DirectAck { "d1", "c-9", "bob", "m-1", 1700000000000 },
        Error { "d2", ErrorCode::UserOffline, "bob has no live session", "c-10" },
    };
    for (const auto& frame : frames) {
        expectRoundTrip(frame, decodeServerFrame);
    }
}

TEST(CodecTest, EncodesTheDocumentedWireFormat)
{
    EXPECT_EQ(encode(ClientFrame { Send { "r1", "lobby", "c-1", "hi" } }),
        R"({"type":"send","id":"r1","room":"lobby","client_id":"c-1","body":"hi"})");
    EXPECT_EQ(encode(ServerFrame { Error { "r1", ErrorCode::BodyTooLarge, "too big", "c-1" } }),
        R"({"type":"error","id":"r1","code":"body_too_large","message":"too big","retryable":false,"client_id":"c-1"})");
    EXPECT_EQ(encode(ServerFrame { Ack { "", "c-1", "lobby", "e1", 3, "m3", 5, false } }),
        R"({"type":"ack","client_id":"c-1","room":"lobby","epoch":"e1","seq":3,"msg_id":"m3","ts":5})");
    EXPECT_EQ(encode(ClientFrame { PresenceQuery { "p1", { "alice", "bob" } } }),
        R"({"type":"presence_query","id":"p1","users":["alice","bob"]})");
    EXPECT_EQ(encode(ServerFrame { PresenceState { "p1", { { "alice", true } } } }),
        R"({"type":"presence_state","id":"p1","users":[{"user":"alice","online":true}]})");
    EXPECT_EQ(encode(ServerFrame { UserPresence { "bob", false } }),
        R"({"type":"user_presence","user":"bob","online":false})");
}

TEST(CodecTest, UnknownFieldsAreIgnored)
{
    const auto decoded = decodeClientFrame(R"({"type":"join","room":"lobby","future":{"x":[1,2]}})");
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(std::get<Join>(decoded.value()).room, "lobby");
}

TEST(CodecTest, ErrorCodeNamesAreStableAndInvertible)
{
    for (const auto code : { ErrorCode::BadJson, ErrorCode::BadFrame, ErrorCode::UnknownType,
             ErrorCode::FrameTooLarge, ErrorCode::BodyTooLarge, ErrorCode::EmptyBody,
             ErrorCode::BadRoom, ErrorCode::NotJoined, ErrorCode::TooManyRooms,
             ErrorCode::HelloRequired, ErrorCode::AlreadyWelcomed, ErrorCode::Unauthorized,
             ErrorCode::RateLimited, ErrorCode::Overloaded, ErrorCode::Unavailable,
             ErrorCode::Internal, ErrorCode::UserOffline }) {
        EXPECT_EQ(errorCodeFromName(errorCodeName(code)), code) << errorCodeName(code);
    }
    EXPECT_EQ(errorCodeName(ErrorCode::BodyTooLarge), "body_too_large");
    EXPECT_FALSE(errorCodeFromName("no_such_code").has_value());
    EXPECT_TRUE(isRetryable(ErrorCode::Overloaded));
    EXPECT_FALSE(isRetryable(ErrorCode::Unauthorized));
    EXPECT_FALSE(isRetryable(ErrorCode::BadJson));
}

TEST(CodecTest, ServerErrorWithUnknownCodeStillDecodes)
{
    const auto decoded = decodeServerFrame(R"({"type":"error","code":"from_the_future","message":"x"})");
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(std::get<Error>(decoded.value()).code, ErrorCode::Internal);
}

// ------------------------------------------------------------------------------ malformed input

struct MalformedCase {
    const char* name;
    std::string bytes;
    ErrorCode expected;
    std::string expectedId = {};
    std::string expectedClientId = {};
};

class MalformedClientFrame : public ::testing::TestWithParam<MalformedCase> { };

TEST_P(MalformedClientFrame, IsRejectedWithTheRightError)
{
    DecodeLimits limits;
    limits.maxFrameBytes = 4096;
    limits.maxBodyBytes = 64;
    const auto& c = GetParam();
    const auto decoded = decodeClientFrame(c.bytes, limits);
    ASSERT_FALSE(decoded.ok()) << c.bytes;
    EXPECT_EQ(errorCodeName(decoded.error().code), errorCodeName(c.expected)) << decoded.error().message;
    EXPECT_FALSE(decoded.error().message.empty());
    EXPECT_EQ(decoded.error().id, c.expectedId);
    EXPECT_EQ(decoded.error().clientId, c.expectedClientId);
}

INSTANTIATE_TEST_SUITE_P(Table, MalformedClientFrame,
    ::testing::Values(
        MalformedCase { "empty", "", ErrorCode::BadJson },
        MalformedCase { "garbage", "\x01\x02\xff garbage", ErrorCode::BadJson },
        MalformedCase { "truncated", R"({"type":"join","room":"lo)", ErrorCode::BadJson },
        MalformedCase { "trailing_garbage", R"({"type":"heartbeat"} x)", ErrorCode::BadJson },
        MalformedCase { "array", R"([{"type":"join"}])", ErrorCode::BadJson },
        MalformedCase { "string", R"("join")", ErrorCode::BadJson },
        MalformedCase { "number", "42", ErrorCode::BadJson },
        MalformedCase { "null", "null", ErrorCode::BadJson },
        MalformedCase { "invalid_utf8", "{\"type\":\"send\",\"room\":\"a\",\"client_id\":\"c\",\"body\":\"\xc3\x28\"}", ErrorCode::BadJson },
        MalformedCase { "deep_nesting", std::string(2000, '[') + std::string(2000, ']'), ErrorCode::BadJson },
        MalformedCase { "deep_nesting_in_field", R"({"type":"heartbeat","x":)" + std::string(100, '[') + std::string(100, ']') + "}", ErrorCode::BadJson },
        MalformedCase { "oversize_frame", R"({"type":"heartbeat","pad":")" + std::string(5000, 'x') + "\"}", ErrorCode::FrameTooLarge },
        MalformedCase { "missing_type", R"({"id":"r1","room":"lobby"})", ErrorCode::BadFrame, "r1" },
        MalformedCase { "type_not_string", R"({"type":7})", ErrorCode::BadFrame },
        MalformedCase { "unknown_type", R"({"type":"dance","id":"r2"})", ErrorCode::UnknownType, "r2" },
        MalformedCase { "server_type_from_client", R"({"type":"welcome"})", ErrorCode::UnknownType },
        MalformedCase { "id_not_string", R"({"type":"heartbeat","id":5})", ErrorCode::BadFrame },
        MalformedCase { "id_too_long", R"({"type":"heartbeat","id":")" + std::string(65, 'i') + "\"}", ErrorCode::BadFrame },
        MalformedCase { "hello_without_user", R"({"type":"hello","id":"h"})", ErrorCode::BadFrame, "h" },
        MalformedCase { "hello_user_not_string", R"({"type":"hello","user":["a"]})", ErrorCode::BadFrame },
        MalformedCase { "hello_bad_user_name", R"({"type":"hello","user":"a b"})", ErrorCode::Unauthorized },
        MalformedCase { "hello_empty_user_name", R"({"type":"hello","id":"h","user":""})", ErrorCode::Unauthorized, "h" },
        MalformedCase { "hello_user_name_too_long", R"({"type":"hello","id":"h","user":")" + std::string(65, 'u') + "\"}", ErrorCode::Unauthorized, "h" },
        MalformedCase { "hello_resume_room_too_long", R"({"type":"hello","user":"a","resume":[{"room":")" + std::string(65, 'r') + R"(","seq":1}]})", ErrorCode::BadRoom },
        MalformedCase { "hello_resume_not_array", R"({"type":"hello","user":"a","resume":{}})", ErrorCode::BadFrame },
        MalformedCase { "hello_resume_bad_entry", R"({"type":"hello","user":"a","resume":[1]})", ErrorCode::BadFrame },
        MalformedCase { "hello_resume_negative_seq", R"({"type":"hello","user":"a","resume":[{"room":"r","epoch":"e","seq":-1}]})", ErrorCode::BadFrame },
        MalformedCase { "join_without_room", R"({"type":"join","id":"j"})", ErrorCode::BadFrame, "j" },
        MalformedCase { "join_empty_room", R"({"type":"join","room":""})", ErrorCode::BadRoom },
        MalformedCase { "join_room_bad_chars", R"({"type":"join","room":"a/b"})", ErrorCode::BadRoom },
        MalformedCase { "join_room_too_long", R"({"type":"join","room":")" + std::string(65, 'r') + "\"}", ErrorCode::BadRoom },
        MalformedCase { "join_room_far_too_long", R"({"type":"join","id":"j","room":")" + std::string(3000, 'r') + "\"}", ErrorCode::BadRoom, "j" },
        MalformedCase { "leave_room_number", R"({"type":"leave","room":12})", ErrorCode::BadFrame },
        // Errors answering a send (or a direct) name its message whenever its client_id is usable.
        MalformedCase { "send_without_body", R"({"type":"send","id":"s","room":"r","client_id":"c"})", ErrorCode::BadFrame, "s", "c" },
        MalformedCase { "send_empty_body", R"({"type":"send","id":"s","room":"r","client_id":"c","body":""})", ErrorCode::EmptyBody, "s", "c" },
        MalformedCase { "send_oversize_body", R"({"type":"send","id":"s","room":"r","client_id":"c","body":")" + std::string(65, 'b') + "\"}", ErrorCode::BodyTooLarge, "s", "c" },
        MalformedCase { "send_body_not_string", R"({"type":"send","room":"r","client_id":"c","body":{"t":1}})", ErrorCode::BadFrame, "", "c" },
        MalformedCase { "send_bad_room", R"({"type":"send","id":"s","room":"a b","client_id":"c","body":"x"})", ErrorCode::BadRoom, "s", "c" },
        MalformedCase { "send_room_too_long", R"({"type":"send","id":"s","room":")" + std::string(65, 'r') + R"(","client_id":"c","body":"x"})", ErrorCode::BadRoom, "s", "c" },
        MalformedCase { "send_without_room", R"({"type":"send","id":"s","client_id":"c","body":"x"})", ErrorCode::BadFrame, "s", "c" },
        MalformedCase { "send_bad_id", R"({"type":"send","id":7,"room":"r","client_id":"c","body":""})", ErrorCode::BadFrame, "", "c" },
        MalformedCase { "send_without_client_id", R"({"type":"send","room":"r","body":"x"})", ErrorCode::BadFrame },
        MalformedCase { "send_empty_client_id", R"({"type":"send","room":"r","client_id":"","body":"x"})", ErrorCode::BadFrame },
        MalformedCase { "send_client_id_not_string", R"({"type":"send","room":"r","client_id":5,"body":"x"})", ErrorCode::BadFrame },
        MalformedCase { "send_client_id_too_long", R"({"type":"send","id":"s","room":"r","client_id":")" + std::string(65, 'c') + R"(","body":"x"})", ErrorCode::BadFrame, "s" },
        MalformedCase { "not_a_send_names_no_client_id", R"({"type":"join","id":"j","room":"a b","client_id":"c"})", ErrorCode::BadRoom, "j" },
        MalformedCase { "history_before_and_after", R"({"type":"history","room":"r","before":5,"after":1})", ErrorCode::BadFrame },
        MalformedCase { "history_limit_zero", R"({"type":"history","room":"r","limit":0})", ErrorCode::BadFrame },
        MalformedCase { "history_limit_huge", R"({"type":"history","room":"r","limit":100000})", ErrorCode::BadFrame },
        MalformedCase { "history_limit_float", R"({"type":"history","room":"r","limit":1.5})", ErrorCode::BadFrame },
        MalformedCase { "history_before_string", R"({"type":"history","room":"r","before":"5"})", ErrorCode::BadFrame },
        MalformedCase { "direct_without_to", R"({"type":"direct","id":"d","client_id":"c","body":"x"})", ErrorCode::BadFrame, "d", "c" },
        MalformedCase { "direct_bad_to", R"({"type":"direct","to":"a b","client_id":"c","body":"x"})", ErrorCode::BadFrame, "", "c" },
        MalformedCase { "direct_empty_body", R"({"type":"direct","to":"bob","client_id":"c","body":""})", ErrorCode::EmptyBody, "", "c" },
        MalformedCase { "direct_oversize_body", R"({"type":"direct","to":"bob","client_id":"c","body":")" + std::string(65, 'b') + "\"}", ErrorCode::BodyTooLarge, "", "c" },
        MalformedCase { "direct_without_client_id", R"({"type":"direct","to":"bob","body":"x"})", ErrorCode::BadFrame },
        MalformedCase { "presence_query_without_users", R"({"type":"presence_query","id":"p"})", ErrorCode::BadFrame, "p" },
        MalformedCase { "presence_query_no_names", R"({"type":"presence_query","users":[]})", ErrorCode::BadFrame },
        MalformedCase { "presence_query_bad_name", R"({"type":"presence_query","users":["a b"]})", ErrorCode::BadFrame },
        MalformedCase { "presence_query_not_string", R"({"type":"presence_query","users":[7]})", ErrorCode::BadFrame },
        MalformedCase { "presence_query_101_names", R"({"type":"presence_query","users":[)" + [] {
            std::string names;
            for (int i = 0; i < 101; ++i) {
                names += (i ? ",\"u" : "\"u") + std::to_string(i) + "\"";
            }
            return names;
        }() + "]}", ErrorCode::BadFrame }),
    [](const ::testing::TestParamInfo<MalformedCase>& info) { return std::string(info.param.name); });

TEST(CodecTest, MalformedServerFramesAreRejected)
{
    const char* cases[] = {
        R"({"type":"message","room":"r"})",
        R"({"type":"message","room":"r","epoch":"e","seq":"1","msg_id":"m","sender":"s","body":"b","ts":1})",
        R"({"type":"ack","client_id":"c"})",
        R"({"type":"history_page","room":"r","epoch":"e","messages":[1]})",
        R"({"type":"history_page","room":"r","epoch":"e","messages":[{"room":"r"}]})",
        R"({"type":"welcome","session":"s","node":"n","user":"u","heartbeat_ms":-5,"protocol":1})",
        R"({"type":"joined","room":"r","last_seq":1,"members":[3]})",
        R"({"type":"presence","room":"r","user":"u","online":"yes"})",
        R"({"type":"user_presence","user":"u"})",
        R"({"type":"presence_state","users":[{"user":"u"}]})",
        R"({"type":"presence_state","users":["u"]})",
        R"({"type":"error"})",
        R"({"type":"send","room":"r","client_id":"c","body":"b"})",
    };
    for (const char* bytes : cases) {
        const auto decoded = decodeServerFrame(bytes);
        EXPECT_FALSE(decoded.ok()) << bytes;
    }
}

TEST(CodecTest, EncodeNeverThrowsOnInvalidUtf8)
{
    const std::string bytes = encode(ServerFrame { Presence { "r", std::string("\xff\xfe"), true } });
    EXPECT_TRUE(decodeServerFrame(bytes).ok()) << bytes;
}

TEST(CodecTest, NameValidation)
{
    EXPECT_TRUE(isValidRoomName("lobby"));
    EXPECT_TRUE(isValidRoomName("team.dev-ops_2"));
    EXPECT_FALSE(isValidRoomName(""));
    EXPECT_FALSE(isValidRoomName("has space"));
    EXPECT_FALSE(isValidRoomName(std::string(65, 'a')));
    EXPECT_TRUE(isValidUserName(std::string(64, 'a')));
    EXPECT_FALSE(isValidUserName("\xc3\xa9"));
}
