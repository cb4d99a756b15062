// RequestSniffer: a table of good and bad request heads.
#include "http/requestsniffer.h"

#include <gtest/gtest.h>

namespace parley::server {
namespace {

using Verdict = RequestSniffer::Verdict;

constexpr const char* kUpgrade = "GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                                 "Connection: Upgrade\r\nSec-WebSocket-Key: "
                                 "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

struct Case {
    const char* name;
    QByteArray input;
    Verdict verdict;
    int status = 0;
    const char* code = "";
};

class RequestSnifferTable : public ::testing::TestWithParam<Case> { };

TEST_P(RequestSnifferTable, Decides)
{
    const Case& c = GetParam();
    const RequestSniffer::Decision d = RequestSniffer::inspect(c.input, 8192);
    EXPECT_EQ(int(d.verdict), int(c.verdict));
    EXPECT_EQ(d.status, c.status);
    EXPECT_EQ(d.code, QByteArray(c.code));
    if (c.verdict == Verdict::Reject) {
        EXPECT_FALSE(d.message.isEmpty());
    }
}

INSTANTIATE_TEST_SUITE_P(Table, RequestSnifferTable,
    ::testing::Values(
        // Good.
        Case { "Health", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", Verdict::Health },
        Case { "HealthHttp10NoHeaders", "GET /healthz HTTP/1.0\r\n\r\n", Verdict::Health },
        Case { "HealthWithQuery", "GET /healthz?verbose=1 HTTP/1.1\r\nHost: x\r\n\r\n",
            Verdict::Health },
        Case { "Upgrade", kUpgrade, Verdict::WebSocket },
        Case { "UpgradeCaseInsensitive",
            "GET /v1/ws HTTP/1.1\r\nHost: x\r\nupgrade: WebSocket\r\nconnection: keep-alive, "
            "Upgrade\r\n\r\n",
            Verdict::WebSocket },
        Case { "UpgradeWithFrameBytesAfterHead",
            QByteArray(kUpgrade) + QByteArray("\x81\x85garbage", 9), Verdict::WebSocket },
        // Incomplete: wait.
        Case { "Empty", "", Verdict::NeedMore }, Case { "PartialMethod", "GE", Verdict::NeedMore },
        Case { "PartialHead", "GET /healthz HTTP/1.1\r\nHost: x\r\n", Verdict::NeedMore },
        // Bad.
        Case { "Garbage", "\x16\x03\x01\x02\x00", Verdict::Reject, 400, "bad_request" },
        Case { "GarbageEarlyWithoutEnd", "hello there", Verdict::Reject, 400, "bad_request" },
        Case { "LongMethod", "GETGETGETGETGETGETGET", Verdict::Reject, 400, "bad_request" },
        Case { "NotFound", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", Verdict::Reject, 404,
            "not_found" },
        Case { "RootNotFound", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", Verdict::Reject, 404,
            "not_found" },
        Case { "PostHealth", "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
            Verdict::Reject, 405, "method_not_allowed" },
        Case { "PostWs", "POST /v1/ws HTTP/1.1\r\nHost: x\r\n\r\n", Verdict::Reject, 405,
            "method_not_allowed" },
        Case { "WsWithoutUpgrade", "GET /v1/ws HTTP/1.1\r\nHost: x\r\n\r\n", Verdict::Reject, 400,
            "upgrade_required" },
        Case { "WsUpgradeToOther",
            "GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
            Verdict::Reject, 400, "upgrade_required" },
        Case { "BadVersion", "GET /healthz HTTP/2.0\r\n\r\n", Verdict::Reject, 400, "bad_request" },
        Case { "NoVersion", "GET /healthz\r\n\r\n", Verdict::Reject, 400, "bad_request" },
        Case { "TooManyParts", "GET /healthz x HTTP/1.1\r\nHost: x\r\n\r\n", Verdict::Reject, 400,
            "bad_request" },
        Case { "AbsoluteUri", "GET http://x/healthz HTTP/1.1\r\nHost: x\r\n\r\n", Verdict::Reject,
            400, "bad_request" },
        Case { "OptionsStar", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", Verdict::Reject, 400,
            "bad_request" },
        // Line ends: CRLF only, and anything else is refused as soon as it is seen.
        Case { "BareLf", "GET /healthz HTTP/1.1\nHost: x\r\n\r\n", Verdict::Reject, 400,
            "bad_request" },
        Case { "BareLfHead", "GET /healthz HTTP/1.1\nHost: x\n\n", Verdict::Reject, 400,
            "bad_request" },
        Case { "BareLfIncompleteHead", "GET /healthz HTTP/1.1\n", Verdict::Reject, 400,
            "bad_request" },
        Case { "BareLfInAHeader", "GET /healthz HTTP/1.1\r\nHost: x\n", Verdict::Reject, 400,
            "bad_request" },
        Case { "BareCr", "GET /healthz HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", Verdict::Reject, 400,
            "bad_request" },
        Case { "CrAtTheEndWaitsForItsLf", "GET /healthz HTTP/1.1\r", Verdict::NeedMore },
        Case { "LfInTheBodyIsData",
            "POST /v1/commands HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n\n\r\n",
            Verdict::Commands },
        // Host (RFC 9112 3.2): required in HTTP/1.1, at most one, well-formed.
        Case { "Http11WithoutHost", "GET /healthz HTTP/1.1\r\n\r\n", Verdict::Reject, 400,
            "bad_request" },
        Case { "Http11SessionWithoutHost",
            "POST /v1/session HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", Verdict::Reject, 400,
            "bad_request" },
        Case { "UpgradeWithoutHost",
            "GET /v1/ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            Verdict::Reject, 400, "bad_request" },
        Case { "TwoHosts", "GET /healthz HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", Verdict::Reject,
            400, "bad_request" },
        Case { "TwoHostsHttp10", "GET /healthz HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n",
            Verdict::Reject, 400, "bad_request" },
        Case { "HostWithSpace", "GET /healthz HTTP/1.1\r\nHost: a b\r\n\r\n", Verdict::Reject, 400,
            "bad_request" },
        Case { "HostWithPath", "GET /healthz HTTP/1.1\r\nHost: a/b\r\n\r\n", Verdict::Reject, 400,
            "bad_request" },
        Case { "HostWithPort", "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
            Verdict::Health },
        Case { "HostIpv6", "GET /healthz HTTP/1.1\r\nHOST: [::1]:8080\r\n\r\n", Verdict::Health },
        Case { "HostEmpty", "GET /healthz HTTP/1.1\r\nHost:\r\n\r\n", Verdict::Health },
        // Routed to the handshake, which refuses an upgrade that is not HTTP/1.1 (handshake_test).
        Case { "UpgradeHttp10",
            "GET /v1/ws HTTP/1.0\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            Verdict::WebSocket },
        Case { "HeaderWithoutColon", "GET /healthz HTTP/1.1\r\nHost: x\r\nHost x\r\n\r\n",
            Verdict::Reject, 400, "bad_request" },
        Case { "HeaderBadName", "GET /healthz HTTP/1.1\r\nHost: x\r\nHo st: x\r\n\r\n",
            Verdict::Reject, 400, "bad_request" },
        Case { "HeaderTooLarge",
            "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + QByteArray(9000, 'a'), Verdict::Reject,
            431, "header_too_large" },
        // HTTP transports.
        Case { "OpenSession", "POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
            Verdict::OpenSession },
        Case { "Commands", "POST /v1/commands HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
            Verdict::Commands },
        Case { "EventStream", "GET /v1/sse?token=0.1.ab HTTP/1.1\r\nHost: x\r\n\r\n",
            Verdict::EventStream },
        Case { "Poll", "GET /v1/poll?cursor=4 HTTP/1.1\r\nHost: x\r\n\r\n", Verdict::Poll },
        Case { "EndSession",
            "DELETE /v1/session HTTP/1.1\r\nHost: x\r\nX-Parley-Session: 0.1.ab\r\n\r\n",
            Verdict::EndSession },
        Case { "GetSession", "GET /v1/session HTTP/1.1\r\nHost: x\r\n\r\n", Verdict::Reject, 405,
            "method_not_allowed" },
        Case { "PutSession", "PUT /v1/session HTTP/1.1\r\nHost: x\r\n\r\n", Verdict::Reject, 405,
            "method_not_allowed" },
        Case { "PostSse", "POST /v1/sse HTTP/1.1\r\nHost: x\r\n\r\n", Verdict::Reject, 405,
            "method_not_allowed" },
        Case { "Chunked",
            "POST /v1/commands HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
            Verdict::Reject, 411, "length_required" },
        Case { "NegativeLength",
            "POST /v1/commands HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", Verdict::Reject,
            400, "bad_request" },
        Case { "ConflictingLengths",
            "POST /v1/commands HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: "
            "2\r\n\r\n",
            Verdict::Reject, 400, "bad_request" },
        Case { "BodyTooLarge",
            "POST /v1/commands HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n",
            Verdict::Reject, 413, "body_too_large" },
        // Bodies are bounded per endpoint from the head (see the limits test below): nothing
        // for the GET and DELETE endpoints.
        Case { "SseWithBody", "GET /v1/sse HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n",
            Verdict::Reject, 413, "body_too_large" },
        Case { "PollWithBody", "GET /v1/poll HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n",
            Verdict::Reject, 413, "body_too_large" },
        Case { "EndSessionWithBody",
            "DELETE /v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", Verdict::Reject,
            413, "body_too_large" },
        Case { "PollEmptyBody", "GET /v1/poll HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
            Verdict::Poll },
        // ?token= only where a browser cannot send a header: GET /v1/sse.
        Case { "CommandsQueryToken",
            "POST /v1/commands?token=0.1.ab HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n",
            Verdict::Reject, 401, "unauthorized" },
        Case { "CommandsQueryTokenBesideHeader",
            "POST /v1/commands?token=0.1.ab HTTP/1.1\r\nHost: x\r\nX-Parley-Session: "
            "0.1.ab\r\n\r\n",
            Verdict::Reject, 401, "unauthorized" },
        Case { "PollQueryToken", "GET /v1/poll?cursor=1&token=0.1.ab HTTP/1.1\r\nHost: x\r\n\r\n",
            Verdict::Reject, 401, "unauthorized" },
        Case { "EndSessionQueryToken",
            "DELETE /v1/session?token=0.1.ab HTTP/1.1\r\nHost: x\r\n\r\n", Verdict::Reject, 401,
            "unauthorized" }),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(RequestSnifferTest, ReportsTheHeadLength)
{
    const QByteArray head = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    EXPECT_EQ(RequestSniffer::inspect(head + "trailing").headBytes, head.size());
}

TEST(RequestSnifferTest, ExtractsWhatTheHttpTransportsNeed)
{
    const auto d
        = RequestSniffer::inspect("GET /v1/sse?token=1.2.ab&cursor=9 HTTP/1.1\r\nHost: x\r\n"
                                  "Last-Event-ID: 7\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(d.sessionToken, QByteArray("1.2.ab"));
    EXPECT_EQ(d.cursor, QByteArray("7")); // the header wins over the query
    EXPECT_FALSE(d.keepAlive);
    const auto post
        = RequestSniffer::inspect("POST /v1/commands HTTP/1.1\r\nHost: x\r\n"
                                  "X-Parley-Session: 0.3.ff\r\nContent-Length: 12\r\n\r\n");
    EXPECT_EQ(post.sessionToken, QByteArray("0.3.ff"));
    EXPECT_EQ(post.contentLength, 12);
    EXPECT_TRUE(post.keepAlive);
    EXPECT_FALSE(RequestSniffer::inspect("GET /v1/poll HTTP/1.0\r\n\r\n").keepAlive);
}

TEST(RequestSnifferTest, QueryTokensCountOnTheEventStreamOnly)
{
    EXPECT_EQ(RequestSniffer::inspect("GET /v1/sse?token=1.2.ab HTTP/1.1\r\nHost: x\r\n\r\n")
                  .sessionToken,
        QByteArray("1.2.ab"));
    // The header wins over the query.
    EXPECT_EQ(RequestSniffer::inspect("GET /v1/sse?token=1.2.ab HTTP/1.1\r\nHost: x\r\n"
                                      "X-Parley-Session: 3.4.cd\r\n\r\n")
                  .sessionToken,
        QByteArray("3.4.cd"));
}

TEST(RequestSnifferTest, BodyLimitsArePerEndpoint)
{
    RequestSniffer::Limits limits;
    limits.maxSessionBodyBytes = 100;
    limits.maxCommandsBodyBytes = 1000;
    const auto post = [&](const char* path, int length) {
        return RequestSniffer::inspect(QByteArray("POST ") + path
                + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + QByteArray::number(length)
                + "\r\n\r\n",
            limits);
    };
    EXPECT_EQ(int(post("/v1/session", 100).verdict), int(Verdict::OpenSession));
    EXPECT_EQ(post("/v1/session", 101).status, 413);
    EXPECT_EQ(int(post("/v1/commands", 1000).verdict), int(Verdict::Commands));
    EXPECT_EQ(post("/v1/commands", 1001).status, 413);
    EXPECT_EQ(post("/v1/commands", 1001).code, QByteArray("body_too_large"));
}

TEST(RequestSnifferTest, BareLfIsRefusedAsSoonAsItArrives)
{
    // Fed byte by byte, as a slow client sends it: waiting until the bytes stop would leave the
    // connection to the header timeout.
    const QByteArray head = "GET /healthz HTTP/1.1\nHost: x\n\n";
    const qsizetype firstLf = head.indexOf('\n');
    for (qsizetype n = 1; n <= head.size(); ++n) {
        const RequestSniffer::Decision d = RequestSniffer::inspect(head.first(n));
        if (n <= firstLf) {
            EXPECT_EQ(int(d.verdict), int(Verdict::NeedMore)) << n;
        } else {
            EXPECT_EQ(int(d.verdict), int(Verdict::Reject)) << n;
            EXPECT_EQ(d.status, 400) << n;
        }
    }
}

TEST(RequestSnifferTest, HeadLimitIsExact)
{
    QByteArray head = "GET /healthz HTTP/1.1\r\nHost: x\r\nX: ";
    head += QByteArray(100 - head.size() - 4, 'a');
    head += "\r\n\r\n";
    ASSERT_EQ(head.size(), 100);
    EXPECT_EQ(int(RequestSniffer::inspect(head, 100).verdict), int(Verdict::Health));
    EXPECT_EQ(RequestSniffer::inspect(head, 99).status, 431);
}

} // namespace
} // namespace parley::server
